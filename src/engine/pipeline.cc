#include "engine/pipeline.h"

#include <algorithm>

#include "exec/filter.h"
#include "exec/hash_aggregate.h"
#include "exec/window.h"
#include "exec/project.h"
#include "exec/terminal.h"

namespace weir {

Operator* Pipeline::Attach(const std::vector<int>& input_columns) {
  if (input_columns == scan_projection) return head();
  std::vector<int> picks;
  for (int c : scan_projection) {
    auto it = std::find(input_columns.begin(), input_columns.end(), c);
    WEIR_CHECK(it != input_columns.end());
    picks.push_back(static_cast<int>(it - input_columns.begin()));
  }
  std::vector<Field> fields;
  for (int c : scan_projection) fields.push_back(scan_relation_schema->field(static_cast<size_t>(c)));
  adapter = std::make_unique<ColumnSelectOperator>(std::move(picks), std::make_shared<Schema>(std::move(fields)));
  adapter->set_output(head());
  return adapter.get();
}

std::string Pipeline::Explain(const std::string& scan_detail) const {
  std::string out;
  int depth = 0;
  for (size_t i = ops.size(); i-- > 0;) {
    out += std::string(static_cast<size_t>(depth) * 2, ' ') + ops[i]->Describe() + "\n";
    ++depth;
  }
  std::string cols;
  for (size_t i = 0; i < scan_projection.size(); ++i) {
    if (i) cols += ", ";
    cols += scan_relation_schema->field(static_cast<size_t>(scan_projection[i])).name;
  }
  out += std::string(static_cast<size_t>(depth) * 2, ' ') +
         fmt::format("Scan {} {} [{}]{}", ObjectKindName(scan_kind), scan_relation, cols, scan_detail) + "\n";
  return out;
}

Result<std::unique_ptr<Pipeline>> BuildPipeline(PlanPtr plan, std::unique_ptr<Operator> terminal,
                                                const LateSinkResolver& late_sinks) {
  auto p = std::make_unique<Pipeline>();
  p->plan = plan;
  std::vector<const LogicalPlan*> chain;  // root .. leaf
  for (const LogicalPlan* n = plan.get();;) {
    chain.push_back(n);
    if (n->kind == PlanKind::kScan) break;
    if (n->inputs.size() != 1) return Internal("pipeline plans must be linear");
    n = n->inputs[0].get();
  }
  const LogicalPlan* scan = chain.back();
  p->scan_relation = scan->relation;
  p->scan_kind = scan->relation_kind;
  p->scan_relation_schema = scan->relation_schema;
  p->scan_projection = scan->projection;
  for (size_t i = chain.size() - 1; i-- > 0;) {
    const LogicalPlan* n = chain[i];
    std::unique_ptr<Operator> op;
    switch (n->kind) {
      case PlanKind::kFilter: op = std::make_unique<FilterOperator>(n->predicate); break;
      case PlanKind::kProject: op = std::make_unique<ProjectOperator>(n->exprs, n->schema); break;
      case PlanKind::kSort: op = std::make_unique<SortOperator>(n->sort_keys, n->schema); break;
      case PlanKind::kLimit: op = std::make_unique<LimitOperator>(n->limit, n->offset); break;
      case PlanKind::kWindow: {
        auto win = std::make_unique<WindowOperator>(n->window, n->schema);
        if (n->late_check) {
          Operator* late = nullptr;
          const LogicalPlan* scan = n->inputs[0].get();
          if (!n->late_sink.empty()) {
            if (!late_sinks) return Internal("no late-data sink resolver");
            WEIR_ASSIGN_OR_RETURN(late, late_sinks(n->late_sink, scan->schema));
          }
          // The source's watermark expression, over the scan's output columns.
          ExprPtr wm;
          if (scan->kind == PlanKind::kScan && scan->relation_watermark_expr) {
            std::vector<int> mapping(scan->relation_schema->num_fields(), -1);
            for (size_t i = 0; i < scan->projection.size(); ++i)
              mapping[static_cast<size_t>(scan->projection[i])] = static_cast<int>(i);
            wm = RemapColumns(scan->relation_watermark_expr, mapping);
          }
          win->EnableLateCheck(n->allowed_lateness_us, wm, late);
        }
        p->windows.push_back(win.get());
        op = std::move(win);
        break;
      }
      case PlanKind::kAggregate: {
        WEIR_ASSIGN_OR_RETURN(auto agg, HashAggregateOperator::Make(*n, !n->inputs[0]->append_only));
        p->aggregates.push_back(agg.get());
        op = std::move(agg);
        break;
      }
      case PlanKind::kScan: return Internal("scan in the middle of a pipeline");
    }
    p->ops.push_back(std::move(op));
  }
  p->ops.push_back(std::move(terminal));
  for (size_t i = 0; i + 1 < p->ops.size(); ++i) p->ops[i]->set_output(p->ops[i + 1].get());
  return p;
}

}  // namespace weir
