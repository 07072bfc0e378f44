#include "engine/pipeline.h"

#include <algorithm>

#include "exec/filter.h"
#include "exec/hash_aggregate.h"
#include "exec/join/asof_join.h"
#include "exec/join/hash_join.h"
#include "exec/project.h"
#include "exec/terminal.h"
#include "exec/topn.h"
#include "exec/union_all.h"
#include "exec/window.h"

namespace weir {

Operator* ScanInput::Attach(const std::vector<int>& input_columns) {
  adapter.reset();
  if (input_columns == projection) return entry;
  std::vector<int> picks;
  for (int c : projection) {
    auto it = std::find(input_columns.begin(), input_columns.end(), c);
    WEIR_CHECK(it != input_columns.end());
    picks.push_back(static_cast<int>(it - input_columns.begin()));
  }
  std::vector<Field> fields;
  for (int c : projection) fields.push_back(relation_schema->field(static_cast<size_t>(c)));
  adapter = std::make_unique<ColumnSelectOperator>(std::move(picks), std::make_shared<Schema>(std::move(fields)));
  adapter->set_output(entry);
  return adapter.get();
}

bool Pipeline::ReadsRelation(const std::string& lower_name) const {
  for (const auto& s : scans) {
    std::string r = s.relation;
    std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return std::tolower(c); });
    if (r == lower_name) return true;
  }
  return false;
}

std::string Pipeline::Explain(const std::function<std::string(const LogicalPlan&)>& scan_detail) const {
  std::string out;
  std::function<void(const LogicalPlan*, int)> walk = [&](const LogicalPlan* n, int depth) {
    std::string pad(static_cast<size_t>(depth) * 2, ' ');
    if (n->kind == PlanKind::kScan) {
      std::string cols;
      for (size_t i = 0; i < n->projection.size(); ++i) {
        if (i) cols += ", ";
        cols += n->relation_schema->field(static_cast<size_t>(n->projection[i])).name;
      }
      out += pad + fmt::format("Scan {} {} [{}]{}", ObjectKindName(n->relation_kind), n->relation, cols,
                               scan_detail ? scan_detail(*n) : "") + "\n";
      return;
    }
    for (const auto& [node, op] : node_ops)
      if (node == n) out += pad + op->Describe() + "\n";
    for (const auto& in : n->inputs) walk(in.get(), depth + 1);
  };
  out += terminal->Describe() + "\n";
  walk(plan.get(), 1);
  return out;
}

std::string_view OperatorKind(const Operator& op) {
  if (dynamic_cast<const HashAggregateOperator*>(&op)) return "HashAggregate";
  if (dynamic_cast<const HashJoinOperator*>(&op)) return "HashJoin";
  if (dynamic_cast<const AsofJoinOperator*>(&op)) return "AsofJoin";
  if (dynamic_cast<const TopNOperator*>(&op)) return "TopN";
  if (dynamic_cast<const WindowOperator*>(&op)) return "Window";
  if (dynamic_cast<const UnionAllOperator*>(&op)) return "UnionAll";
  if (dynamic_cast<const FilterOperator*>(&op)) return "Filter";
  if (dynamic_cast<const ProjectOperator*>(&op)) return "Project";
  if (dynamic_cast<const SortOperator*>(&op)) return "Sort";
  if (dynamic_cast<const LimitOperator*>(&op)) return "Limit";
  if (dynamic_cast<const ConsolidateOperator*>(&op)) return "Consolidate";
  if (dynamic_cast<const MaterializeOperator*>(&op)) return "Materialize";
  if (dynamic_cast<const SinkOperator*>(&op)) return "Sink";
  if (dynamic_cast<const CollectOperator*>(&op)) return "Collect";
  if (dynamic_cast<const ColumnSelectOperator*>(&op)) return "ColumnSelect";
  if (dynamic_cast<const FanOutOperator*>(&op)) return "FanOut";
  return "Operator";
}

Status Pipeline::SnapshotState(StateWriter* w) const {
  w->Begin("pipeline");
  w->U64(ops.size());
  for (const auto& op : ops) {
    w->Begin(OperatorKind(*op));
    w->I64(op->watermark_us());
    WEIR_RETURN_IF_ERROR(op->SnapshotState(w));
    w->End();
  }
  w->End();
  return Status::OK();
}

Status Pipeline::RestoreState(StateReader* r) {
  r->Begin("pipeline");
  const uint64_t n = r->U64();
  if (!r->ok()) return r->status();
  if (n != ops.size()) {
    return DataError("state does not match the pipeline: it has {} operators, checkpoint has {}", ops.size(), n);
  }
  for (size_t i = 0; i < ops.size(); ++i) {
    Operator& op = *ops[i];
    const std::string_view kind = OperatorKind(op);
    // The section by hand, to name both kinds on a mismatch: tag, length, body.
    const std::string_view tag = r->Bytes();
    const uint64_t len = r->U64();
    if (!r->ok()) return r->status();
    if (tag != kind) {
      return DataError("state does not match the pipeline: operator {} is {}, checkpoint has {}", i, kind, tag);
    }
    if (len > r->remaining()) {
      r->Fail(fmt::format("operator {} ({}) section is longer than the snapshot", i, kind));
      return r->status();
    }
    StateReader sub(r->Raw(static_cast<size_t>(len)), fmt::format("operator {} ({})", i, kind));
    const int64_t watermark_us = sub.I64();
    Status st = sub.ok() ? op.RestoreState(&sub) : sub.status();
    if (st.ok() && !sub.ok()) st = sub.status();
    if (st.ok() && !sub.at_end()) {
      sub.Fail("state not read to its end");
      st = sub.status();
    }
    if (!st.ok()) return st.code() == StatusCode::kDataError ? st : st.WithPrefix(fmt::format("operator {} ({}): ", i, kind));
    op.RestoreWatermark(watermark_us);
  }
  r->End();
  return r->status();
}

