#include "sql/dml.h"

#include <pg_query/pg_query.pb-c.h>

namespace weir {

namespace {

struct Ctx {
  const BindContext& bc;
  std::string Pos(int32_t location) const {
    return bc.lines->Position(bc.base_offset + static_cast<size_t>(location < 0 ? 0 : location));
  }
  template <typename... Args>
  Status Err(int32_t location, fmt::format_string<Args...> f, Args&&... args) const {
    return BindError("{}: {}", Pos(location), fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  Status Unsupported(int32_t location, fmt::format_string<Args...> f, Args&&... args) const {
    return NotSupported("{}: {}", Pos(location), fmt::format(f, std::forward<Args>(args)...));
  }
  Status At(int32_t location, const Status& s) const {
    return Status(s.code(), fmt::format("{}: {}", Pos(location), s.message()));
  }
};

// Resolves the target table of a DML statement.
Result<RelationRef> ResolveTable(const PgQuery__RangeVar* rv, const Ctx& c, const char* verb) {
  auto rel = c.bc.lookup ? c.bc.lookup(rv->relname) : std::nullopt;
  if (!rel) return c.Err(rv->location, "relation \"{}\" does not exist", rv->relname);
  if (rel->kind != ObjectKind::kTable)
    return c.Err(rv->location, "cannot {} {} \"{}\": only tables can be changed", verb, ObjectKindName(rel->kind),
                 rel->name);
  return *rel;
}

std::string Qualifier(const PgQuery__RangeVar* rv) {
  return rv->alias && rv->alias->aliasname ? rv->alias->aliasname : rv->relname;
}

Result<ExprPtr> BindWhere(const PgQuery__Node* where, const RelationRef& rel, const std::string& qualifier,
                          const Ctx& c) {
  if (!where) return ExprPtr();
  WEIR_ASSIGN_OR_RETURN(ExprPtr e, BindScalarExpr(where, *rel.schema, qualifier, c.bc));
  if (e->type.id != TypeId::kBoolean && e->type.id != TypeId::kNull)
    return c.Err(ExprLocation(where), "argument of WHERE must be type BOOLEAN, not type {}", e->type.ToString());
  return e;
}

}  // namespace

Result<BoundInsert> BindInsert(const PgQuery__Node* stmt, const BindContext& bc) {
  Ctx c{bc};
  if (stmt->node_case != PG_QUERY__NODE__NODE_INSERT_STMT) return Internal("BindInsert: not an INSERT");
  const PgQuery__InsertStmt* s = stmt->insert_stmt;
  if (s->with_clause) return c.Unsupported(s->with_clause->location, "WITH in INSERT is not supported");
  if (s->n_returning_list) return c.Unsupported(ExprLocation(s->returning_list[0]), "RETURNING is not supported");
  WEIR_ASSIGN_OR_RETURN(RelationRef rel, ResolveTable(s->relation, c, "insert into"));
  const Schema& schema = *rel.schema;
  BoundInsert out;
  out.table = rel.name;
  out.schema = rel.schema;
  if (s->on_conflict_clause) {
    if (s->on_conflict_clause->action != PG_QUERY__ON_CONFLICT_ACTION__ONCONFLICT_NOTHING)
      return c.Unsupported(s->on_conflict_clause->location, "ON CONFLICT DO UPDATE is not supported; use DO NOTHING");
    out.on_conflict_do_nothing = true;
  }
  // Target columns: the list given, or every column in order.
  std::vector<int> targets;
  std::vector<int32_t> target_locations;
  if (s->n_cols) {
    for (size_t i = 0; i < s->n_cols; ++i) {
      const PgQuery__ResTarget* t = s->cols[i]->res_target;
      if (t->n_indirection) return c.Unsupported(t->location, "subfield or array assignment is not supported");
      int col = schema.FindField(t->name);
      if (col < 0) return c.Err(t->location, "column \"{}\" of relation \"{}\" does not exist", t->name, rel.name);
      for (int seen : targets)
        if (seen == col) return c.Err(t->location, "column \"{}\" specified more than once", t->name);
      targets.push_back(col);
      target_locations.push_back(t->location);
    }
  } else {
    for (size_t i = 0; i < schema.num_fields(); ++i) {
      targets.push_back(static_cast<int>(i));
      target_locations.push_back(s->relation->location);
    }
  }
  if (!s->select_stmt || s->select_stmt->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
    return c.Unsupported(s->relation->location, "INSERT needs VALUES or a SELECT (DEFAULT VALUES is not supported)");
  const PgQuery__SelectStmt* q = s->select_stmt->select_stmt;

  if (q->n_values_lists) {
    // VALUES: bind and evaluate each expression now, converted to its column's type.
    auto batch = std::make_shared<RecordBatch>(rel.schema);
    for (const Field& f : schema.fields()) batch->columns().push_back(std::make_shared<Column>(f.type));
    Schema empty;
    std::vector<bool> targeted(schema.num_fields(), false);
    for (int t : targets) targeted[static_cast<size_t>(t)] = true;
    for (size_t r = 0; r < q->n_values_lists; ++r) {
      const PgQuery__Node* row = q->values_lists[r];
      if (row->node_case != PG_QUERY__NODE__NODE_LIST) return c.Unsupported(0, "unsupported VALUES row");
      const PgQuery__List* items = row->list;
      const int32_t row_loc = items->n_items ? ExprLocation(items->items[0]) : 0;
      if (items->n_items > targets.size())
        return c.Err(ExprLocation(items->items[targets.size()]), "INSERT has more expressions than target columns");
      if (items->n_items < targets.size())
        return c.Err(row_loc, "INSERT has more target columns than expressions");
      for (size_t k = 0; k < items->n_items; ++k) {
        const PgQuery__Node* item = items->items[k];
        const size_t col = static_cast<size_t>(targets[k]);
        Column* dst = batch->columns()[col].get();
        if (item->node_case == PG_QUERY__NODE__NODE_SET_TO_DEFAULT) {
          dst->AppendNull();
          continue;
        }
        const int32_t loc = ExprLocation(item);
        WEIR_ASSIGN_OR_RETURN(ExprPtr e, BindScalarExpr(item, empty, "", bc));
        WEIR_ASSIGN_OR_RETURN(e, BindAssignment(e, schema.field(col), loc, bc));
        auto v = EvaluateConstant(*e);
        if (!v.ok()) return c.At(loc, v.status());
        AppendValue(dst, v->is_null ? Value::Null(schema.field(col).type) : *v);
      }
      for (size_t col = 0; col < schema.num_fields(); ++col)
        if (!targeted[col]) batch->columns()[col]->AppendNull();
    }
    batch->set_num_rows(static_cast<int64_t>(q->n_values_lists));
    out.values = std::move(batch);
    return out;
  }

  // INSERT ... SELECT: a snapshot query, projected onto the table's layout.
  WEIR_ASSIGN_OR_RETURN(PlanPtr plan, BindQuery(s->select_stmt, bc));
  const size_t produced = plan->schema->num_fields();
  auto item_location = [&](size_t k) -> int32_t {
    if (k < q->n_target_list) return q->target_list[k]->res_target->location;
    return s->relation->location;
  };
  if (produced > targets.size())
    return c.Err(item_location(targets.size()), "INSERT has more expressions than target columns");
  if (produced < targets.size())
    return c.Err(s->n_cols ? target_locations[produced] : s->relation->location,
                 "INSERT has more target columns than expressions");
  std::vector<ExprPtr> exprs(schema.num_fields());
  std::vector<std::string> names;
  for (size_t k = 0; k < targets.size(); ++k) {
    const size_t col = static_cast<size_t>(targets[k]);
    const Field& from = plan->schema->field(k);
    ExprPtr ref = MakeColumnRef(static_cast<int>(k), from.type, from.name);
    WEIR_ASSIGN_OR_RETURN(exprs[col], BindAssignment(ref, schema.field(col), item_location(k), bc));
  }
  for (size_t col = 0; col < schema.num_fields(); ++col) {
    if (!exprs[col]) exprs[col] = MakeLiteral(Value::Null(schema.field(col).type));
    names.push_back(schema.field(col).name);
  }
  out.query = MakeProject(plan, std::move(exprs), std::move(names));
  out.query->append_only = plan->append_only;
  return out;
}

Result<BoundUpdate> BindUpdate(const PgQuery__Node* stmt, const BindContext& bc) {
  Ctx c{bc};
  if (stmt->node_case != PG_QUERY__NODE__NODE_UPDATE_STMT) return Internal("BindUpdate: not an UPDATE");
  const PgQuery__UpdateStmt* s = stmt->update_stmt;
  if (s->with_clause) return c.Unsupported(s->with_clause->location, "WITH in UPDATE is not supported");
  if (s->n_from_clause) return c.Unsupported(ExprLocation(s->from_clause[0]), "UPDATE ... FROM is not supported");
  if (s->n_returning_list) return c.Unsupported(ExprLocation(s->returning_list[0]), "RETURNING is not supported");
  WEIR_ASSIGN_OR_RETURN(RelationRef rel, ResolveTable(s->relation, c, "update"));
  BoundUpdate out;
  out.table = rel.name;
  out.schema = rel.schema;
  const std::string qualifier = Qualifier(s->relation);
  for (size_t i = 0; i < s->n_target_list; ++i) {
    const PgQuery__ResTarget* t = s->target_list[i]->res_target;
    if (t->n_indirection) return c.Unsupported(t->location, "subfield or array assignment is not supported");
    if (t->val && t->val->node_case == PG_QUERY__NODE__NODE_MULTI_ASSIGN_REF)
      return c.Unsupported(t->location, "SET (a, b) = (...) is not supported; assign each column");
    int col = rel.schema->FindField(t->name);
    if (col < 0) return c.Err(t->location, "column \"{}\" of relation \"{}\" does not exist", t->name, rel.name);
    for (const auto& [seen, e] : out.sets)
      if (seen == col) return c.Err(t->location, "multiple assignments to same column \"{}\"", t->name);
    const Field& field = rel.schema->field(static_cast<size_t>(col));
    ExprPtr value;
    if (t->val->node_case == PG_QUERY__NODE__NODE_SET_TO_DEFAULT) {
      value = MakeLiteral(Value::Null(field.type));
    } else {
      WEIR_ASSIGN_OR_RETURN(value, BindScalarExpr(t->val, *rel.schema, qualifier, bc));
      WEIR_ASSIGN_OR_RETURN(value, BindAssignment(value, field, ExprLocation(t->val), bc));
    }
    out.sets.push_back({col, std::move(value)});
  }
  WEIR_ASSIGN_OR_RETURN(out.where, BindWhere(s->where_clause, rel, qualifier, c));
  return out;
}

Result<BoundDelete> BindDelete(const PgQuery__Node* stmt, const BindContext& bc) {
  Ctx c{bc};
  if (stmt->node_case != PG_QUERY__NODE__NODE_DELETE_STMT) return Internal("BindDelete: not a DELETE");
  const PgQuery__DeleteStmt* s = stmt->delete_stmt;
  if (s->with_clause) return c.Unsupported(s->with_clause->location, "WITH in DELETE is not supported");
  if (s->n_using_clause) return c.Unsupported(ExprLocation(s->using_clause[0]), "DELETE ... USING is not supported");
  if (s->n_returning_list) return c.Unsupported(ExprLocation(s->returning_list[0]), "RETURNING is not supported");
  WEIR_ASSIGN_OR_RETURN(RelationRef rel, ResolveTable(s->relation, c, "delete from"));
  BoundDelete out;
  out.table = rel.name;
  out.schema = rel.schema;
  WEIR_ASSIGN_OR_RETURN(out.where, BindWhere(s->where_clause, rel, Qualifier(s->relation), c));
  return out;
}

}  // namespace weir
