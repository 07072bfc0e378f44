#include "sql/logical_plan.h"

#include <algorithm>
#include <functional>

namespace weir {

bool LogicalPlan::HasSnapshotOnlyNodes() const {
  if (kind == PlanKind::kSort || kind == PlanKind::kLimit) return true;
  for (const auto& in : inputs)
    if (in->HasSnapshotOnlyNodes()) return true;
  return false;
}

std::string LogicalPlan::ToString(int indent) const {
  std::string pad(static_cast<size_t>(indent) * 2, ' ');
  std::string line;
  switch (kind) {
    case PlanKind::kScan: {
      line = fmt::format("Scan {} {} [", ObjectKindName(relation_kind), relation);
      for (size_t i = 0; i < projection.size(); ++i) {
        if (i) line += ", ";
        line += relation_schema->field(static_cast<size_t>(projection[i])).name;
      }
      line += "]";
      break;
    }
    case PlanKind::kFilter:
      line = "Filter " + predicate->ToString();
      break;
    case PlanKind::kProject: {
      line = "Project [";
      for (size_t i = 0; i < exprs.size(); ++i) {
        if (i) line += ", ";
        std::string e = exprs[i]->ToString();
        const std::string& n = schema->field(i).name;
        line += e == n ? e : e + " AS " + n;
      }
      line += "]";
      break;
    }
    case PlanKind::kSort: {
      line = "Sort [";
      for (size_t i = 0; i < sort_keys.size(); ++i) {
        if (i) line += ", ";
        line += sort_keys[i].expr->ToString() + (sort_keys[i].descending ? " DESC" : "");
      }
      line += "]";
      break;
    }
    case PlanKind::kLimit:
      line = fmt::format("Limit {}", limit);
      if (offset) line += fmt::format(" OFFSET {}", offset);
      break;
    case PlanKind::kWindow:
      line = "Window " + window.ToString();
      if (late_check)
        line += fmt::format(" allowed_lateness={}us{}", allowed_lateness_us, late_sink.empty() ? "" : " late_data=" + late_sink);
      break;
    case PlanKind::kUnionAll:
      line = fmt::format("UnionAll ({} inputs)", inputs.size());
      break;
    case PlanKind::kTopN: {
      line = fmt::format("TopN {} per partition of [", limit);
      for (size_t i = 0; i < partition_columns.size(); ++i)
        line += fmt::format("{}${}", i ? ", " : "", partition_columns[i]);
      line += "] order by [";
      for (size_t i = 0; i < sort_keys.size(); ++i)
        line += (i ? ", " : "") + sort_keys[i].expr->ToString() + (sort_keys[i].descending ? " DESC" : "");
      line += "]";
      break;
    }
    case PlanKind::kJoin: {
      line = fmt::format("{}Join {} on", lookup ? "Lookup" : asof ? "Asof" : "", JoinKindName(join_kind));  // keys: left $i = right $(lw + j)
      for (size_t k = 0; k < left_keys.size(); ++k)
        line += fmt::format("{} ${} = ${}", k ? " AND" : "", left_keys[k],
                            static_cast<size_t>(right_keys[k]) + inputs[0]->schema->num_fields());
      if (residual) line += " AND " + residual->ToString();
      if (asof)
        line += fmt::format(" AND ${} {} ${}", asof_left_time, asof_strict ? ">" : ">=",
                            static_cast<size_t>(asof_right_time) + inputs[0]->schema->num_fields());
      if (left_expiry.enabled())
        line += fmt::format(" [left state expires when right watermark > ${} + {}us]", left_expiry.column,
                            left_expiry.offset_us);
      if (right_expiry.enabled())
        line += fmt::format(" [right state expires when left watermark > ${} + {}us]",
                            static_cast<size_t>(right_expiry.column) + inputs[0]->schema->num_fields(),
                            right_expiry.offset_us);
      break;
    }
    case PlanKind::kAggregate: {
      line = "Aggregate [";
      for (size_t i = 0; i < aggregates.size(); ++i) {
        if (i) line += ", ";
        line += aggregates[i].display;
      }
      line += fmt::format("] group by {} keys", group_count);
      break;
    }
  }
  std::string out = pad + line + "\n";
  for (const auto& in : inputs) out += in->ToString(indent + 1);
  return out;
}

std::string_view JoinKindName(JoinKind k) {
  switch (k) {
    case JoinKind::kInner: return "inner";
    case JoinKind::kLeft: return "left";
    case JoinKind::kRight: return "right";
    case JoinKind::kFull: return "full";
    case JoinKind::kSemi: return "semi";
    case JoinKind::kAnti: return "anti";
  }
  return "?";
}

int64_t WindowSpec::LastWindowEnd(int64_t ts) const {
  switch (kind) {
    case WindowKind::kTumble:
    case WindowKind::kHop: {
      int64_t step = kind == WindowKind::kTumble ? size_us : slide_us;
      int64_t start = ts - ((ts % step) + step) % step;  // floor to the step
      return start + size_us;
    }
    case WindowKind::kSession:
      return ts + gap_us;
  }
  return ts;
}

std::string WindowSpec::ToString() const {
  if (processing_time) {
    return kind == WindowKind::kHop
               ? fmt::format("HOP(PROCTIME(), slide={}us, size={}us)", slide_us, size_us)
               : fmt::format("TUMBLE(PROCTIME(), size={}us)", size_us);
  }
  switch (kind) {
    case WindowKind::kTumble: return fmt::format("TUMBLE(${}, size={}us)", time_column, size_us);
    case WindowKind::kHop:
      return fmt::format("HOP(${}, slide={}us, size={}us)", time_column, slide_us, size_us);
    case WindowKind::kSession: return fmt::format("SESSION(${}, gap={}us)", time_column, gap_us);
  }
  return "?";
}

PlanPtr MakeWindow(PlanPtr input, WindowSpec spec) {
  auto p = std::make_shared<LogicalPlan>();
  p->kind = PlanKind::kWindow;
  std::vector<Field> fields = input->schema->fields();
  fields.push_back({"window_start", DataType::Timestamp(), false});
  fields.push_back({"window_end", DataType::Timestamp(), false});
  p->schema = std::make_shared<Schema>(std::move(fields));
  p->window = spec;
  p->inputs.push_back(std::move(input));
  return p;
}

namespace {

// `e` as a constant interval of fixed length (no months; a day is 24 h, TIMESTAMP having no
// time zone), in µs.
bool FixedIntervalMicros(const Expr& e, int64_t* us) {
  if (e.kind != ExprKind::kLiteral || e.value.is_null || e.type.id != TypeId::kInterval ||
      e.value.iv.months != 0) {
    return false;
  }
  *us = int64_t{e.value.iv.days} * 86'400'000'000LL + e.value.iv.micros;
  return true;
}

// `e` as `column + constant` (a TIMESTAMP column ref, optionally ± a fixed interval).
bool ColumnPlusConstant(const Expr& e, int* column, int64_t* constant_us) {
  if (e.kind == ExprKind::kColumnRef && e.type.id == TypeId::kTimestamp) {
    *column = e.column;
    *constant_us = 0;
    return true;
  }
  if (e.kind != ExprKind::kCall || e.args.size() != 2 || e.type.id != TypeId::kTimestamp) return false;
  const bool add = e.fn.name == "add", sub = e.fn.name == "subtract";
  if (!add && !sub) return false;
  int64_t k;
  if (e.args[0]->kind == ExprKind::kColumnRef && FixedIntervalMicros(*e.args[1], &k)) {
    *column = e.args[0]->column;
    *constant_us = add ? k : -k;
    return true;
  }
  if (add && e.args[1]->kind == ExprKind::kColumnRef && FixedIntervalMicros(*e.args[0], &k)) {
    *column = e.args[1]->column;
    *constant_us = k;
    return true;
  }
  return false;
}

void AddBound(std::vector<TimeBound>* bounds, TimeBound b) {
  for (TimeBound& x : *bounds) {
    if (x.column == b.column) {
      x.offset_us = std::max(x.offset_us, b.offset_us);  // both hold: keep the tighter
      return;
    }
  }
  bounds->push_back(b);
}

const TimeBound* FindBound(const std::vector<TimeBound>& bounds, int column) {
  for (const TimeBound& b : bounds)
    if (b.column == column) return &b;
  return nullptr;
}

// Trimming of side `s` (0 left, 1 right) of join `p`: a kept row r can be dropped once the other
// side's watermark W has passed r[y] + c - d, when the join condition implies
// `other.x <= r.y + c` and the other side's bound says future rows have other.x >= W + d.
// Only append-only sides (a row that is never retracted can be forgotten).
JoinExpiry DeriveJoinExpiry(const LogicalPlan& p, int s) {
  JoinExpiry none;
  const LogicalPlan& own = *p.inputs[static_cast<size_t>(s)];
  const LogicalPlan& other = *p.inputs[static_cast<size_t>(1 - s)];
  if (!own.append_only || other.time_bounds.empty()) return none;
  const int left_width = static_cast<int>(p.inputs[0]->schema->num_fields());
  // Pair-schema column → (side, side column).
  auto side_of = [&](int pair_col) { return pair_col < left_width ? 0 : 1; };
  auto local = [&](int pair_col) { return pair_col < left_width ? pair_col : pair_col - left_width; };
  JoinExpiry best = none;
  // `x_other <= y_own + c` with both sides' columns given in pair-schema indices.
  auto consider = [&](int x_pair, int64_t cx, int y_pair, int64_t cy) {
    if (side_of(x_pair) != 1 - s || side_of(y_pair) != s) return;
    const TimeBound* b = FindBound(other.time_bounds, local(x_pair));
    if (!b) return;
    if (own.schema->field(static_cast<size_t>(local(y_pair))).type.id != TypeId::kTimestamp) return;
    // other.x + cx <= own.y + cy  ⇒  other.x <= own.y + (cy - cx); no match once
    // W + d > own.y + cy - cx.
    JoinExpiry e{local(y_pair), cy - cx - b->offset_us};
    if (!best.enabled()) best = e;
  };
  // Equi-keys: other.k = own.k gives other.k <= own.k.
  for (size_t k = 0; k < p.left_keys.size(); ++k) {
    const int l = p.left_keys[k], r = p.right_keys[k] + left_width;
    if (s == 0) consider(r, 0, l, 0); else consider(l, 0, r, 0);
  }
  if (p.residual) {
    std::vector<ExprPtr> cs;
    SplitConjuncts(p.residual, &cs);
    for (const ExprPtr& c : cs) {
      if (c->kind != ExprKind::kCall || c->args.size() != 2) continue;
      const std::string& f = c->fn.name;
      int a_col, b_col;
      int64_t a_k, b_k;
      if (!ColumnPlusConstant(*c->args[0], &a_col, &a_k) || !ColumnPlusConstant(*c->args[1], &b_col, &b_k)) continue;
      // Normalise to lhs <= rhs (a strict < is conservatively read as <=).
      if (f == "le" || f == "lt" || f == "eq") consider(a_col, a_k, b_col, b_k);
      if (f == "ge" || f == "gt" || f == "eq") consider(b_col, b_k, a_col, a_k);
    }
  }
  return best;
}

}  // namespace

void ComputeStreamProperties(LogicalPlan* p) {
  for (auto& in : p->inputs) ComputeStreamProperties(in.get());
  const LogicalPlan* in = p->inputs.empty() ? nullptr : p->inputs[0].get();
  p->time_bounds.clear();
  switch (p->kind) {
    case PlanKind::kScan: {
      p->append_only = p->relation_append_only;
      p->watermark_column = -1;
      for (size_t i = 0; i < p->projection.size(); ++i) {
        const int rc = p->projection[i];
        if (rc == p->relation_watermark_column) {
          p->watermark_column = static_cast<int>(i);
          AddBound(&p->time_bounds, TimeBound{static_cast<int>(i), 0});
        }
        if (const TimeBound* b = FindBound(p->relation_time_bounds, rc))
          AddBound(&p->time_bounds, TimeBound{static_cast<int>(i), b->offset_us});
      }
      break;
    }
    case PlanKind::kSort:
    case PlanKind::kLimit:
      // Snapshot-only nodes see a consolidated input (the pipeline settles changelogs first).
      p->append_only = true;
      p->watermark_column = in->watermark_column;
      p->time_bounds = in->time_bounds;
      break;
    case PlanKind::kFilter:
      p->append_only = in->append_only;
      p->watermark_column = in->watermark_column;
      p->time_bounds = in->time_bounds;
      break;
    case PlanKind::kWindow: {
      p->append_only = in->append_only;
      p->watermark_column = in->watermark_column;
      p->time_bounds = in->time_bounds;
      // A row at t ≥ W + d lies in windows with start > t - size and end > t.
      const TimeBound* t = FindBound(in->time_bounds, p->window.time_column);
      if (t && p->window.kind != WindowKind::kSession) {
        const int ws = static_cast<int>(in->schema->num_fields());
        AddBound(&p->time_bounds, TimeBound{ws, t->offset_us - p->window.size_us + 1});
        AddBound(&p->time_bounds, TimeBound{ws + 1, t->offset_us + 1});
      }
      break;
    }
    case PlanKind::kProject:
      p->append_only = in->append_only;
      p->watermark_column = -1;
      for (size_t i = 0; i < p->exprs.size(); ++i) {
        if (p->exprs[i]->kind == ExprKind::kColumnRef && p->exprs[i]->column == in->watermark_column &&
            in->watermark_column >= 0 && p->watermark_column < 0) {
          p->watermark_column = static_cast<int>(i);
        }
        int col;
        int64_t k;
        if (ColumnPlusConstant(*p->exprs[i], &col, &k)) {
          if (const TimeBound* b = FindBound(in->time_bounds, col))
            AddBound(&p->time_bounds, TimeBound{static_cast<int>(i), b->offset_us + k});
        }
      }
      break;
    case PlanKind::kAggregate:
      p->append_only = p->emit != AggregateEmit::kOnUpdate;
      p->watermark_column = -1;
      // A closed-window aggregate emits a window once W ≥ end + lateness: rows still to come
      // have window_end > W - lateness (and window_start = window_end - size).
      if (p->emit == AggregateEmit::kOnWindowClose && p->windowed && p->window_end_key >= 0) {
        const int64_t end_off = 1 - p->allowed_lateness_us;
        AddBound(&p->time_bounds, TimeBound{p->window_end_key, end_off});
        if (p->window_start_key >= 0 && p->window.kind != WindowKind::kSession)
          AddBound(&p->time_bounds, TimeBound{p->window_start_key, end_off - p->window.size_us});
      }
      break;
    case PlanKind::kTopN:
      p->append_only = false;
      p->watermark_column = -1;
      break;
    case PlanKind::kJoin: {
      p->append_only = (p->join_kind == JoinKind::kInner || p->join_kind == JoinKind::kSemi) &&
                       p->inputs[0]->append_only && p->inputs[1]->append_only;
      // A lookup join never revises what it emitted: append-only when its left input is.
      if (p->lookup) p->append_only = p->inputs[0]->append_only;
      if (p->asof) p->append_only = true;  // the pipeline refuses changelog inputs
      p->watermark_column = -1;
      // The output watermark is min(left, right): each side's bounds still hold.
      p->time_bounds = p->inputs[0]->time_bounds;
      // ASOF: a matched right row may be older than the right watermark — left bounds only.
      if (p->join_kind != JoinKind::kSemi && p->join_kind != JoinKind::kAnti && !p->asof) {
        const int lw = static_cast<int>(p->inputs[0]->schema->num_fields());
        for (const TimeBound& b : p->inputs[1]->time_bounds)
          AddBound(&p->time_bounds, TimeBound{b.column + lw, b.offset_us});
      }
      if (!p->lookup && !p->asof) {
        p->left_expiry = DeriveJoinExpiry(*p, 0);
        p->right_expiry = DeriveJoinExpiry(*p, 1);
      }
      break;
    }
    case PlanKind::kUnionAll: {
      p->append_only = true;
      p->watermark_column = p->inputs[0]->watermark_column;
      for (const auto& i : p->inputs) {
        p->append_only &= i->append_only;
        if (i->watermark_column != p->watermark_column) p->watermark_column = -1;
      }
      // A bound holds for the union when every input has it (the loosest offset).
      for (const TimeBound& b : p->inputs[0]->time_bounds) {
        TimeBound u = b;
        bool all = true;
        for (const auto& i : p->inputs) {
          const TimeBound* x = FindBound(i->time_bounds, b.column);
          if (!x) { all = false; break; }
          u.offset_us = std::min(u.offset_us, x->offset_us);
        }
        if (all) p->time_bounds.push_back(u);
      }
      break;
    }
  }
}

PlanPtr MakeScan(std::string relation, ObjectKind kind, SchemaPtr relation_schema) {
  auto p = std::make_shared<LogicalPlan>();
  p->kind = PlanKind::kScan;
  p->relation = std::move(relation);
  p->relation_kind = kind;
  p->relation_schema = relation_schema;
  for (size_t i = 0; i < relation_schema->num_fields(); ++i) p->projection.push_back(static_cast<int>(i));
  p->schema = relation_schema;
  return p;
}

PlanPtr MakeFilter(PlanPtr input, ExprPtr predicate) {
  auto p = std::make_shared<LogicalPlan>();
  p->kind = PlanKind::kFilter;
  p->schema = input->schema;
  p->predicate = std::move(predicate);
  p->inputs.push_back(std::move(input));
  return p;
}

PlanPtr MakeProject(PlanPtr input, std::vector<ExprPtr> exprs, std::vector<std::string> names) {
  auto p = std::make_shared<LogicalPlan>();
  p->kind = PlanKind::kProject;
  std::vector<Field> fields;
  for (size_t i = 0; i < exprs.size(); ++i) fields.push_back({names[i], exprs[i]->type, true});
  p->schema = std::make_shared<Schema>(std::move(fields));
  p->exprs = std::move(exprs);
  p->inputs.push_back(std::move(input));
  return p;
}

namespace {

// ---- constant folding ------------------------------------------------------------------------
Status FoldPlan(LogicalPlan* p) {
  for (auto& in : p->inputs) WEIR_RETURN_IF_ERROR(FoldPlan(in.get()));
  if (p->predicate) {
    WEIR_ASSIGN_OR_RETURN(p->predicate, FoldConstants(p->predicate));
  }
  for (auto& e : p->exprs) {
    WEIR_ASSIGN_OR_RETURN(e, FoldConstants(e));
  }
  for (auto& k : p->sort_keys) {
    WEIR_ASSIGN_OR_RETURN(k.expr, FoldConstants(k.expr));
  }
  return Status::OK();
}

ExprPtr And(ExprPtr a, ExprPtr b) {
  auto binding = BindFunction("and", {ArgInfo{DataType::Boolean()}, ArgInfo{DataType::Boolean()}});
  WEIR_CHECK(binding.ok());
  return MakeCall(std::move(binding).value(), {std::move(a), std::move(b)});
}

// ---- filter push-down ----------------------------------------------------------------------
// Moves filters below projections (substituting the projected expressions) and merges stacked
// filters, so that every filter ends up directly above its scan.
PlanPtr PushDownFilters(PlanPtr p) {
  for (auto& in : p->inputs) in = PushDownFilters(in);
  if (p->kind != PlanKind::kFilter) return p;
  // Drop a filter that is constant TRUE.
  if (p->predicate->is_constant() && !p->predicate->value.is_null && p->predicate->value.b)
    return p->inputs[0];
  PlanPtr child = p->inputs[0];
  if (child->kind == PlanKind::kFilter) {
    auto merged = MakeFilter(child->inputs[0], And(child->predicate, p->predicate));
    return PushDownFilters(merged);
  }
  if (child->kind == PlanKind::kJoin) {
    // Conjuncts that read one side only move to that side, when the join preserves it:
    // the left side of inner/left joins, the right side of inner/right joins.
    const size_t lw = child->inputs[0]->schema->num_fields();
    std::vector<ExprPtr> conjuncts;
    SplitConjuncts(p->predicate, &conjuncts);
    std::vector<ExprPtr> left, right, keep, both;
    // An inner join evaluates conjuncts over both sides as its residual (the same rows, and the
    // residual is where interval conditions bound the join's state); not an ASOF join's.
    const bool to_residual = child->join_kind == JoinKind::kInner && !child->asof;
    const bool push_left = child->join_kind == JoinKind::kInner || child->join_kind == JoinKind::kLeft ||
                           child->join_kind == JoinKind::kSemi || child->join_kind == JoinKind::kAnti;
    // Not below an ASOF join's right side: filtering first would pick the latest *matching* row.
    const bool push_right = (child->join_kind == JoinKind::kInner || child->join_kind == JoinKind::kRight) && !child->asof;
    for (const ExprPtr& c : conjuncts) {
      std::vector<bool> used(child->schema->num_fields(), false);
      CollectColumns(*c, &used);
      bool uses_l = std::find(used.begin(), used.begin() + static_cast<long>(lw), true) != used.begin() + static_cast<long>(lw);
      bool uses_r = std::find(used.begin() + static_cast<long>(lw), used.end(), true) != used.end();
      if (uses_l && !uses_r && push_left) left.push_back(c);
      else if (uses_r && !uses_l && push_right) right.push_back(c);
      else if (uses_l && uses_r && to_residual && IsDeterministic(*c)) both.push_back(c);
      else keep.push_back(c);
    }
    if (left.empty() && right.empty() && both.empty()) return p;
    auto node = std::make_shared<LogicalPlan>(*child);
    auto conj = [](std::vector<ExprPtr> v) {
      ExprPtr acc = v[0];
      for (size_t i = 1; i < v.size(); ++i) acc = And(acc, v[i]);
      return acc;
    };
    if (!both.empty()) node->residual = node->residual ? And(node->residual, conj(both)) : conj(both);
    if (!left.empty()) node->inputs[0] = PushDownFilters(MakeFilter(child->inputs[0], conj(left)));
    if (!right.empty()) {
      std::vector<int> shift(child->schema->num_fields(), -1);
      for (size_t j = lw; j < shift.size(); ++j) shift[j] = static_cast<int>(j - lw);
      node->inputs[1] = PushDownFilters(MakeFilter(child->inputs[1], RemapColumns(conj(right), shift)));
    }
    if (keep.empty()) return node;
    return MakeFilter(node, conj(keep));
  }
  if (child->kind == PlanKind::kWindow && !child->late_check) {
    // A predicate that does not read window_start/window_end commutes with the window (unless
    // the window judges lateness: that must see every source row in order).
    const size_t in_width = child->inputs[0]->schema->num_fields();
    std::vector<bool> used(child->schema->num_fields(), false);
    CollectColumns(*p->predicate, &used);
    if (!used[in_width] && !used[in_width + 1]) {
      auto node = std::make_shared<LogicalPlan>(*child);
      node->inputs[0] = PushDownFilters(MakeFilter(child->inputs[0], p->predicate));
      return node;
    }
    return p;
  }
  if (child->kind == PlanKind::kProject) {
    auto pushed = MakeFilter(child->inputs[0], SubstituteColumns(p->predicate, child->exprs));
    auto proj = std::make_shared<LogicalPlan>(*child);
    proj->inputs[0] = PushDownFilters(pushed);
    return proj;
  }
  return p;
}

// ---- projection pruning --------------------------------------------------------------------
// `required` (sized to p's output width) says which outputs the parent reads. Returns the new
// plan and fills `mapping`: old output index -> new output index (-1 if dropped).
PlanPtr Prune(const PlanPtr& p, const std::vector<bool>& required, std::vector<int>* mapping) {
  const size_t width = p->schema->num_fields();
  mapping->assign(width, -1);
  switch (p->kind) {
    case PlanKind::kScan: {
      auto scan = std::make_shared<LogicalPlan>(*p);
      scan->projection.clear();
      std::vector<bool> wm_cols(p->relation_schema->num_fields(), false);
      if (p->keep_watermark_columns && p->relation_watermark_expr) CollectColumns(*p->relation_watermark_expr, &wm_cols);
      std::vector<Field> fields;
      for (size_t i = 0; i < width; ++i) {
        if (!required[i] && !p->keep_all_columns && !wm_cols[static_cast<size_t>(p->projection[i])]) continue;
        (*mapping)[i] = static_cast<int>(scan->projection.size());
        scan->projection.push_back(p->projection[i]);
        fields.push_back(p->schema->field(i));
      }
      scan->schema = std::make_shared<Schema>(std::move(fields));
      return scan;
    }
    case PlanKind::kProject: {
      std::vector<bool> need(p->inputs[0]->schema->num_fields(), false);
      for (size_t i = 0; i < width; ++i)
        if (required[i]) CollectColumns(*p->exprs[i], &need);
      std::vector<int> child_map;
      PlanPtr child = Prune(p->inputs[0], need, &child_map);
      std::vector<ExprPtr> exprs;
      std::vector<std::string> names;
      for (size_t i = 0; i < width; ++i) {
        if (!required[i]) continue;
        (*mapping)[i] = static_cast<int>(exprs.size());
        exprs.push_back(RemapColumns(p->exprs[i], child_map));
        names.push_back(p->schema->field(i).name);
      }
      auto proj = MakeProject(child, std::move(exprs), std::move(names));
      proj->append_only = p->append_only;
      // An identity projection over its input is dropped.
      bool identity = proj->exprs.size() == child->schema->num_fields();
      for (size_t i = 0; identity && i < proj->exprs.size(); ++i) {
        const Expr& e = *proj->exprs[i];
        identity = e.kind == ExprKind::kColumnRef && e.column == static_cast<int>(i) &&
                   proj->schema->field(i).name == child->schema->field(i).name;
      }
      return identity ? child : proj;
    }
    case PlanKind::kWindow: {
      // Needs what the parent needs of the input columns, plus the time column.
      const size_t in_width = p->inputs[0]->schema->num_fields();
      std::vector<bool> need(required.begin(), required.begin() + static_cast<long>(in_width));
      if (p->window.time_column >= 0) need[static_cast<size_t>(p->window.time_column)] = true;
      std::vector<int> child_map;
      PlanPtr child = Prune(p->inputs[0], need, &child_map);
      auto node = std::make_shared<LogicalPlan>(*p);
      node->inputs[0] = child;
      if (p->window.time_column >= 0)
        node->window.time_column = child_map[static_cast<size_t>(p->window.time_column)];
      std::vector<Field> fields = child->schema->fields();
      const size_t cw = fields.size();
      fields.push_back(p->schema->field(in_width));
      fields.push_back(p->schema->field(in_width + 1));
      node->schema = std::make_shared<Schema>(std::move(fields));
      for (size_t i = 0; i < in_width; ++i) (*mapping)[i] = child_map[i];
      (*mapping)[in_width] = static_cast<int>(cw);
      (*mapping)[in_width + 1] = static_cast<int>(cw + 1);
      return node;
    }
    case PlanKind::kJoin: {
      const size_t lw = p->inputs[0]->schema->num_fields();
      const size_t rw = p->inputs[1]->schema->num_fields();
      const bool left_only = p->join_kind == JoinKind::kSemi || p->join_kind == JoinKind::kAnti;
      std::vector<bool> need_all = required;
      need_all.resize(lw + rw, false);
      if (p->residual) CollectColumns(*p->residual, &need_all);
      std::vector<bool> need_l(need_all.begin(), need_all.begin() + static_cast<long>(lw));
      std::vector<bool> need_r(need_all.begin() + static_cast<long>(lw), need_all.end());
      for (int k : p->left_keys) need_l[static_cast<size_t>(k)] = true;
      for (int k : p->right_keys) need_r[static_cast<size_t>(k)] = true;
      if (p->asof) {
        need_l[static_cast<size_t>(p->asof_left_time)] = true;
        need_r[static_cast<size_t>(p->asof_right_time)] = true;
      }
      std::vector<int> lmap, rmap;
      PlanPtr l = Prune(p->inputs[0], need_l, &lmap);
      PlanPtr r = Prune(p->inputs[1], need_r, &rmap);
      auto node = std::make_shared<LogicalPlan>(*p);
      node->inputs = {l, r};
      const size_t nlw = l->schema->num_fields();
      std::vector<int> combined(lw + rw, -1);
      for (size_t i = 0; i < lw; ++i) combined[i] = lmap[i];
      for (size_t j = 0; j < rw; ++j) combined[lw + j] = rmap[j] < 0 ? -1 : rmap[j] + static_cast<int>(nlw);
      for (auto& k : node->left_keys) k = lmap[static_cast<size_t>(k)];
      for (auto& k : node->right_keys) k = rmap[static_cast<size_t>(k)];
      if (node->asof) {
        node->asof_left_time = lmap[static_cast<size_t>(node->asof_left_time)];
        node->asof_right_time = rmap[static_cast<size_t>(node->asof_right_time)];
      }
      if (node->residual) node->residual = RemapColumns(node->residual, combined);
      std::vector<Field> fields = l->schema->fields();
      if (!left_only)
        for (const Field& f : r->schema->fields()) fields.push_back(f);
      node->schema = std::make_shared<Schema>(std::move(fields));
      *mapping = combined;
      mapping->resize(width);
      return node;
    }
    case PlanKind::kTopN: {
      const size_t in_width = p->inputs[0]->schema->num_fields();
      std::vector<bool> need(required.begin(), required.begin() + static_cast<long>(in_width));
      for (int c : p->partition_columns) need[static_cast<size_t>(c)] = true;
      for (const auto& k : p->sort_keys) CollectColumns(*k.expr, &need);
      std::vector<int> child_map;
      PlanPtr child = Prune(p->inputs[0], need, &child_map);
      auto node = std::make_shared<LogicalPlan>(*p);
      node->inputs[0] = child;
      for (auto& c : node->partition_columns) c = child_map[static_cast<size_t>(c)];
      for (auto& k : node->sort_keys) k.expr = RemapColumns(k.expr, child_map);
      node->with_row_number = required[in_width];
      std::vector<Field> fields = child->schema->fields();
      if (node->with_row_number) fields.push_back(p->schema->field(in_width));
      node->schema = std::make_shared<Schema>(std::move(fields));
      for (size_t i = 0; i < in_width; ++i) (*mapping)[i] = child_map[i];
      (*mapping)[in_width] = node->with_row_number ? static_cast<int>(child->schema->num_fields()) : -1;
      return node;
    }
    case PlanKind::kUnionAll: {
      // Inputs are aligned by position: every input keeps every column.
      auto node = std::make_shared<LogicalPlan>(*p);
      for (auto& in : node->inputs) {
        std::vector<bool> need(in->schema->num_fields(), true);
        std::vector<int> child_map;
        in = Prune(in, need, &child_map);
      }
      for (size_t i = 0; i < width; ++i) (*mapping)[i] = static_cast<int>(i);
      return node;
    }
    case PlanKind::kAggregate: {
      // An aggregate reads all of its input and produces all of its outputs.
      std::vector<bool> need(p->inputs[0]->schema->num_fields(), true);
      std::vector<int> child_map;
      PlanPtr child = Prune(p->inputs[0], need, &child_map);
      auto node = std::make_shared<LogicalPlan>(*p);
      node->inputs[0] = child;
      for (size_t i = 0; i < width; ++i) (*mapping)[i] = static_cast<int>(i);
      return node;
    }
    case PlanKind::kFilter:
    case PlanKind::kSort:
    case PlanKind::kLimit: {
      // Pass-through nodes: they need what the parent needs plus what their expressions read.
      std::vector<bool> need = required;
      if (p->predicate) CollectColumns(*p->predicate, &need);
      for (const auto& k : p->sort_keys) CollectColumns(*k.expr, &need);
      std::vector<int> child_map;
      PlanPtr child = Prune(p->inputs[0], need, &child_map);
      auto node = std::make_shared<LogicalPlan>(*p);
      node->inputs[0] = child;
      node->schema = child->schema;
      if (node->predicate) node->predicate = RemapColumns(node->predicate, child_map);
      for (auto& k : node->sort_keys) k.expr = RemapColumns(k.expr, child_map);
      // The node now outputs the child's columns; report where the parent's columns went.
      *mapping = child_map;
      // Columns kept only for this node's own use are extra outputs; the parent ignores them.
      return node;
    }
  }
  return p;
}

}  // namespace

Status ConfigureStreaming(const PlanPtr& plan, bool snapshot, bool emit_on_window_close,
                          int64_t allowed_lateness_us, const std::string& late_sink) {
  ComputeStreamProperties(plan.get());
  // Aggregations below a UNION ALL are not supported yet (they would each need their own
  // emit configuration).
  std::function<bool(const LogicalPlan*, bool)> agg_under_union = [&](const LogicalPlan* n, bool under) {
    if (n->kind == PlanKind::kAggregate && under) return true;
    for (const auto& in : n->inputs)
      if (agg_under_union(in.get(), under || n->kind == PlanKind::kUnionAll)) return true;
    return false;
  };
  if (agg_under_union(plan.get(), false))
    return NotSupported("aggregations inside UNION ALL are not supported yet; aggregate in a view and union the views");
  // Every ROW_NUMBER() must have been limited by the enclosing query.
  std::function<bool(const LogicalPlan*)> unlimited_topn = [&](const LogicalPlan* n) {
    if (n->kind == PlanKind::kTopN && n->limit < 1) return true;
    for (const auto& in : n->inputs)
      if (unlimited_topn(in.get())) return true;
    return false;
  };
  if (unlimited_topn(plan.get()))
    return NotSupported("ROW_NUMBER() needs an enclosing filter `rn <= N` (Top-N) or `rn = 1` (deduplication)");
  // Every aggregation: each is configured on its own (nested ones, and those of the two inputs
  // of a join, each with its own window).
  std::vector<LogicalPlan*> aggs;
  std::function<void(LogicalPlan*)> find = [&](LogicalPlan* n) {
    if (n->kind == PlanKind::kAggregate) aggs.push_back(n);
    for (auto& in : n->inputs) find(in.get());
  };
  find(plan.get());
  const bool streaming_options = allowed_lateness_us > 0 || !late_sink.empty();
  if (aggs.empty()) {
    if (emit_on_window_close) return NotSupported("EMIT ON WINDOW CLOSE needs a windowed aggregate (GROUP BY window_start, window_end)");
    if (streaming_options) return NotSupported("allowed_lateness and late_data apply to windowed aggregates only");
    return Status::OK();
  }
  if (snapshot) {
    if (emit_on_window_close || streaming_options)
      return NotSupported("EMIT and lateness options apply to continuous queries only");
    for (LogicalPlan* agg : aggs) agg->emit = AggregateEmit::kOnFinish;
    ComputeStreamProperties(plan.get());
    return Status::OK();
  }
  if (streaming_options && aggs.size() > 1)
    return NotSupported("allowed_lateness and late_data apply to a query with one aggregation; aggregate in a view first");
  bool any_windowed = false, any_closing = false;
  for (LogicalPlan* agg : aggs) {
    // The window node feeding this aggregate (not one below a nested aggregate), if any.
    LogicalPlan* win = nullptr;
    for (LogicalPlan* n = agg; n && !n->inputs.empty(); n = n->inputs[0].get()) {
      if (n->inputs[0]->kind == PlanKind::kAggregate) break;
      if (n->inputs[0]->kind == PlanKind::kWindow) {
        win = n->inputs[0].get();
        break;
      }
    }
    // A processing-time window carries its own watermark (the wall clock).
    const bool has_watermark = win && (win->window.processing_time ||
                                       (win->inputs[0]->watermark_column >= 0 &&
                                        win->inputs[0]->watermark_column == win->window.time_column));
    any_windowed |= agg->windowed;
    // EMIT ON WINDOW CLOSE applies to every windowed aggregate whose window has a watermark.
    const bool closing = emit_on_window_close && agg->windowed && has_watermark;
    agg->emit = closing ? AggregateEmit::kOnWindowClose : AggregateEmit::kOnUpdate;
    any_closing |= closing;
    if (streaming_options && !(agg->windowed && has_watermark))
      return NotSupported("allowed_lateness and late_data need a windowed aggregate over a source with a watermark on the window's time column");
    agg->allowed_lateness_us = allowed_lateness_us;
    if (agg->windowed && has_watermark && !win->window.processing_time) {
      // The window operator drops (or diverts) rows whose windows have closed. It reads the
      // source's rows directly, in arrival order, so lateness never depends on batching.
      win->late_check = true;
      win->allowed_lateness_us = allowed_lateness_us;
      win->late_sink = late_sink;
      for (LogicalPlan* n = win; n; n = n->inputs.empty() ? nullptr : n->inputs[0].get()) {
        if (n->kind != PlanKind::kScan) continue;
        n->keep_watermark_columns = true;
        if (!late_sink.empty()) n->keep_all_columns = true;
      }
    }
  }
  if (emit_on_window_close && !any_closing) {
    if (!any_windowed)
      return NotSupported("EMIT ON WINDOW CLOSE needs GROUP BY window_start, window_end of a TUMBLE, HOP or SESSION window");
    return NotSupported("EMIT ON WINDOW CLOSE needs a watermark on the window's time column (CREATE SOURCE ... WATERMARK FOR col AS ...)");
  }
  ComputeStreamProperties(plan.get());
  return Status::OK();
}

Result<PlanPtr> OptimizePlan(PlanPtr plan) {
  WEIR_RETURN_IF_ERROR(FoldPlan(plan.get()));
  plan = PushDownFilters(plan);
  std::vector<bool> all(plan->schema->num_fields(), true);
  std::vector<int> mapping;
  PlanPtr pruned = Prune(plan, all, &mapping);
  // The root must keep its exact output columns: add a projection if pruning reordered or
  // widened them (a filter/sort keeping extra columns below the root).
  bool same = pruned->schema->num_fields() == plan->schema->num_fields();
  for (size_t i = 0; same && i < mapping.size(); ++i) same = mapping[i] == static_cast<int>(i);
  if (!same) {
    std::vector<ExprPtr> exprs;
    ComputeStreamProperties(pruned.get());
    std::vector<std::string> names;
    for (size_t i = 0; i < mapping.size(); ++i) {
      const Field& f = plan->schema->field(i);
      exprs.push_back(MakeColumnRef(mapping[i], f.type, f.name));
      names.push_back(f.name);
    }
    pruned = MakeProject(pruned, std::move(exprs), std::move(names));
  }
  ComputeStreamProperties(pruned.get());
  return pruned;
}

}  // namespace weir