namespace {

// True when every scan under `n` reads a table: such an input never carries a watermark.
bool ReadsOnlyTables(const LogicalPlan& n) {
  if (n.kind == PlanKind::kScan) return n.relation_kind == ObjectKind::kTable;
  for (const auto& in : n.inputs)
    if (!ReadsOnlyTables(*in)) return false;
  return true;
}

class Builder {
 public:
  Builder(Pipeline* p, const LateSinkResolver& late_sinks, const StateBackendOptions& state)
      : p_(p), late_sinks_(late_sinks), state_(state) {}

  // Builds the operators of `n`'s subtree, sending its output to `downstream`.
  Status Build(const LogicalPlan* n, Operator* downstream) {
    if (n->kind == PlanKind::kScan) {
      ScanInput s;
      s.node = n;
      s.relation = n->relation;
      s.kind = n->relation_kind;
      s.relation_schema = n->relation_schema;
      s.projection = n->projection;
      s.entry = downstream;
      p_->scans.push_back(std::move(s));
      return Status::OK();
    }
    if (n->kind == PlanKind::kUnionAll) {
      auto u = std::make_unique<UnionAllOperator>(n->inputs.size());
      u->set_output(downstream);
      UnionAllOperator* raw = u.get();
      Own(n, std::move(u));
      for (size_t i = 0; i < n->inputs.size(); ++i) WEIR_RETURN_IF_ERROR(Build(n->inputs[i].get(), raw->input(i)));
      return Status::OK();
    }
    if (n->kind == PlanKind::kJoin && n->asof) {
      AsofJoinOptions o;
      o.left_outer = n->join_kind == JoinKind::kLeft;
      o.left_schema = n->inputs[0]->schema;
      o.right_schema = n->inputs[1]->schema;
      o.left_keys = n->left_keys;
      o.right_keys = n->right_keys;
      o.left_time = n->asof_left_time;
      o.right_time = n->asof_right_time;
      o.strict = n->asof_strict;
      for (const TimeBound& b : n->inputs[1]->time_bounds)
        if (b.column == o.right_time) o.right_time_bounded = true, o.right_time_offset_us = b.offset_us;
      for (const TimeBound& b : n->inputs[0]->time_bounds)
        if (b.column == o.left_time) o.left_time_bounded = true, o.left_time_offset_us = b.offset_us;
      if (!n->inputs[0]->append_only || !n->inputs[1]->append_only)
        return NotSupported("ASOF JOIN needs append-only inputs (not a changelog view)");
      WEIR_ASSIGN_OR_RETURN(auto join, AsofJoinOperator::Make(std::move(o)));
      join->set_output(downstream);
      AsofJoinOperator* raw = join.get();
      Own(n, std::move(join));
      WEIR_RETURN_IF_ERROR(Build(n->inputs[0].get(), raw->left_input()));
      return Build(n->inputs[1].get(), raw->right_input());
    }
    if (n->kind == PlanKind::kJoin) {
      HashJoinOptions o;
      switch (n->join_kind) {
        case JoinKind::kInner: o.type = JoinType::kInner; break;
        case JoinKind::kLeft: o.type = JoinType::kLeft; break;
        case JoinKind::kRight: o.type = JoinType::kRight; break;
        case JoinKind::kFull: o.type = JoinType::kFull; break;
        case JoinKind::kSemi: o.type = JoinType::kLeftSemi; break;
        case JoinKind::kAnti: o.type = JoinType::kLeftAnti; break;
      }
      o.left_schema = n->inputs[0]->schema;
      o.right_schema = n->inputs[1]->schema;
      o.left_keys = n->left_keys;
      o.right_keys = n->right_keys;
      o.residual = n->residual;
      o.left_append_only = n->inputs[0]->append_only;
      o.right_append_only = n->inputs[1]->append_only;
      o.state_size_max_bytes = n->state_size_max_bytes;
      o.lookup = n->lookup;
      o.left_expiry = {n->left_expiry.column, n->left_expiry.offset_us};
      o.right_expiry = {n->right_expiry.column, n->right_expiry.offset_us};
      o.left_watermark_ignored = ReadsOnlyTables(*n->inputs[0]);
      o.right_watermark_ignored = ReadsOnlyTables(*n->inputs[1]);
      WEIR_ASSIGN_OR_RETURN(auto join, HashJoinOperator::Make(std::move(o)));
      join->set_output(downstream);
      HashJoinOperator* raw = join.get();
      p_->joins.push_back(raw);
      Own(n, std::move(join));
      WEIR_RETURN_IF_ERROR(Build(n->inputs[0].get(), raw->left_input()));
      return Build(n->inputs[1].get(), raw->right_input());
    }
    std::unique_ptr<Operator> op;
    switch (n->kind) {
      case PlanKind::kFilter: op = std::make_unique<FilterOperator>(n->predicate); break;
      case PlanKind::kProject: op = std::make_unique<ProjectOperator>(n->exprs, n->schema); break;
      case PlanKind::kSort: op = std::make_unique<SortOperator>(n->sort_keys, n->schema); break;
      case PlanKind::kLimit: op = std::make_unique<LimitOperator>(n->limit, n->offset); break;
      case PlanKind::kWindow: {
        auto win = std::make_unique<WindowOperator>(n->window, n->schema);
        if (n->late_check) WEIR_RETURN_IF_ERROR(ConfigureLateness(*n, win.get()));
        p_->windows.push_back(win.get());
        op = std::move(win);
        break;
      }
      case PlanKind::kAggregate: {
        WEIR_ASSIGN_OR_RETURN(auto agg, HashAggregateOperator::Make(*n, !n->inputs[0]->append_only, state_));
        p_->aggregates.push_back(agg.get());
        op = std::move(agg);
        break;
      }
      case PlanKind::kTopN: {
        TopNOptions o;
        o.input_schema = n->inputs[0]->schema;
        o.partition_columns = n->partition_columns;
        for (const SortKey& k : n->sort_keys) o.order.push_back({k.expr->column, k.descending, k.nulls_first});
        o.limit = n->limit;
        o.with_row_number = n->with_row_number;
        o.input_append_only = n->inputs[0]->append_only;
        WEIR_ASSIGN_OR_RETURN(op, TopNOperator::Make(std::move(o)));
        break;
      }
      case PlanKind::kScan:
      case PlanKind::kUnionAll:
      case PlanKind::kJoin:
        return Internal("unreachable plan kind");
    }
    op->set_output(downstream);
    Operator* raw = op.get();
    Own(n, std::move(op));
    if ((n->kind == PlanKind::kSort || n->kind == PlanKind::kLimit) && !n->inputs[0]->append_only) {
      // Snapshot ORDER BY / LIMIT over a changelog: settle it into final rows first.
      auto c = std::make_unique<ConsolidateOperator>(n->inputs[0]->schema);
      c->set_output(raw);
      raw = c.get();
      p_->ops.push_back(std::move(c));
    }
    return Build(n->inputs[0].get(), raw);
  }

