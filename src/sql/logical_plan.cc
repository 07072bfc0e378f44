#include "sql/logical_plan.h"

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
  }
  std::string out = pad + line + "\n";
  for (const auto& in : inputs) out += in->ToString(indent + 1);
  return out;
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
      std::vector<Field> fields;
      for (size_t i = 0; i < width; ++i) {
        if (!required[i]) continue;
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
    std::vector<std::string> names;
    for (size_t i = 0; i < mapping.size(); ++i) {
      const Field& f = plan->schema->field(i);
      exprs.push_back(MakeColumnRef(mapping[i], f.type, f.name));
      names.push_back(f.name);
    }
    pruned = MakeProject(pruned, std::move(exprs), std::move(names));
  }
  return pruned;
}

}  // namespace weir