 private:
  void Own(const LogicalPlan* n, std::unique_ptr<Operator> op) {
    p_->node_ops.push_back({n, op.get()});
    p_->ops.push_back(std::move(op));
  }

  Status ConfigureLateness(const LogicalPlan& n, WindowOperator* win) {
    Operator* late = nullptr;
    const LogicalPlan* scan = n.inputs[0].get();
    if (!n.late_sink.empty()) {
      if (!late_sinks_) return Internal("no late-data sink resolver");
      WEIR_ASSIGN_OR_RETURN(late, late_sinks_(n.late_sink, scan->schema));
    }
    // The source's watermark expression, over the scan's output columns.
    ExprPtr wm;
    if (scan->kind == PlanKind::kScan && scan->relation_watermark_expr) {
      std::vector<int> mapping(scan->relation_schema->num_fields(), -1);
      for (size_t i = 0; i < scan->projection.size(); ++i)
        mapping[static_cast<size_t>(scan->projection[i])] = static_cast<int>(i);
      wm = RemapColumns(scan->relation_watermark_expr, mapping);
    }
    win->EnableLateCheck(n.allowed_lateness_us, wm, late);
    return Status::OK();
  }

  Pipeline* p_;
  const LateSinkResolver& late_sinks_;
  const StateBackendOptions& state_;
};

}  // namespace

Result<std::unique_ptr<Pipeline>> BuildPipeline(PlanPtr plan, std::unique_ptr<Operator> terminal,
                                                const LateSinkResolver& late_sinks,
                                                const StateBackendOptions& state) {
  auto p = std::make_unique<Pipeline>();
  p->plan = plan;
  p->terminal = terminal.get();
  p->ops.push_back(std::move(terminal));
  Builder b(p.get(), late_sinks, state);
  WEIR_RETURN_IF_ERROR(b.Build(plan.get(), p->terminal));
  // Leaf-first order for stats: reverse construction order, terminal last.
  std::reverse(p->ops.begin() + 1, p->ops.end());
  std::rotate(p->ops.begin(), p->ops.begin() + 1, p->ops.end());
  for (size_t i = 0; i < p->ops.size(); ++i) {
    auto* agg = dynamic_cast<HashAggregateOperator*>(p->ops[i].get());
    if (agg && agg->rocksdb_backend()) agg->set_state_name(StateOperatorName(state.name, i));
  }
  return p;
}

}  // namespace weir
