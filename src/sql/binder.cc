#include "sql/binder.h"

#include <pg_query/pg_query.pb-c.h>

#include <charconv>
#include <cstring>

#include "exec/aggregate/aggregate_function.h"
#include "types/datetime.h"

namespace weir {

namespace {

struct ScopeColumn {
  std::string qualifier;  // relation name or alias
  std::string name;
  DataType type;
  int index;
};

std::string Lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

const char* StringOf(const PgQuery__Node* n) {
  return n && n->node_case == PG_QUERY__NODE__NODE_STRING ? n->string->sval : nullptr;
}

// PostgreSQL's INTERVAL typmod range bits (utils/datetime.h): MONTH 1<<1, YEAR 1<<2, DAY 1<<3,
// HOUR 1<<10, MINUTE 1<<11, SECOND 1<<12. The last (smallest) field names the unit of
// `INTERVAL '5' MINUTE`.
std::string_view IntervalUnitFromTypmod(int32_t mask) {
  if (mask & (1 << 12)) return "second";
  if (mask & (1 << 11)) return "minute";
  if (mask & (1 << 10)) return "hour";
  if (mask & (1 << 3)) return "day";
  if (mask & (1 << 1)) return "month";
  if (mask & (1 << 2)) return "year";
  return "";
}

class Binder {
 public:
  explicit Binder(const BindContext& ctx) : ctx_(ctx) {}

  // Common table expressions visible to this query (inner definitions shadow outer ones).
  struct Cte {
    const PgQuery__SelectStmt* query;
    const PgQuery__CommonTableExpr* def;
  };
  std::vector<std::pair<std::string, Cte>> ctes_;

  const Cte* FindCte(const std::string& name) const {
    for (auto it = ctes_.rbegin(); it != ctes_.rend(); ++it)
      if (it->first == name) return &it->second;
    return nullptr;
  }

  // Binds a nested SELECT (subquery in FROM, CTE) with a fresh binder that sees the same CTEs.
  Result<PlanPtr> BindNested(const PgQuery__SelectStmt* q, int32_t location) {
    Binder sub(ctx_);
    sub.ctes_ = ctes_;
    WEIR_ASSIGN_OR_RETURN(PlanPtr plan, sub.BindSelect(q, location));
    if (plan->HasSnapshotOnlyNodes())
      return Unsupported(location, "ORDER BY / LIMIT inside a subquery are not supported");
    return plan;
  }

  // Makes the columns of a nested plan the current scope, under `qualifier`.
  void ScopeFromPlan(const PlanPtr& plan, const std::string& qualifier, const PgQuery__Alias* alias) {
    std::vector<ScopeColumn> scope;
    for (size_t i = 0; i < plan->schema->num_fields(); ++i) {
      std::string name = plan->schema->field(i).name;
      if (alias && i < alias->n_colnames && StringOf(alias->colnames[i])) name = StringOf(alias->colnames[i]);
      scope.push_back({Lower(qualifier), name, plan->schema->field(i).type, static_cast<int>(i)});
    }
    scope_ = std::move(scope);
  }

  std::string Pos(int32_t location) const {
    return ctx_.lines->Position(ctx_.base_offset + static_cast<size_t>(location < 0 ? 0 : location));
  }
  template <typename... Args>
  Status BindErr(int32_t location, fmt::format_string<Args...> f, Args&&... args) const {
    return BindError("{}: {}", Pos(location), fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  Status Unsupported(int32_t location, fmt::format_string<Args...> f, Args&&... args) const {
    return NotSupported("{}: {}", Pos(location), fmt::format(f, std::forward<Args>(args)...));
  }
  Status AtLocation(int32_t location, const Status& s) const {
    return Status(s.code(), fmt::format("{}: {}", Pos(location), s.message()));
  }

  void SetScope(std::vector<ScopeColumn> scope) { scope_ = std::move(scope); }

  // ---- queries ---------------------------------------------------------------------------
  Result<PlanPtr> BindSelect(const PgQuery__SelectStmt* s, int32_t location) {
    location_ = location;
    if (s->op != PG_QUERY__SET_OPERATION__SETOP_NONE && s->op != PG_QUERY__SET_OPERATION__SET_OPERATION_UNDEFINED)
      return BindSetOperation(s, location);
    if (s->with_clause) {
      if (s->with_clause->recursive) return Unsupported(s->with_clause->location, "WITH RECURSIVE is not supported");
      for (size_t i = 0; i < s->with_clause->n_ctes; ++i) {
        const PgQuery__CommonTableExpr* cte = s->with_clause->ctes[i]->common_table_expr;
        if (!cte->ctequery || cte->ctequery->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
          return Unsupported(cte->location, "only SELECT is supported in WITH");
        ctes_.push_back({Lower(cte->ctename), Cte{cte->ctequery->select_stmt, cte}});
      }
    }
    if (s->n_values_lists) return Unsupported(location, "VALUES lists are not supported yet");
    if (s->n_distinct_clause) return Unsupported(location, "SELECT DISTINCT is not supported yet");
    if (s->n_window_clause) return Unsupported(location, "WINDOW clauses are not supported yet");
    if (s->into_clause) return Unsupported(location, "SELECT INTO is not supported");
    if (s->n_from_clause == 0) return Unsupported(location, "SELECT without FROM is not supported yet");
    WEIR_ASSIGN_OR_RETURN(PlanPtr plan, BindFrom(s->from_clause[0]));
    // FROM a, b, ...: inner joins whose equality conditions come from WHERE.
    ExprPtr where;
    if (s->n_from_clause > 2)
      return Unsupported(location, "joining more than two FROM items with commas is not supported yet; use JOIN ... ON");
    if (s->n_from_clause > 1) {
      for (size_t i = 1; i < s->n_from_clause; ++i) {
        std::vector<ScopeColumn> left_scope = scope_;
        WEIR_ASSIGN_OR_RETURN(PlanPtr right, BindFrom(s->from_clause[i]));
        std::vector<ScopeColumn> right_scope = scope_;
        CombineScopes(left_scope, right_scope, plan->schema->num_fields());
        if (i + 1 == s->n_from_clause && s->where_clause) {
          WEIR_ASSIGN_OR_RETURN(where, BindExpr(s->where_clause));
          WEIR_RETURN_IF_ERROR(CheckBoolean(where, s->where_clause, "WHERE"));
        }
        WEIR_ASSIGN_OR_RETURN(plan, MakeJoinPlan(plan, right, JoinKind::kInner, i + 1 == s->n_from_clause ? where : nullptr,
                                                 Location(s->from_clause[i]) >= 0 ? Location(s->from_clause[i]) : location));
        where = nullptr;
      }
      if (s->where_clause) {
        // Conditions that were not join keys stay as a filter (MakeJoinPlan put them in the
        // residual); nothing more to do here.
      }
    } else if (s->where_clause) {
      // Top-level conjuncts: [NOT] EXISTS (subquery) and x IN (subquery) become semi / anti
      // joins; the rest a filter.
      std::vector<const PgQuery__Node*> conjuncts;
      std::function<void(const PgQuery__Node*)> split = [&](const PgQuery__Node* n) {
        if (n->node_case == PG_QUERY__NODE__NODE_BOOL_EXPR && n->bool_expr->boolop == PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR) {
          for (size_t i = 0; i < n->bool_expr->n_args; ++i) split(n->bool_expr->args[i]);
        } else {
          conjuncts.push_back(n);
        }
      };
      split(s->where_clause);
      ExprPtr pred;
      for (const PgQuery__Node* c : conjuncts) {
        const PgQuery__SubLink* sub = nullptr;
        bool negated = false;
        if (c->node_case == PG_QUERY__NODE__NODE_SUB_LINK) {
          sub = c->sub_link;
        } else if (c->node_case == PG_QUERY__NODE__NODE_BOOL_EXPR && c->bool_expr->boolop == PG_QUERY__BOOL_EXPR_TYPE__NOT_EXPR &&
                   c->bool_expr->n_args == 1 && c->bool_expr->args[0]->node_case == PG_QUERY__NODE__NODE_SUB_LINK) {
          sub = c->bool_expr->args[0]->sub_link;
          negated = true;
        }
        if (sub) {
          WEIR_ASSIGN_OR_RETURN(plan, BindSubqueryJoin(plan, sub, negated));
          continue;
        }
        WEIR_ASSIGN_OR_RETURN(ExprPtr e, BindExpr(c));
        WEIR_RETURN_IF_ERROR(CheckBoolean(e, c, "WHERE"));
        if (!pred) pred = e;
        else {
          WEIR_ASSIGN_OR_RETURN(pred, Call("and", {pred, e}, Location(c)));
        }
      }
      if (pred) {
        ApplyTopNLimit(plan, pred);
        plan = MakeFilter(plan, pred);
      }
    }

    // ROW_NUMBER() OVER (PARTITION BY ... ORDER BY ...): a Top-N node over the input; the
    // enclosing query's `rn <= N` sets its limit.
    for (size_t i = 0; i < s->n_target_list; ++i) {
      const PgQuery__ResTarget* rt = s->target_list[i]->res_target;
      if (!rt->val || rt->val->node_case != PG_QUERY__NODE__NODE_FUNC_CALL || !rt->val->func_call->over) continue;
      WEIR_ASSIGN_OR_RETURN(plan, BindRowNumber(rt->val->func_call, plan));
    }

    // SELECT list (aggregate calls become placeholders, collected in aggs_).
    agg_allowed_ = true;
    std::vector<ExprPtr> exprs;
    std::vector<std::string> names;
    for (size_t i = 0; i < s->n_target_list; ++i) {
      const PgQuery__Node* t = s->target_list[i];
      if (t->node_case != PG_QUERY__NODE__NODE_RES_TARGET) return BindErr(location, "unexpected target");
      const PgQuery__ResTarget* rt = t->res_target;
      if (IsStar(rt->val)) {
        WEIR_RETURN_IF_ERROR(ExpandStar(rt->val->column_ref, &exprs, &names));
        continue;
      }
      WEIR_ASSIGN_OR_RETURN(ExprPtr e, BindExpr(rt->val));
      exprs.push_back(e);
      names.push_back(rt->name && *rt->name ? std::string(rt->name) : DeriveName(rt->val));
    }
    const size_t visible = exprs.size();

    ExprPtr having;
    if (s->having_clause) {
      WEIR_ASSIGN_OR_RETURN(having, BindExpr(s->having_clause));
      WEIR_RETURN_IF_ERROR(CheckBoolean(having, s->having_clause, "HAVING"));
    }

    // ORDER BY: output columns (by alias or position) first, then expressions appended as
    // hidden outputs (bound here, while aggregate calls are still allowed).
    WEIR_ASSIGN_OR_RETURN(std::vector<SortKey> keys, BindOrderBy(s, &exprs, &names, visible, true));
    agg_allowed_ = false;

    if (s->n_group_clause > 0 || !aggs_.empty() || having) {
      WEIR_ASSIGN_OR_RETURN(plan, BindAggregation(s, plan, &exprs, names, visible, &having));
      if (having) plan = MakeFilter(plan, having);
    }

    return ApplyOutput(s, plan, exprs, names, visible, std::move(keys));
  }

  // SELECT list already bound as `exprs`/`names` over `plan`: applies ORDER BY (by output name or
  // position only) and LIMIT/OFFSET.
  Result<PlanPtr> FinishSelect(const PgQuery__SelectStmt* s, PlanPtr plan, std::vector<ExprPtr> exprs,
                               std::vector<std::string> names) {
    const size_t visible = exprs.size();
    WEIR_ASSIGN_OR_RETURN(std::vector<SortKey> keys, BindOrderBy(s, &exprs, &names, visible, false));
    return ApplyOutput(s, plan, exprs, names, visible, std::move(keys));
  }

  // ORDER BY items: a select-list position, an output name, or (when `allow_expressions`) an
  // expression over the input, appended to `exprs` as a hidden output column.
  Result<std::vector<SortKey>> BindOrderBy(const PgQuery__SelectStmt* s, std::vector<ExprPtr>* exprs,
                                           std::vector<std::string>* names, size_t visible, bool allow_expressions) {
    std::vector<SortKey> keys;
    for (size_t i = 0; i < s->n_sort_clause; ++i) {
      const PgQuery__SortBy* sb = s->sort_clause[i]->sort_by;
      SortKey key;
      key.descending = sb->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC;
      key.nulls_first = sb->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST ||
                        (key.descending && sb->sortby_nulls != PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST);
      int out_index = -1;
      const PgQuery__Node* n = sb->node;
      if (n->node_case == PG_QUERY__NODE__NODE_A_CONST && n->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
        int pos = n->a_const->ival->ival;
        if (pos < 1 || static_cast<size_t>(pos) > visible)
          return BindErr(n->a_const->location, "ORDER BY position {} is not in select list", pos);
        out_index = pos - 1;
      } else if (n->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && n->column_ref->n_fields == 1) {
        const char* name = StringOf(n->column_ref->fields[0]);
        for (size_t k = 0; name && k < visible && out_index < 0; ++k)
          if (Lower((*names)[k]) == Lower(name)) out_index = static_cast<int>(k);
      }
      if (out_index < 0) {
        if (!allow_expressions) return BindErr(Location(n), "ORDER BY of a UNION must name an output column or position");
        WEIR_ASSIGN_OR_RETURN(ExprPtr e, BindExpr(n));
        out_index = static_cast<int>(exprs->size());
        exprs->push_back(e);
        names->push_back("?sort?");
      }
      const size_t k = static_cast<size_t>(out_index);
      key.expr = MakeColumnRef(out_index, (*exprs)[k]->type, (*names)[k]);
      keys.push_back(key);
    }
    return keys;
  }

  // Project the SELECT list (with hidden sort columns), sort, limit, then drop the hidden columns.
  Result<PlanPtr> ApplyOutput(const PgQuery__SelectStmt* s, PlanPtr plan, const std::vector<ExprPtr>& exprs,
                              const std::vector<std::string>& names, size_t visible, std::vector<SortKey> keys) {
    plan = MakeProject(plan, exprs, names);
    if (!keys.empty()) {
      auto sort = std::make_shared<LogicalPlan>();
      sort->kind = PlanKind::kSort;
      sort->schema = plan->schema;
      sort->sort_keys = std::move(keys);
      sort->inputs.push_back(plan);
      plan = sort;
    }
    if (s->limit_count || s->limit_offset) {
      auto lim = std::make_shared<LogicalPlan>();
      lim->kind = PlanKind::kLimit;
      lim->schema = plan->schema;
      if (s->limit_count) {
        WEIR_ASSIGN_OR_RETURN(lim->limit, ConstantInt(s->limit_count, "LIMIT"));
      }
      if (s->limit_offset) {
        WEIR_ASSIGN_OR_RETURN(lim->offset, ConstantInt(s->limit_offset, "OFFSET"));
      }
      lim->inputs.push_back(plan);
      plan = lim;
    }
    if (exprs.size() > visible) {
      std::vector<ExprPtr> final_exprs;
      std::vector<std::string> final_names;
      for (size_t k = 0; k < visible; ++k) {
        final_exprs.push_back(MakeColumnRef(static_cast<int>(k), exprs[k]->type, names[k]));
        final_names.push_back(names[k]);
      }
      plan = MakeProject(plan, final_exprs, final_names);
    }
    return plan;
  }

  // UNION ALL: both sides bound as nested queries, columns aligned by position and coerced to
  // their common types; ORDER BY / LIMIT of the whole statement apply to the result.
  Result<PlanPtr> BindSetOperation(const PgQuery__SelectStmt* s, int32_t location) {
    if (s->op != PG_QUERY__SET_OPERATION__SETOP_UNION)
      return Unsupported(location, "INTERSECT / EXCEPT are not supported yet");
    if (!s->all) return Unsupported(location, "UNION (distinct) is not supported yet; use UNION ALL");
    std::vector<PlanPtr> inputs;
    std::vector<const PgQuery__SelectStmt*> stack = {s};
    // Flatten left-deep chains of UNION ALL.
    std::function<Status(const PgQuery__SelectStmt*)> collect = [&](const PgQuery__SelectStmt* q) -> Status {
      if (q->op == PG_QUERY__SET_OPERATION__SETOP_UNION && q->all && q->n_sort_clause == 0 && !q->limit_count) {
        WEIR_RETURN_IF_ERROR(collect(q->larg));
        return collect(q->rarg);
      }
      WEIR_ASSIGN_OR_RETURN(PlanPtr p, BindNested(q, location));
      inputs.push_back(p);
      return Status::OK();
    };
    WEIR_RETURN_IF_ERROR(collect(s->larg));
    WEIR_RETURN_IF_ERROR(collect(s->rarg));
    const size_t width = inputs[0]->schema->num_fields();
    std::vector<DataType> types;
    for (size_t c = 0; c < width; ++c) types.push_back(inputs[0]->schema->field(c).type);
    for (size_t k = 1; k < inputs.size(); ++k) {
      if (inputs[k]->schema->num_fields() != width)
        return BindErr(location, "each UNION query must have the same number of columns ({} vs {})", width,
                       inputs[k]->schema->num_fields());
      for (size_t c = 0; c < width; ++c) {
        auto t = CommonSuperType(ArgInfo{types[c], nullptr, false}, ArgInfo{inputs[k]->schema->field(c).type, nullptr, false});
        if (!t.ok())
          return BindErr(location, "UNION types {} and {} cannot be matched (column {})", types[c].ToString(),
                         inputs[k]->schema->field(c).type.ToString(), c + 1);
        types[c] = *t;
      }
    }
    auto u = std::make_shared<LogicalPlan>();
    u->kind = PlanKind::kUnionAll;
    std::vector<Field> fields;
    for (size_t c = 0; c < width; ++c) fields.push_back({inputs[0]->schema->field(c).name, types[c], true});
    u->schema = std::make_shared<Schema>(fields);
    for (PlanPtr& in : inputs) {
      bool same = true;
      for (size_t c = 0; c < width; ++c) same &= in->schema->field(c).type == types[c];
      if (!same) {
        std::vector<ExprPtr> exprs;
        std::vector<std::string> names;
        for (size_t c = 0; c < width; ++c) {
          const Field& f = in->schema->field(c);
          WEIR_ASSIGN_OR_RETURN(ExprPtr e, CastTo(MakeColumnRef(static_cast<int>(c), f.type, f.name), types[c], false, location));
          exprs.push_back(e);
          names.push_back(fields[c].name);
        }
        in = MakeProject(in, exprs, names);
      }
      u->inputs.push_back(in);
    }
    // The result is the FROM of a trivial SELECT * with the statement's ORDER BY / LIMIT.
    PlanPtr plan = u;
    ScopeFromPlan(plan, "", nullptr);
    std::vector<ExprPtr> exprs;
    std::vector<std::string> names;
    for (const auto& c : scope_) {
      exprs.push_back(MakeColumnRef(c.index, c.type, c.name));
      names.push_back(c.name);
    }
    return FinishSelect(s, plan, std::move(exprs), std::move(names));
  }

  // Builds Project(group keys + aggregate inputs) ▸ Aggregate over `plan`, and rewrites the
  // SELECT / ORDER BY expressions and HAVING to read the aggregate's output.
  Result<PlanPtr> BindAggregation(const PgQuery__SelectStmt* s, PlanPtr plan, std::vector<ExprPtr>* exprs,
                                  const std::vector<std::string>& names, size_t visible, ExprPtr* having) {
    // GROUP BY items: input expressions, select-list positions or aliases.
    std::vector<ExprPtr> groups;
    std::vector<std::string> group_names;
    for (size_t i = 0; i < s->n_group_clause; ++i) {
      const PgQuery__Node* g = s->group_clause[i];
      ExprPtr e;
      std::string gname;
      if (g->node_case == PG_QUERY__NODE__NODE_A_CONST && g->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
        int pos = g->a_const->ival->ival;
        if (pos < 1 || static_cast<size_t>(pos) > visible)
          return BindErr(g->a_const->location, "GROUP BY position {} is not in select list", pos);
        e = (*exprs)[static_cast<size_t>(pos - 1)];
        gname = names[static_cast<size_t>(pos - 1)];
      } else if (g->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && g->column_ref->n_fields == 1 &&
                 StringOf(g->column_ref->fields[0]) && !HasInputColumn(StringOf(g->column_ref->fields[0]))) {
        std::string alias = Lower(StringOf(g->column_ref->fields[0]));
        for (size_t k = 0; k < visible; ++k)
          if (Lower(names[k]) == alias) {
            e = (*exprs)[k];
            gname = names[k];
            break;
          }
        if (!e) {
          WEIR_ASSIGN_OR_RETURN(e, BindExpr(g));  // reports "column does not exist"
        }
      } else {
        WEIR_ASSIGN_OR_RETURN(e, BindExpr(g));
        gname = DeriveName(g);
      }
      if (ContainsAggregate(*e)) return BindErr(Location(g), "aggregate functions are not allowed in GROUP BY");
      if (e->kind == ExprKind::kColumnRef) gname = e->name;
      bool dup = false;
      for (const auto& prev : groups) dup |= SameExpr(*prev, *e);
      if (dup) continue;
      groups.push_back(e);
      group_names.push_back(gname);
    }

    // Pre-projection: group keys, then each aggregate's argument and filter.
    std::vector<ExprPtr> pre = groups;
    std::vector<std::string> pre_names = group_names;
    auto agg = std::make_shared<LogicalPlan>();
    agg->kind = PlanKind::kAggregate;
    agg->group_count = static_cast<int>(groups.size());
    for (AggInfo& a : aggs_) {
      AggregateCall call;
      call.name = a.name;
      call.distinct = a.distinct;
      call.result_type = a.type;
      call.display = a.display;
      if (a.arg) {
        call.arg = static_cast<int>(pre.size());
        pre.push_back(a.arg);
        pre_names.push_back(fmt::format("__arg{}", pre.size()));
      }
      if (a.filter) {
        call.filter = static_cast<int>(pre.size());
        pre.push_back(a.filter);
        pre_names.push_back(fmt::format("__filter{}", pre.size()));
      }
      agg->aggregates.push_back(call);
    }
    // Window keys.
    for (size_t k = 0; k < groups.size(); ++k) {
      const Expr& g = *groups[k];
      if (g.kind != ExprKind::kColumnRef || window_start_col_ < 0) continue;
      if (g.column == window_start_col_) agg->window_start_key = static_cast<int>(k);
      if (g.column == window_end_col_) agg->window_end_key = static_cast<int>(k);
    }
    if (agg->window_start_key >= 0 || agg->window_end_key >= 0) {
      agg->windowed = true;
      agg->window = window_spec_;
      if (window_spec_.kind == WindowKind::kSession && (agg->window_start_key < 0 || agg->window_end_key < 0))
        return BindErr(location_, "SESSION windows must be grouped by both window_start and window_end");
    } else if (window_start_col_ >= 0 && window_spec_.kind == WindowKind::kSession) {
      return BindErr(location_, "SESSION windows must be grouped by window_start and window_end");
    }
    PlanPtr input = MakeProject(plan, pre, pre_names);
    std::vector<Field> fields;
    for (size_t k = 0; k < groups.size(); ++k) fields.push_back({group_names[k], groups[k]->type, true});
    for (const AggInfo& a : aggs_) fields.push_back({a.display, a.type, true});
    agg->schema = std::make_shared<Schema>(std::move(fields));
    agg->inputs.push_back(input);

    for (auto& e : *exprs) {
      WEIR_ASSIGN_OR_RETURN(e, RewriteOverAggregate(e, groups));
    }
    if (*having) {
      WEIR_ASSIGN_OR_RETURN(*having, RewriteOverAggregate(*having, groups));
    }
    return PlanPtr(agg);
  }

  bool HasInputColumn(const char* name) const {
    for (const auto& c : scope_)
      if (Lower(c.name) == Lower(name)) return true;
    return false;
  }

  static bool ContainsAggregate(const Expr& e) {
    if (e.kind == ExprKind::kAggregate) return true;
    for (const auto& a : e.args)
      if (ContainsAggregate(*a)) return true;
    return false;
  }

  static bool SameExpr(const Expr& a, const Expr& b) {
    if (a.kind == ExprKind::kColumnRef && b.kind == ExprKind::kColumnRef) return a.column == b.column;
    return a.type == b.type && a.ToString() == b.ToString();
  }

  // Maps an expression bound over the aggregate's input to one over its output: group keys
  // become column refs 0..G-1, aggregate placeholders G + i; any other column is an error.
  Result<ExprPtr> RewriteOverAggregate(const ExprPtr& e, const std::vector<ExprPtr>& groups) {
    for (size_t k = 0; k < groups.size(); ++k)
      if (SameExpr(*groups[k], *e))
        return MakeColumnRef(static_cast<int>(k), e->type, e->kind == ExprKind::kColumnRef ? e->name : groups[k]->ToString());
    if (e->kind == ExprKind::kAggregate)
      return MakeColumnRef(static_cast<int>(groups.size()) + e->column, e->type, e->name);
    if (e->kind == ExprKind::kColumnRef)
      return BindErr(e->location, "column \"{}\" must appear in the GROUP BY clause or be used in an aggregate function", e->name);
    if (e->args.empty()) return e;
    auto copy = std::make_shared<Expr>(*e);
    for (auto& a : copy->args) {
      WEIR_ASSIGN_OR_RETURN(a, RewriteOverAggregate(a, groups));
    }
    return ExprPtr(copy);
  }

  Result<int64_t> ConstantInt(const PgQuery__Node* n, const char* what) {
    WEIR_ASSIGN_OR_RETURN(ExprPtr e, BindExpr(n));
    WEIR_ASSIGN_OR_RETURN(ExprPtr f, FoldConstants(e));
    if (!f->is_constant() || !f->type.is_integer() || f->value.is_null || f->value.i < 0)
      return BindErr(Location(n), "{} must be a non-negative integer constant", what);
    return f->value.i;
  }

  Result<PlanPtr> BindFrom(const PgQuery__Node* n) {
    switch (n->node_case) {
      case PG_QUERY__NODE__NODE_RANGE_VAR: {
        const PgQuery__RangeVar* rv = n->range_var;
        std::string name = rv->relname;
        if (const Cte* cte = FindCte(Lower(name))) {
          WEIR_ASSIGN_OR_RETURN(PlanPtr plan, BindNested(cte->query, cte->def->location));
          if (cte->def->n_aliascolnames) {
            if (cte->def->n_aliascolnames > plan->schema->num_fields())
              return BindErr(cte->def->location, "WITH query \"{}\" has {} columns available but {} columns specified",
                             name, plan->schema->num_fields(), cte->def->n_aliascolnames);
            std::vector<ExprPtr> exprs;
            std::vector<std::string> names;
            for (size_t i = 0; i < plan->schema->num_fields(); ++i) {
              const Field& f = plan->schema->field(i);
              std::string nm = i < cte->def->n_aliascolnames ? StringOf(cte->def->aliascolnames[i]) : f.name;
              exprs.push_back(MakeColumnRef(static_cast<int>(i), f.type, f.name));
              names.push_back(nm);
            }
            plan = MakeProject(plan, exprs, names);
          }
          ScopeFromPlan(plan, rv->alias && rv->alias->aliasname ? rv->alias->aliasname : name, rv->alias);
          return plan;
        }
        auto rel = ctx_.lookup ? ctx_.lookup(name) : std::nullopt;
        if (!rel) return BindErr(rv->location, "relation \"{}\" does not exist", name);
        std::string qualifier = rv->alias && rv->alias->aliasname ? rv->alias->aliasname : name;
        std::vector<ScopeColumn> scope;
        for (size_t i = 0; i < rel->schema->num_fields(); ++i) {
          const Field& f = rel->schema->field(i);
          scope.push_back({Lower(qualifier), f.name, f.type, static_cast<int>(i)});
        }
        scope_ = std::move(scope);
        PlanPtr scan = MakeScan(rel->name, rel->kind, rel->schema);
        scan->relation_watermark_column = rel->watermark_column;
        scan->relation_watermark_expr = rel->watermark_expr;
        scan->relation_append_only = rel->append_only;
        scan->relation_time_bounds = rel->time_bounds;
        return scan;
      }
      case PG_QUERY__NODE__NODE_RANGE_FUNCTION: {
        const PgQuery__RangeFunction* rf = n->range_function;
        std::string fname = "?";
        if (rf->n_functions > 0 && rf->functions[0]->node_case == PG_QUERY__NODE__NODE_LIST &&
            rf->functions[0]->list->n_items > 0 &&
            rf->functions[0]->list->items[0]->node_case == PG_QUERY__NODE__NODE_FUNC_CALL) {
          const PgQuery__FuncCall* fc = rf->functions[0]->list->items[0]->func_call;
          fname = Lower(StringOf(fc->funcname[fc->n_funcname - 1]));
          if (fname == "tumble" || fname == "hop" || fname == "session")
            return BindWindowFunction(fc, fname, rf->alias);
          return Unsupported(fc->location, "table function {}() is not supported", fname);
        }
        return Unsupported(-1, "table functions are not supported yet");
      }
      case PG_QUERY__NODE__NODE_JOIN_EXPR: {
        const PgQuery__JoinExpr* j = n->join_expr;
        JoinKind kind;
        switch (j->jointype) {
          case PG_QUERY__JOIN_TYPE__JOIN_INNER: kind = JoinKind::kInner; break;
          case PG_QUERY__JOIN_TYPE__JOIN_LEFT: kind = JoinKind::kLeft; break;
          case PG_QUERY__JOIN_TYPE__JOIN_RIGHT: kind = JoinKind::kRight; break;
          case PG_QUERY__JOIN_TYPE__JOIN_FULL: kind = JoinKind::kFull; break;
          default: return Unsupported(location_, "this join type is not supported yet");
        }
        if (j->is_natural) return Unsupported(location_, "NATURAL JOIN is not supported; use JOIN ... ON");
        // Streaming join syntax marks the right relation (see PgParseTree::Parse).
        bool lookup_join = false, asof_join = false;
        if (j->rarg->node_case == PG_QUERY__NODE__NODE_RANGE_VAR) {
          const int32_t at = j->rarg->range_var->location;
          for (int32_t m : ctx_.asof_relations) {
            if (m != at) continue;
            if (kind != JoinKind::kInner && kind != JoinKind::kLeft)
              return Unsupported(at, "ASOF JOIN must be ASOF JOIN or ASOF LEFT JOIN");
            asof_join = true;
          }
          for (int32_t m : ctx_.lookup_relations) {
            if (m != at) continue;
            if (kind != JoinKind::kInner && kind != JoinKind::kLeft)
              return Unsupported(at, "a lookup join (FOR SYSTEM_TIME AS OF PROCTIME()) must be an INNER or LEFT join");
            lookup_join = true;
            ++markers_used_;
          }
        }
        WEIR_ASSIGN_OR_RETURN(PlanPtr left, BindFrom(j->larg));
        std::vector<ScopeColumn> left_scope = scope_;
        WEIR_ASSIGN_OR_RETURN(PlanPtr right, BindFrom(j->rarg));
        std::vector<ScopeColumn> right_scope = scope_;
        CombineScopes(left_scope, right_scope, left->schema->num_fields());
        ExprPtr cond;
        if (j->n_using_clause) {
          // USING (a, b): left.a = right.a AND ...
          for (size_t i = 0; i < j->n_using_clause; ++i) {
            std::string col = Lower(StringOf(j->using_clause[i]));
            const ScopeColumn* l = nullptr;
            const ScopeColumn* r = nullptr;
            for (const auto& c : left_scope)
              if (Lower(c.name) == col) l = &c;
            for (const auto& c : right_scope)
              if (Lower(c.name) == col) r = &c;
            if (!l || !r) return BindErr(location_, "column \"{}\" specified in USING clause does not exist in both sides", col);
            ExprPtr le = MakeColumnRef(l->index, l->type, l->name);
            ExprPtr re = MakeColumnRef(r->index + static_cast<int>(left->schema->num_fields()), r->type, r->name);
            WEIR_ASSIGN_OR_RETURN(ExprPtr eq, Call("eq", {le, re}, location_));
            if (!cond) cond = eq;
            else {
              WEIR_ASSIGN_OR_RETURN(cond, Call("and", {cond, eq}, location_));
            }
          }
        } else if (j->quals) {
          WEIR_ASSIGN_OR_RETURN(cond, BindExpr(j->quals));
          WEIR_RETURN_IF_ERROR(CheckBoolean(cond, j->quals, "JOIN/ON"));
        }
        if (asof_join) return MakeAsofJoinPlan(left, right, kind, cond, j->quals ? Location(j->quals) : location_);
        WEIR_ASSIGN_OR_RETURN(PlanPtr joined, MakeJoinPlan(left, right, kind, cond, j->quals ? Location(j->quals) : location_));
        if (lookup_join) {
          // MakeJoinPlan may add a projection above the join: mark the join node itself.
          LogicalPlan* n = joined.get();
          while (n->kind != PlanKind::kJoin) n = n->inputs[0].get();
          n->lookup = true;
        }
        return joined;
      }
      case PG_QUERY__NODE__NODE_RANGE_SUBSELECT: {
        const PgQuery__RangeSubselect* rs = n->range_subselect;
        if (rs->lateral) return Unsupported(-1, "LATERAL subqueries are not supported");
        if (!rs->subquery || rs->subquery->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
          return Unsupported(-1, "unsupported subquery");
        WEIR_ASSIGN_OR_RETURN(PlanPtr plan, BindNested(rs->subquery->select_stmt, location_));
        ScopeFromPlan(plan, rs->alias && rs->alias->aliasname ? rs->alias->aliasname : "", rs->alias);
        if (rs->alias && rs->alias->n_colnames) {
          std::vector<ExprPtr> exprs;
          std::vector<std::string> names;
          for (const auto& c : scope_) {
            exprs.push_back(MakeColumnRef(c.index, c.type, plan->schema->field(static_cast<size_t>(c.index)).name));
            names.push_back(c.name);
          }
          plan = MakeProject(plan, exprs, names);
        }
        return plan;
      }
      default:
        return Unsupported(-1, "unsupported FROM item");
    }
  }

  // TUMBLE(rel, time_col, size) / HOP(rel, time_col, slide, size) / SESSION(rel, time_col, gap):
  // the relation's columns plus window_start and window_end.
  Result<PlanPtr> BindWindowFunction(const PgQuery__FuncCall* fc, const std::string& fname,
                                     const PgQuery__Alias* alias) {
    const size_t want = fname == "hop" ? 4 : 3;
    std::string upper = fname;
    for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (fc->n_args != want)
      return BindErr(fc->location, "{}() takes {} arguments: {}", upper, want,
                     fname == "hop" ? "(relation, time column, slide, size)"
                     : fname == "tumble" ? "(relation, time column, size)" : "(relation, time column, gap)");
    const PgQuery__Node* rel_arg = fc->args[0];
    if (rel_arg->node_case != PG_QUERY__NODE__NODE_COLUMN_REF || rel_arg->column_ref->n_fields != 1)
      return BindErr(Location(rel_arg), "the first argument of {}() must be a source or view name", upper);
    std::string rel_name = StringOf(rel_arg->column_ref->fields[0]);
    if (FindCte(Lower(rel_name)))
      return Unsupported(rel_arg->column_ref->location,
                         "{}() over a WITH query is not supported yet; create a materialized view and window that", upper);
    auto rel = ctx_.lookup ? ctx_.lookup(rel_name) : std::nullopt;
    if (!rel) return BindErr(rel_arg->column_ref->location, "relation \"{}\" does not exist", rel_name);
    std::string qualifier = Lower(alias && alias->aliasname ? alias->aliasname : rel->name);
    std::vector<ScopeColumn> scope;
    for (size_t i = 0; i < rel->schema->num_fields(); ++i) {
      const Field& f = rel->schema->field(i);
      scope.push_back({qualifier, f.name, f.type, static_cast<int>(i)});
    }
    scope_ = scope;
    // Time column: a column name, or DESCRIPTOR(col) as in Flink.
    const PgQuery__Node* time_arg = fc->args[1];
    if (time_arg->node_case == PG_QUERY__NODE__NODE_FUNC_CALL && time_arg->func_call->n_args == 1 &&
        Lower(StringOf(time_arg->func_call->funcname[time_arg->func_call->n_funcname - 1])) == "descriptor")
      time_arg = time_arg->func_call->args[0];
    // PROCTIME(): a processing-time window (the wall clock when a row is processed).
    const bool proctime = time_arg->node_case == PG_QUERY__NODE__NODE_FUNC_CALL && time_arg->func_call->n_args == 0 &&
                          Lower(StringOf(time_arg->func_call->funcname[time_arg->func_call->n_funcname - 1])) == "proctime";
    if (proctime && fname == "session")
      return Unsupported(Location(time_arg), "SESSION() over PROCTIME() is not supported; use TUMBLE or HOP");
    ExprPtr time;
    if (!proctime) {
      WEIR_ASSIGN_OR_RETURN(time, BindExpr(time_arg));
      if (time->kind != ExprKind::kColumnRef)
        return BindErr(Location(time_arg), "the time argument of {}() must be a column or PROCTIME()", upper);
      if (time->type.id != TypeId::kTimestamp)
        return BindErr(Location(time_arg), "the time column of {}() must be TIMESTAMP, not {}", upper, time->type.ToString());
    }
    std::vector<int64_t> sizes;
    for (size_t k = 2; k < want; ++k) {
      WEIR_ASSIGN_OR_RETURN(ExprPtr e, BindExpr(fc->args[k]));
      auto folded = FoldConstants(e);
      if (!folded.ok()) return AtLocation(Location(fc->args[k]), folded.status());
      const Expr& c = **folded;
      if (!c.is_constant() || c.type.id != TypeId::kInterval || c.value.is_null)
        return BindErr(Location(fc->args[k]), "the size arguments of {}() must be INTERVAL constants", upper);
      if (c.value.iv.months != 0)
        return BindErr(Location(fc->args[k]), "window sizes in months or years are not supported (months vary in length)");
      int64_t us = c.value.iv.NominalMicros();
      if (us <= 0) return BindErr(Location(fc->args[k]), "window sizes must be positive");
      sizes.push_back(us);
    }
    WindowSpec spec;
    spec.time_column = proctime ? -1 : time->column;
    spec.processing_time = proctime;
    if (fname == "tumble") {
      spec.kind = WindowKind::kTumble;
      spec.size_us = spec.slide_us = sizes[0];
    } else if (fname == "hop") {
      spec.kind = WindowKind::kHop;
      spec.slide_us = sizes[0];
      spec.size_us = sizes[1];
      if (spec.size_us % spec.slide_us != 0)
        return BindErr(fc->location, "HOP size must be a multiple of its slide");
      if (spec.size_us / spec.slide_us > 1024)
        return BindErr(fc->location, "HOP size / slide must be at most 1024 windows per row");
    } else {
      spec.kind = WindowKind::kSession;
      spec.gap_us = sizes[0];
    }
    PlanPtr scan = MakeScan(rel->name, rel->kind, rel->schema);
    scan->relation_watermark_column = rel->watermark_column;
    scan->relation_watermark_expr = rel->watermark_expr;
    scan->relation_append_only = rel->append_only;
    scan->relation_time_bounds = rel->time_bounds;
    PlanPtr win = MakeWindow(scan, spec);
    window_spec_ = spec;
    window_start_col_ = static_cast<int>(rel->schema->num_fields());
    window_end_col_ = window_start_col_ + 1;
    scope_.push_back({qualifier, "window_start", DataType::Timestamp(), window_start_col_});
    scope_.push_back({qualifier, "window_end", DataType::Timestamp(), window_end_col_});
    return win;
  }

  Result<PlanPtr> BindRowNumber(const PgQuery__FuncCall* f, PlanPtr plan) {
    std::string name = Lower(StringOf(f->funcname[f->n_funcname - 1]));
    if (name != "row_number")
      return Unsupported(f->location, "window function {}() is not supported; only ROW_NUMBER() (Top-N, deduplication)", name);
    if (row_number_col_ >= 0) return Unsupported(f->location, "only one ROW_NUMBER() per query is supported");
    const PgQuery__WindowDef* w = f->over;
    if (w->n_order_clause == 0) return BindErr(f->location, "ROW_NUMBER() needs ORDER BY in its OVER clause");
    auto topn = std::make_shared<LogicalPlan>();
    topn->kind = PlanKind::kTopN;
    for (size_t i = 0; i < w->n_partition_clause; ++i) {
      WEIR_ASSIGN_OR_RETURN(ExprPtr e, BindExpr(w->partition_clause[i]));
      if (e->kind != ExprKind::kColumnRef)
        return Unsupported(Location(w->partition_clause[i]), "PARTITION BY of ROW_NUMBER() must list columns");
      topn->partition_columns.push_back(e->column);
    }
    for (size_t i = 0; i < w->n_order_clause; ++i) {
      const PgQuery__SortBy* sb = w->order_clause[i]->sort_by;
      WEIR_ASSIGN_OR_RETURN(ExprPtr e, BindExpr(sb->node));
      if (e->kind != ExprKind::kColumnRef) return Unsupported(Location(sb->node), "ORDER BY of ROW_NUMBER() must list columns");
      SortKey k;
      k.expr = e;
      k.descending = sb->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC;
      k.nulls_first = sb->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST ||
                      (k.descending && sb->sortby_nulls != PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST);
      topn->sort_keys.push_back(k);
    }
    topn->limit = -1;
    std::vector<Field> fields = plan->schema->fields();
    row_number_col_ = static_cast<int>(fields.size());
    fields.push_back({"row_number", DataType::Int64(), false});
    topn->schema = std::make_shared<Schema>(std::move(fields));
    topn->inputs.push_back(plan);
    row_number_call_ = f;
    return PlanPtr(topn);
  }

  // Sets the limit of a Top-N below `plan` from the conjuncts of `pred` of the form
  // `rn <= N`, `rn < N`, `rn = 1` where rn (column `col` of plan's output) is its row number.
  static void ApplyTopNLimit(const PlanPtr& plan, const ExprPtr& pred) {
    // Follow the row-number column down through projections and filters.
    const LogicalPlan* n = plan.get();
    int col = -1;
    std::vector<ExprPtr> conjuncts;
    SplitConjuncts(pred, &conjuncts);
    for (const ExprPtr& c : conjuncts) {
      if (c->kind != ExprKind::kCall || c->args.size() != 2) continue;
      const Expr& a = *c->args[0];
      const Expr& b = *c->args[1];
      if (a.kind != ExprKind::kColumnRef || !b.is_constant() || b.value.is_null || !b.type.is_integer()) continue;
      int64_t limit = -1;
      if (c->fn.name == "le") limit = b.value.i;
      else if (c->fn.name == "lt") limit = b.value.i - 1;
      else if (c->fn.name == "eq" && b.value.i == 1) limit = 1;
      if (limit < 1) continue;
      col = a.column;
      n = plan.get();
      while (n) {
        if (n->kind == PlanKind::kTopN) {
          if (col == static_cast<int>(n->schema->num_fields()) - 1 && (n->limit < 1 || limit < n->limit))
            const_cast<LogicalPlan*>(n)->limit = limit;
          break;
        }
        if (n->kind == PlanKind::kProject) {
          const Expr& e = *n->exprs[static_cast<size_t>(col)];
          if (e.kind != ExprKind::kColumnRef) break;
          col = e.column;
        } else if (n->kind != PlanKind::kFilter) {
          break;
        }
        n = n->inputs[0].get();
      }
    }
  }

  // [NOT] EXISTS (SELECT ... FROM r WHERE ...) and x IN (SELECT col FROM r ...) as a semi
  // (anti) join of `plan` with the subquery's relation. The subquery may reference the outer
  // query's columns (correlation); its equalities between inner and outer expressions become
  // the join keys, its inner-only conditions a filter on r, the rest the residual.
  Result<PlanPtr> BindSubqueryJoin(PlanPtr plan, const PgQuery__SubLink* sub, bool negated) {
    const int32_t loc = sub->location;
    const bool exists = sub->sub_link_type == PG_QUERY__SUB_LINK_TYPE__EXISTS_SUBLINK;
    const bool in = sub->sub_link_type == PG_QUERY__SUB_LINK_TYPE__ANY_SUBLINK &&
                    (sub->n_oper_name == 0 || (StringOf(sub->oper_name[sub->n_oper_name - 1]) &&
                                                std::string_view(StringOf(sub->oper_name[sub->n_oper_name - 1])) == "="));
    if (!exists && !in) return Unsupported(loc, "only [NOT] EXISTS and IN subqueries are supported");
    if (in && negated)
      return Unsupported(loc, "NOT IN (subquery) is not supported (its NULL semantics differ from NOT EXISTS); use NOT EXISTS");
    if (!sub->subselect || sub->subselect->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
      return Unsupported(loc, "unsupported subquery");
    const PgQuery__SelectStmt* q = sub->subselect->select_stmt;
    if (q->n_from_clause != 1 || q->n_group_clause || q->having_clause || q->n_sort_clause || q->limit_count ||
        q->with_clause || q->op != PG_QUERY__SET_OPERATION__SETOP_NONE)
      return Unsupported(loc, "subqueries in WHERE must be a simple SELECT ... FROM one relation [WHERE ...]");
    const size_t ow = plan->schema->num_fields();
    const std::vector<ScopeColumn> outer = scope_;
    Binder inner(ctx_);
    inner.ctes_ = ctes_;
    WEIR_ASSIGN_OR_RETURN(PlanPtr right, inner.BindFrom(q->from_clause[0]));
    const size_t iw = right->schema->num_fields();
    for (auto& c : inner.scope_) c.index += static_cast<int>(ow);  // combined row: outer, then inner
    inner.outer_scope_ = &outer;
    ExprPtr cond;
    if (q->where_clause) {
      WEIR_ASSIGN_OR_RETURN(cond, inner.BindExpr(q->where_clause));
      WEIR_RETURN_IF_ERROR(CheckBoolean(cond, q->where_clause, "WHERE"));
    }
    if (in) {
      if (q->n_target_list != 1) return BindErr(loc, "subquery has too many columns");
      WEIR_ASSIGN_OR_RETURN(ExprPtr item, inner.BindExpr(q->target_list[0]->res_target->val));
      WEIR_ASSIGN_OR_RETURN(ExprPtr probe, BindExpr(sub->testexpr));
      WEIR_ASSIGN_OR_RETURN(ExprPtr eq, Call("eq", {probe, item}, loc));
      if (!cond) cond = eq;
      else {
        WEIR_ASSIGN_OR_RETURN(cond, Call("and", {cond, eq}, loc));
      }
    }
    if (!cond) return BindErr(loc, "an EXISTS subquery needs a condition relating it to the outer query");
    // Inner-only conjuncts filter the subquery's relation.
    std::vector<ExprPtr> conjuncts, inner_only, rest;
    SplitConjuncts(cond, &conjuncts);
    for (const ExprPtr& c : conjuncts) {
      std::vector<bool> used(ow + iw, false);
      CollectColumns(*c, &used);
      bool uses_outer = std::find(used.begin(), used.begin() + static_cast<long>(ow), true) != used.begin() + static_cast<long>(ow);
      (uses_outer ? rest : inner_only).push_back(c);
    }
    if (!inner_only.empty()) {
      std::vector<int> down(ow + iw, -1);
      for (size_t i = 0; i < iw; ++i) down[ow + i] = static_cast<int>(i);
      ExprPtr f = RemapColumns(inner_only[0], down);
      for (size_t i = 1; i < inner_only.size(); ++i) {
        WEIR_ASSIGN_OR_RETURN(f, Call("and", {f, RemapColumns(inner_only[i], down)}, loc));
      }
      right = MakeFilter(right, f);
    }
    ExprPtr join_cond;
    for (const ExprPtr& c : rest) {
      if (!join_cond) join_cond = c;
      else {
        WEIR_ASSIGN_OR_RETURN(join_cond, Call("and", {join_cond, c}, loc));
      }
    }
    if (!join_cond) return BindErr(loc, "the subquery must be correlated with an equality to the outer query");
    WEIR_ASSIGN_OR_RETURN(PlanPtr joined, MakeJoinPlan(plan, right, negated ? JoinKind::kAnti : JoinKind::kSemi, join_cond, loc));
    scope_ = outer;  // the semi/anti join keeps the outer columns only
    return joined;
  }

  // The scope of a join: the left side's columns, then the right side's (indices shifted).
  void CombineScopes(const std::vector<ScopeColumn>& left, const std::vector<ScopeColumn>& right, size_t left_width) {
    std::vector<ScopeColumn> scope = left;
    for (ScopeColumn c : right) {
      c.index += static_cast<int>(left_width);
      scope.push_back(c);
    }
    scope_ = std::move(scope);
  }

  // An equi-join of `left` and `right` on `cond` (over the combined columns): conjuncts
  // `l = r` with l reading only the left side and r only the right become the keys (computed in
  // projections when they are expressions, cast to a common type); the rest is the residual.
  // ASOF [LEFT] JOIN: equalities by key plus exactly one `left.t >= right.t` (or >; or the
  // mirrored <= / <) between two columns of the same ordered type.
  Result<PlanPtr> MakeAsofJoinPlan(PlanPtr left, PlanPtr right, JoinKind kind, ExprPtr cond, int32_t location) {
    const int lw = static_cast<int>(left->schema->num_fields());
    std::vector<ExprPtr> conjuncts;
    if (cond) SplitConjuncts(cond, &conjuncts);
    int lt = -1, rt = -1;
    bool strict = false;
    ExprPtr rest;
    for (const ExprPtr& c : conjuncts) {
      const std::string& f = c->fn.name;
      const bool cmp = c->kind == ExprKind::kCall && c->args.size() == 2 && (f == "ge" || f == "gt" || f == "le" || f == "lt");
      if (cmp) {
        if (lt >= 0) return BindErr(location, "ASOF JOIN takes exactly one inequality");
        const Expr& a = *c->args[0];
        const Expr& b = *c->args[1];
        if (a.kind != ExprKind::kColumnRef || b.kind != ExprKind::kColumnRef)
          return BindErr(c->location >= 0 ? c->location : location,
                         "ASOF JOIN compares two columns of the same type (TIMESTAMP, BIGINT or INT)");
        // Orient as left op right.
        const bool a_left = a.column < lw, b_left = b.column < lw;
        if (a_left == b_left) return BindErr(location, "the ASOF JOIN inequality must compare a left column with a right column");
        std::string op = f;
        int l = a.column, r = b.column;
        if (!a_left) {
          std::swap(l, r);
          op = f == "ge" ? "le" : f == "gt" ? "lt" : f == "le" ? "ge" : "gt";
        }
        if (op != "ge" && op != "gt")
          return Unsupported(location, "ASOF JOIN supports left.t >= right.t or left.t > right.t (the latest right row at or before)");
        lt = l;
        rt = r - lw;
        strict = op == "gt";
        continue;
      }
      if (!rest) rest = c;
      else {
        WEIR_ASSIGN_OR_RETURN(rest, Call("and", {rest, c}, location));
      }
    }
    if (lt < 0) return BindErr(location, "ASOF JOIN needs an inequality left.t >= right.t in its ON clause");
    WEIR_ASSIGN_OR_RETURN(PlanPtr joined, MakeJoinPlan(left, right, kind, rest, location));
    LogicalPlan* n = joined.get();
    while (n->kind != PlanKind::kJoin) n = n->inputs[0].get();
    if (n->residual) return Unsupported(location, "ASOF JOIN supports only equalities besides its one inequality");
    n->asof = true;
    n->asof_left_time = lt;
    n->asof_right_time = rt;
    n->asof_strict = strict;
    return joined;
  }

  Result<PlanPtr> MakeJoinPlan(PlanPtr left, PlanPtr right, JoinKind kind, ExprPtr cond, int32_t location) {
    const size_t lw = left->schema->num_fields();
    const size_t rw = right->schema->num_fields();
    std::vector<ExprPtr> conjuncts;
    if (cond) SplitConjuncts(cond, &conjuncts);
    auto side_of = [&](const Expr& e) {  // 1 = left only, 2 = right only, 3 = both, 0 = none
      std::vector<bool> used(lw + rw, false);
      CollectColumns(e, &used);
      int side = 0;
      for (size_t i = 0; i < used.size(); ++i)
        if (used[i]) side |= i < lw ? 1 : 2;
      return side;
    };
    std::vector<ExprPtr> lkeys, rkeys, residual;
    for (const ExprPtr& c : conjuncts) {
      if (c->kind == ExprKind::kCall && c->fn.name == "eq" && c->args.size() == 2) {
        int a = side_of(*c->args[0]), b = side_of(*c->args[1]);
        if (a == 1 && b == 2) {
          lkeys.push_back(c->args[0]);
          rkeys.push_back(c->args[1]);
          continue;
        }
        if (a == 2 && b == 1) {
          lkeys.push_back(c->args[1]);
          rkeys.push_back(c->args[0]);
          continue;
        }
      }
      residual.push_back(c);
    }
    if (lkeys.empty())
      return BindErr(location, "a join needs at least one equality between the two sides (cross joins are not supported)");
    // Key expressions that are not plain columns are computed by a projection on their side.
    std::vector<int> lcols, rcols;
    std::vector<ExprPtr> lextra, rextra;
    std::vector<int> rshift(lw + rw, -1);
    for (size_t j = 0; j < rw; ++j) rshift[lw + j] = static_cast<int>(j);
    for (size_t k = 0; k < lkeys.size(); ++k) {
      // The eq binding already cast both sides to one type.
      if (lkeys[k]->kind == ExprKind::kColumnRef) {
        lcols.push_back(lkeys[k]->column);
      } else {
        lcols.push_back(static_cast<int>(lw + lextra.size()));
        lextra.push_back(lkeys[k]);
      }
      ExprPtr r = RemapColumns(rkeys[k], rshift);
      if (r->kind == ExprKind::kColumnRef) {
        rcols.push_back(r->column);
      } else {
        rcols.push_back(static_cast<int>(rw + rextra.size()));
        rextra.push_back(r);
      }
    }
    auto extend = [](PlanPtr in, const std::vector<ExprPtr>& extra) {
      if (extra.empty()) return in;
      std::vector<ExprPtr> exprs;
      std::vector<std::string> names;
      for (size_t i = 0; i < in->schema->num_fields(); ++i) {
        const Field& f = in->schema->field(i);
        exprs.push_back(MakeColumnRef(static_cast<int>(i), f.type, f.name));
        names.push_back(f.name);
      }
      for (size_t i = 0; i < extra.size(); ++i) {
        exprs.push_back(extra[i]);
        names.push_back(fmt::format("__key{}", i));
      }
      return MakeProject(in, exprs, names);
    };
    const bool extra_cols = !lextra.empty() || !rextra.empty();
    left = extend(left, lextra);
    right = extend(right, rextra);
    auto join = std::make_shared<LogicalPlan>();
    join->kind = PlanKind::kJoin;
    join->join_kind = kind;
    join->left_keys = lcols;
    join->right_keys = rcols;
    const bool left_only = kind == JoinKind::kSemi || kind == JoinKind::kAnti;
    std::vector<Field> fields = left->schema->fields();
    if (!left_only)
      for (const Field& f : right->schema->fields()) fields.push_back(f);
    join->schema = std::make_shared<Schema>(std::move(fields));
    const size_t nlw = left->schema->num_fields();
    if (!residual.empty()) {
      // Residual conjuncts over the combined row of the (possibly extended) inputs.
      std::vector<int> map(lw + rw);
      for (size_t i = 0; i < lw; ++i) map[i] = static_cast<int>(i);
      for (size_t j = 0; j < rw; ++j) map[lw + j] = static_cast<int>(nlw + j);
      ExprPtr acc = RemapColumns(residual[0], map);
      for (size_t i = 1; i < residual.size(); ++i) {
        WEIR_ASSIGN_OR_RETURN(acc, Call("and", {acc, RemapColumns(residual[i], map)}, location));
      }
      join->residual = acc;
    }
    join->inputs = {left, right};
    if (!extra_cols) return PlanPtr(join);
    // Hide the computed key columns again: the join's visible output is left, then right.
    std::vector<ExprPtr> exprs;
    std::vector<std::string> names;
    for (size_t i = 0; i < lw; ++i) {
      const Field& f = join->schema->field(i);
      exprs.push_back(MakeColumnRef(static_cast<int>(i), f.type, f.name));
      names.push_back(f.name);
    }
    for (size_t j = 0; j < rw && !left_only; ++j) {
      const Field& f = join->schema->field(nlw + j);
      exprs.push_back(MakeColumnRef(static_cast<int>(nlw + j), f.type, f.name));
      names.push_back(f.name);
    }
    return MakeProject(join, exprs, names);
  }

  static bool IsStar(const PgQuery__Node* n) {
    if (n->node_case != PG_QUERY__NODE__NODE_COLUMN_REF) return false;
    const PgQuery__ColumnRef* c = n->column_ref;
    return c->n_fields > 0 && c->fields[c->n_fields - 1]->node_case == PG_QUERY__NODE__NODE_A_STAR;
  }

  Status ExpandStar(const PgQuery__ColumnRef* c, std::vector<ExprPtr>* exprs,
                    std::vector<std::string>* names) {
    std::string qualifier;
    if (c->n_fields == 2) qualifier = Lower(StringOf(c->fields[0]));
    bool any = false;
    for (const auto& col : scope_) {
      if (!qualifier.empty() && col.qualifier != qualifier) continue;
      exprs->push_back(MakeColumnRef(col.index, col.type, col.name));
      names->push_back(col.name);
      any = true;
    }
    if (!any) return BindErr(c->location, "missing FROM-clause entry for table \"{}\"", qualifier);
    return Status::OK();
  }

  std::string DeriveName(const PgQuery__Node* n) const {
    switch (n->node_case) {
      case PG_QUERY__NODE__NODE_COLUMN_REF: {
        const PgQuery__ColumnRef* c = n->column_ref;
        const char* s = StringOf(c->fields[c->n_fields - 1]);
        return s ? s : "?column?";
      }
      case PG_QUERY__NODE__NODE_FUNC_CALL: {
        const PgQuery__FuncCall* f = n->func_call;
        const char* s = StringOf(f->funcname[f->n_funcname - 1]);
        std::string name = s ? Lower(s) : "?column?";
        if (name == "btrim") name = "trim";
        return name;
      }
      case PG_QUERY__NODE__NODE_TYPE_CAST: {
        const PgQuery__TypeCast* t = n->type_cast;
        if (t->arg->node_case == PG_QUERY__NODE__NODE_A_CONST) {
          const char* s = StringOf(t->type_name->names[t->type_name->n_names - 1]);
          return s ? Lower(s) : "?column?";
        }
        return DeriveName(t->arg);
      }
      case PG_QUERY__NODE__NODE_CASE_EXPR: return "case";
      case PG_QUERY__NODE__NODE_COALESCE_EXPR: return "coalesce";
      default: return "?column?";
    }
  }

  // ---- expressions -------------------------------------------------------------------------
  static int32_t Location(const PgQuery__Node* n) {
    switch (n->node_case) {
      case PG_QUERY__NODE__NODE_COLUMN_REF: return n->column_ref->location;
      case PG_QUERY__NODE__NODE_A_CONST: return n->a_const->location;
      case PG_QUERY__NODE__NODE_A_EXPR: return n->a_expr->location;
      case PG_QUERY__NODE__NODE_FUNC_CALL: return n->func_call->location;
      case PG_QUERY__NODE__NODE_TYPE_CAST: return n->type_cast->location >= 0 ? n->type_cast->location : Location(n->type_cast->arg);
      case PG_QUERY__NODE__NODE_BOOL_EXPR: return n->bool_expr->location;
      case PG_QUERY__NODE__NODE_NULL_TEST: return n->null_test->location;
      case PG_QUERY__NODE__NODE_CASE_EXPR: return n->case_expr->location;
      case PG_QUERY__NODE__NODE_COALESCE_EXPR: return n->coalesce_expr->location;
      case PG_QUERY__NODE__NODE_SUB_LINK: return n->sub_link->location;
      case PG_QUERY__NODE__NODE_BOOLEAN_TEST: return n->boolean_test->location;
      default: return -1;
    }
  }

  Status CheckBoolean(const ExprPtr& e, const PgQuery__Node* n, const char* clause) {
    if (e->type.id == TypeId::kBoolean || e->type.id == TypeId::kNull) return Status::OK();
    return BindErr(Location(n), "argument of {} must be type BOOLEAN, not type {}", clause,
                   e->type.ToString());
  }

  Result<ExprPtr> BindExpr(const PgQuery__Node* n) {
    switch (n->node_case) {
      case PG_QUERY__NODE__NODE_COLUMN_REF: return BindColumnRef(n->column_ref);
      case PG_QUERY__NODE__NODE_A_CONST: return BindConst(n->a_const);
      case PG_QUERY__NODE__NODE_TYPE_CAST: return BindTypeCast(n->type_cast);
      case PG_QUERY__NODE__NODE_A_EXPR: return BindAExpr(n->a_expr);
      case PG_QUERY__NODE__NODE_BOOL_EXPR: {
        const PgQuery__BoolExpr* b = n->bool_expr;
        const char* fn = b->boolop == PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR ? "and"
                         : b->boolop == PG_QUERY__BOOL_EXPR_TYPE__OR_EXPR ? "or" : "not";
        std::vector<ExprPtr> args;
        for (size_t i = 0; i < b->n_args; ++i) {
          WEIR_ASSIGN_OR_RETURN(ExprPtr a, BindExpr(b->args[i]));
          WEIR_RETURN_IF_ERROR(CheckBoolean(a, b->args[i], fn[0] == 'a' ? "AND" : fn[0] == 'o' ? "OR" : "NOT"));
          args.push_back(a);
        }
        if (std::strcmp(fn, "not") == 0) return Call("not", {args[0]}, b->location);
        ExprPtr acc = args[0];
        for (size_t i = 1; i < args.size(); ++i) {
          WEIR_ASSIGN_OR_RETURN(acc, Call(fn, {acc, args[i]}, b->location));
        }
        return acc;
      }
      case PG_QUERY__NODE__NODE_NULL_TEST: {
        const PgQuery__NullTest* t = n->null_test;
        WEIR_ASSIGN_OR_RETURN(ExprPtr a, BindExpr(t->arg));
        return Call(t->nulltesttype == PG_QUERY__NULL_TEST_TYPE__IS_NULL ? "is_null" : "is_not_null",
                    {a}, t->location);
      }
      case PG_QUERY__NODE__NODE_BOOLEAN_TEST: {
        const PgQuery__BooleanTest* t = n->boolean_test;
        WEIR_ASSIGN_OR_RETURN(ExprPtr a, BindExpr(t->arg));
        const char* fn = nullptr;
        switch (t->booltesttype) {
          case PG_QUERY__BOOL_TEST_TYPE__IS_TRUE: fn = "is_true"; break;
          case PG_QUERY__BOOL_TEST_TYPE__IS_NOT_TRUE: fn = "is_not_true"; break;
          case PG_QUERY__BOOL_TEST_TYPE__IS_FALSE: fn = "is_false"; break;
          case PG_QUERY__BOOL_TEST_TYPE__IS_NOT_FALSE: fn = "is_not_false"; break;
          case PG_QUERY__BOOL_TEST_TYPE__IS_UNKNOWN: fn = "is_null"; break;
          case PG_QUERY__BOOL_TEST_TYPE__IS_NOT_UNKNOWN: fn = "is_not_null"; break;
          default: return Unsupported(t->location, "unsupported boolean test");
        }
        return Call(fn, {a}, t->location);
      }
      case PG_QUERY__NODE__NODE_FUNC_CALL: return BindFuncCall(n->func_call);
      case PG_QUERY__NODE__NODE_CASE_EXPR: return BindCase(n->case_expr);
      case PG_QUERY__NODE__NODE_COALESCE_EXPR: {
        const PgQuery__CoalesceExpr* c = n->coalesce_expr;
        std::vector<ExprPtr> args;
        for (size_t i = 0; i < c->n_args; ++i) {
          WEIR_ASSIGN_OR_RETURN(ExprPtr a, BindExpr(c->args[i]));
          args.push_back(a);
        }
        return Unify(ExprKind::kCoalesce, std::move(args), false, c->location, "COALESCE");
      }
      case PG_QUERY__NODE__NODE_SUB_LINK:
        return Unsupported(n->sub_link->location, "subqueries are not supported yet");
      case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION:
        return Unsupported(n->sqlvalue_function->location,
                           "CURRENT_TIMESTAMP and friends are not supported in streaming queries");
      case PG_QUERY__NODE__NODE_PARAM_REF:
        return Unsupported(n->param_ref->location, "parameters ($n) are not supported");
      default:
        return Unsupported(Location(n), "unsupported expression");
    }
  }

  Result<ExprPtr> BindColumnRef(const PgQuery__ColumnRef* c) {
    if (c->n_fields > 0 && c->fields[c->n_fields - 1]->node_case == PG_QUERY__NODE__NODE_A_STAR)
      return BindErr(c->location, "* is only allowed in the SELECT list");
    std::string qualifier, name;
    if (c->n_fields == 1) {
      name = StringOf(c->fields[0]);
    } else if (c->n_fields == 2) {
      qualifier = Lower(StringOf(c->fields[0]));
      name = StringOf(c->fields[1]);
    } else {
      return BindErr(c->location, "improper qualified name (too many dotted names)");
    }
    const ScopeColumn* found = nullptr;
    for (const auto& col : scope_) {
      if (!qualifier.empty() && col.qualifier != qualifier) continue;
      if (Lower(col.name) != Lower(name)) continue;
      if (found) return BindErr(c->location, "column reference \"{}\" is ambiguous", name);
      found = &col;
    }
    if (!found && outer_scope_) {
      for (const auto& col : *outer_scope_) {
        if (!qualifier.empty() && col.qualifier != qualifier) continue;
        if (Lower(col.name) != Lower(name)) continue;
        if (found) return BindErr(c->location, "column reference \"{}\" is ambiguous", name);
        found = &col;
      }
    }
    if (!found) {
      if (!qualifier.empty()) {
        bool known = false;
        for (const auto& col : scope_) known |= col.qualifier == qualifier;
        if (!known) return BindErr(c->location, "missing FROM-clause entry for table \"{}\"", qualifier);
        return BindErr(c->location, "column {}.{} does not exist", qualifier, name);
      }
      return BindErr(c->location, "column \"{}\" does not exist", name);
    }
    auto ref = std::make_shared<Expr>(*MakeColumnRef(found->index, found->type, found->name));
    ref->location = c->location;
    return ExprPtr(ref);
  }

  Result<ExprPtr> BindConst(const PgQuery__AConst* c) {
    if (c->isnull) return MakeLiteral(Value::Null());
    switch (c->val_case) {
      case PG_QUERY__A__CONST__VAL_IVAL: return MakeLiteral(Value::Int32(c->ival->ival));
      case PG_QUERY__A__CONST__VAL_BOOLVAL: return MakeLiteral(Value::Boolean(c->boolval->boolval));
      case PG_QUERY__A__CONST__VAL_SVAL: return MakeLiteral(Value::Varchar(c->sval->sval), true);
      case PG_QUERY__A__CONST__VAL_FVAL: {
        std::string_view text = c->fval->fval;
        bool integral = text.find_first_of(".eE") == std::string_view::npos;
        if (integral) {
          int64_t v;
          auto r = std::from_chars(text.data(), text.data() + text.size(), v);
          if (r.ec == std::errc() && r.ptr == text.data() + text.size()) return MakeLiteral(Value::Int64(v));
        }
        if (text.find_first_of("eE") == std::string_view::npos) {
          size_t dot = text.find('.');
          int scale = dot == std::string_view::npos ? 0 : static_cast<int>(text.size() - dot - 1);
          int digits = 0;
          for (char ch : text) digits += (ch >= '0' && ch <= '9');
          int precision = std::max(digits, scale);
          if (precision <= kDecimalPrecisionMax) {
            int64_t v;
            if (ParseDecimal(text, precision, scale, &v))
              return MakeLiteral(Value::Decimal(v, static_cast<uint8_t>(precision), static_cast<uint8_t>(scale)));
          }
        }
        double d;
        auto r = std::from_chars(text.data(), text.data() + text.size(), d);
        if (r.ec != std::errc()) return BindErr(c->location, "invalid numeric literal {}", text);
        return MakeLiteral(Value::Double(d));
      }
      default:
        return Unsupported(c->location, "unsupported literal");
    }
  }

  Result<DataType> BindTypeName(const PgQuery__TypeName* t, std::string* interval_unit) {
    std::string name;
    for (size_t i = 0; i < t->n_names; ++i) {
      const char* s = StringOf(t->names[i]);
      if (!s) continue;
      if (std::strcmp(s, "pg_catalog") == 0) continue;
      if (!name.empty()) name += '.';
      name += s;
    }
    if (t->n_array_bounds) return Unsupported(t->location, "array types are not supported");
    int args[2];
    int nargs = 0;
    for (size_t i = 0; i < t->n_typmods && nargs < 2; ++i) {
      const PgQuery__Node* m = t->typmods[i];
      if (m->node_case == PG_QUERY__NODE__NODE_A_CONST && m->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL)
        args[nargs++] = m->a_const->ival->ival;
    }
    std::string lname = Lower(name);
    if (lname == "interval") {
      if (nargs >= 1 && interval_unit) *interval_unit = IntervalUnitFromTypmod(args[0]);
      nargs = 0;
    }
    if (lname == "varchar" || lname == "bpchar" || lname == "text" || lname == "timestamp") nargs = 0;
    if (lname == "timestamptz")
      return Unsupported(t->location, "TIMESTAMP WITH TIME ZONE is not supported; use TIMESTAMP");
    auto type = DataTypeFromName(lname, args, nargs);
    if (!type.ok()) return AtLocation(t->location, type.status());
    return type;
  }

  Result<ExprPtr> BindTypeCast(const PgQuery__TypeCast* tc) {
    std::string unit;
    WEIR_ASSIGN_OR_RETURN(DataType to, BindTypeName(tc->type_name, &unit));
    int32_t loc = Location(tc->arg);
    if (to.id == TypeId::kInterval && tc->arg->node_case == PG_QUERY__NODE__NODE_A_CONST &&
        tc->arg->a_const->val_case == PG_QUERY__A__CONST__VAL_SVAL) {
      Interval iv;
      if (!ParseInterval(tc->arg->a_const->sval->sval, unit, &iv))
        return BindErr(loc, "invalid input syntax for type INTERVAL: \"{}\"", tc->arg->a_const->sval->sval);
      return MakeLiteral(Value::IntervalValue(iv));
    }
    WEIR_ASSIGN_OR_RETURN(ExprPtr arg, BindExpr(tc->arg));
    return CastTo(arg, to, true, loc);
  }

  // Casts `e` to `to` (no-op when equal). Constant casts are folded now so that a bad literal
  // ('abc'::TIMESTAMP) is reported at plan time with its position.
  Result<ExprPtr> CastTo(ExprPtr e, DataType to, bool explicit_cast, int32_t location) {
    if (e->type == to) return e;
    if (e->type.id == TypeId::kNull) return MakeLiteral(Value::Null(to));
    auto binding = BindCast(e->type, to, explicit_cast || e->untyped_literal);
    if (!binding.ok()) return AtLocation(location, binding.status());
    ExprPtr call = MakeCall(std::move(binding).value(), {e}, location);
    if (e->is_constant()) {
      auto folded = FoldConstants(call);
      if (!folded.ok()) return AtLocation(location, folded.status());
      return folded;
    }
    return call;
  }

  // Binds a call to a registry function, inserting implicit casts.
  Result<ExprPtr> Call(std::string_view name, std::vector<ExprPtr> args, int32_t location) {
    std::vector<ArgInfo> infos;
    for (const auto& a : args)
      infos.push_back(ArgInfo{a->type, a->is_constant() ? &a->value : nullptr, a->untyped_literal});
    auto binding = BindFunction(name, infos);
    if (!binding.ok()) return AtLocation(location, binding.status());
    FunctionBinding fn = std::move(binding).value();
    for (size_t i = 0; i < args.size() && i < fn.arg_types.size(); ++i) {
      if (args[i]->type == fn.arg_types[i] || fn.arg_types[i].id == TypeId::kNull) continue;
      WEIR_ASSIGN_OR_RETURN(args[i], CastTo(args[i], fn.arg_types[i], false, location));
    }
    return MakeCall(std::move(fn), std::move(args), location);
  }

  Result<ExprPtr> BindAExpr(const PgQuery__AExpr* a) {
    const char* op = a->n_name > 0 ? StringOf(a->name[a->n_name - 1]) : "";
    std::string_view sop = op ? op : "";
    switch (a->kind) {
      case PG_QUERY__A__EXPR__KIND__AEXPR_OP: {
        if (!a->lexpr) {  // prefix operator
          WEIR_ASSIGN_OR_RETURN(ExprPtr r, BindExpr(a->rexpr));
          if (sop == "-") {
            if (r->is_constant() && !r->value.is_null) {
              // Fold negative literals directly so INT64_MIN literals work.
              Value v = r->value;
              if (v.type.id == TypeId::kDouble) { v.d = -v.d; return MakeLiteral(v); }
              if (v.type.is_integer() || v.type.id == TypeId::kDecimal) {
                if (v.i != INT64_MIN) { v.i = -v.i; return MakeLiteral(v); }
              }
            }
            return Call("negate", {r}, a->location);
          }
          if (sop == "+") return r;
          return Unsupported(a->location, "operator does not exist: {} {}", sop, r->type.ToString());
        }
        WEIR_ASSIGN_OR_RETURN(ExprPtr l, BindExpr(a->lexpr));
        WEIR_ASSIGN_OR_RETURN(ExprPtr r, BindExpr(a->rexpr));
        static const std::pair<std::string_view, const char*> kOps[] = {
            {"+", "add"}, {"-", "subtract"}, {"*", "multiply"}, {"/", "divide"}, {"%", "modulo"},
            {"=", "eq"},  {"<>", "ne"},      {"!=", "ne"},      {"<", "lt"},     {"<=", "le"},
            {">", "gt"},  {">=", "ge"},      {"||", "concat_op"}, {"~~", "like"}, {"!~~", "not_like"},
            {"~~*", "ilike"}};
        for (const auto& [text, fn] : kOps)
          if (sop == text) return Call(fn, {l, r}, a->location);
        return Unsupported(a->location, "operator does not exist: {} {} {}", l->type.ToString(), sop,
                           r->type.ToString());
      }
      case PG_QUERY__A__EXPR__KIND__AEXPR_LIKE:
      case PG_QUERY__A__EXPR__KIND__AEXPR_ILIKE: {
        WEIR_ASSIGN_OR_RETURN(ExprPtr l, BindExpr(a->lexpr));
        WEIR_ASSIGN_OR_RETURN(ExprPtr r, BindExpr(a->rexpr));
        bool negated = sop.size() > 0 && sop[0] == '!';
        if (a->kind == PG_QUERY__A__EXPR__KIND__AEXPR_ILIKE) {
          WEIR_ASSIGN_OR_RETURN(ExprPtr m, Call("ilike", {l, r}, a->location));
          return negated ? Call("not", {m}, a->location) : m;
        }
        return Call(negated ? "not_like" : "like", {l, r}, a->location);
      }
      case PG_QUERY__A__EXPR__KIND__AEXPR_IN: {
        WEIR_ASSIGN_OR_RETURN(ExprPtr l, BindExpr(a->lexpr));
        if (a->rexpr->node_case != PG_QUERY__NODE__NODE_LIST)
          return Unsupported(a->location, "IN (subquery) is not supported yet");
        std::vector<ExprPtr> items;
        for (size_t i = 0; i < a->rexpr->list->n_items; ++i) {
          WEIR_ASSIGN_OR_RETURN(ExprPtr it, BindExpr(a->rexpr->list->items[i]));
          items.push_back(it);
        }
        bool all_const = true;
        for (const auto& it : items) all_const &= IsConstantExpr(*it);
        ExprPtr result;
        if (all_const) {
          // Coerce probe and list to one type, fold the list to literals, call "in".
          ArgInfo acc{l->type, nullptr, l->untyped_literal};
          DataType common = l->type;
          for (const auto& it : items) {
            auto t = CommonSuperType(ArgInfo{common, nullptr, false}, ArgInfo{it->type, nullptr, it->untyped_literal});
            if (!t.ok()) return AtLocation(a->location, t.status());
            common = *t;
          }
          (void)acc;
          std::vector<ExprPtr> args;
          WEIR_ASSIGN_OR_RETURN(ExprPtr probe, CastTo(l, common, false, a->location));
          args.push_back(probe);
          for (auto& it : items) {
            WEIR_ASSIGN_OR_RETURN(ExprPtr c, CastTo(it, common, false, a->location));
            WEIR_ASSIGN_OR_RETURN(c, FoldConstants(c));
            args.push_back(c);
          }
          WEIR_ASSIGN_OR_RETURN(result, Call("in", std::move(args), a->location));
        } else {
          // Non-constant list: x = a OR x = b ...
          for (auto& it : items) {
            WEIR_ASSIGN_OR_RETURN(ExprPtr eq, Call("eq", {l, it}, a->location));
            if (!result) result = eq;
            else {
              WEIR_ASSIGN_OR_RETURN(result, Call("or", {result, eq}, a->location));
            }
          }
        }
        if (sop == "<>") return Call("not", {result}, a->location);
        return result;
      }
      case PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN:
      case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN: {
        WEIR_ASSIGN_OR_RETURN(ExprPtr x, BindExpr(a->lexpr));
        const PgQuery__List* bounds = a->rexpr->list;
        WEIR_ASSIGN_OR_RETURN(ExprPtr lo, BindExpr(bounds->items[0]));
        WEIR_ASSIGN_OR_RETURN(ExprPtr hi, BindExpr(bounds->items[1]));
        WEIR_ASSIGN_OR_RETURN(ExprPtr ge, Call("ge", {x, lo}, a->location));
        WEIR_ASSIGN_OR_RETURN(ExprPtr le, Call("le", {x, hi}, a->location));
        WEIR_ASSIGN_OR_RETURN(ExprPtr both, Call("and", {ge, le}, a->location));
        if (a->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN) return Call("not", {both}, a->location);
        return both;
      }
      case PG_QUERY__A__EXPR__KIND__AEXPR_NULLIF: {
        WEIR_ASSIGN_OR_RETURN(ExprPtr l, BindExpr(a->lexpr));
        WEIR_ASSIGN_OR_RETURN(ExprPtr r, BindExpr(a->rexpr));
        WEIR_ASSIGN_OR_RETURN(ExprPtr eq, Call("eq", {l, r}, a->location));
        return Unify(ExprKind::kCase, {eq, MakeLiteral(Value::Null(l->type)), l}, true, a->location, "NULLIF");
      }
      case PG_QUERY__A__EXPR__KIND__AEXPR_DISTINCT:
      case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_DISTINCT: {
        // a IS DISTINCT FROM b  ==  CASE WHEN a IS NULL THEN b IS NOT NULL
        //                             WHEN b IS NULL THEN true ELSE a <> b END
        WEIR_ASSIGN_OR_RETURN(ExprPtr l, BindExpr(a->lexpr));
        WEIR_ASSIGN_OR_RETURN(ExprPtr r, BindExpr(a->rexpr));
        WEIR_ASSIGN_OR_RETURN(ExprPtr ln, Call("is_null", {l}, a->location));
        WEIR_ASSIGN_OR_RETURN(ExprPtr rn, Call("is_null", {r}, a->location));
        WEIR_ASSIGN_OR_RETURN(ExprPtr rnn, Call("is_not_null", {r}, a->location));
        WEIR_ASSIGN_OR_RETURN(ExprPtr ne, Call("ne", {l, r}, a->location));
        WEIR_ASSIGN_OR_RETURN(ExprPtr d, Unify(ExprKind::kCase, {ln, rnn, rn, MakeLiteral(Value::Boolean(true)), ne},
                                                true, a->location, "IS DISTINCT FROM"));
        if (a->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NOT_DISTINCT) return Call("not", {d}, a->location);
        return d;
      }
      default:
        return Unsupported(a->location, "unsupported operator {}", sop);
    }
  }

  // Builds CASE / COALESCE with all result branches cast to their common type.
  // For kCase, `args` = [when1, then1, ..., else?] and results are the odd positions + else.
  Result<ExprPtr> Unify(ExprKind kind, std::vector<ExprPtr> args, bool has_else, int32_t location,
                        const char* what) {
    std::vector<size_t> results;
    if (kind == ExprKind::kCase) {
      size_t pairs = (args.size() - (has_else ? 1 : 0)) / 2;
      for (size_t k = 0; k < pairs; ++k) results.push_back(2 * k + 1);
      if (has_else) results.push_back(args.size() - 1);
    } else {
      for (size_t k = 0; k < args.size(); ++k) results.push_back(k);
    }
    DataType common = DataType::Null();
    bool all_untyped = true;
    for (size_t k : results) {
      const ExprPtr& e = args[k];
      if (e->type.id == TypeId::kNull) continue;
      all_untyped &= e->untyped_literal;
      if (common.id == TypeId::kNull) {
        common = e->type;
        continue;
      }
      auto t = CommonSuperType(ArgInfo{common, nullptr, false}, ArgInfo{e->type, nullptr, e->untyped_literal});
      if (!t.ok()) return BindErr(location, "{} types {} and {} cannot be matched", what, common.ToString(), e->type.ToString());
      common = *t;
    }
    if (common.id == TypeId::kNull) common = DataType::Varchar();
    (void)all_untyped;
    for (size_t k : results) {
      WEIR_ASSIGN_OR_RETURN(args[k], CastTo(args[k], common, false, location));
    }
    auto e = std::make_shared<Expr>();
    e->kind = kind;
    e->type = common;
    e->args = std::move(args);
    e->has_else = has_else;
    e->location = location;
    return ExprPtr(e);
  }

  Result<ExprPtr> BindCase(const PgQuery__CaseExpr* c) {
    ExprPtr subject;
    if (c->arg) {
      WEIR_ASSIGN_OR_RETURN(subject, BindExpr(c->arg));
    }
    std::vector<ExprPtr> args;
    for (size_t i = 0; i < c->n_args; ++i) {
      const PgQuery__CaseWhen* w = c->args[i]->case_when;
      WEIR_ASSIGN_OR_RETURN(ExprPtr cond, BindExpr(w->expr));
      if (subject) {
        WEIR_ASSIGN_OR_RETURN(cond, Call("eq", {subject, cond}, w->location));
      } else {
        WEIR_RETURN_IF_ERROR(CheckBoolean(cond, w->expr, "CASE/WHEN"));
      }
      WEIR_ASSIGN_OR_RETURN(ExprPtr res, BindExpr(w->result));
      args.push_back(cond);
      args.push_back(res);
    }
    bool has_else = c->defresult != nullptr;
    if (has_else) {
      WEIR_ASSIGN_OR_RETURN(ExprPtr d, BindExpr(c->defresult));
      args.push_back(d);
    }
    return Unify(ExprKind::kCase, std::move(args), has_else, c->location, "CASE");
  }

  Result<ExprPtr> BindAggregateCall(const PgQuery__FuncCall* f, const std::string& name) {
    if (!agg_allowed_) return BindErr(f->location, "aggregate functions are not allowed here");
    if (!IsAggregateFunctionName(name)) return BindErr(f->location, "{}() is not an aggregate function", name);
    if (f->n_agg_order) return Unsupported(f->location, "ORDER BY inside an aggregate is not supported");
    agg_allowed_ = false;  // no nested aggregates
    struct Restore {
      bool* flag;
      ~Restore() { *flag = true; }
    } restore{&agg_allowed_};
    AggInfo a;
    a.distinct = f->agg_distinct;
    if (f->agg_star) {
      if (name != "count") return BindErr(f->location, "{}(*) is not allowed; only count(*)", name);
      a.name = "count_star";
      a.display = "count(*)";
    } else {
      if (f->n_args != 1) return BindErr(f->location, "{}() takes exactly one argument", name);
      WEIR_ASSIGN_OR_RETURN(a.arg, BindExpr(f->args[0]));
      if (ContainsAggregate(*a.arg)) return BindErr(f->location, "aggregate function calls cannot be nested");
      if (a.arg->type.id == TypeId::kNull) {
        WEIR_ASSIGN_OR_RETURN(a.arg, CastTo(a.arg, DataType::Int64(), false, f->location));
      }
      if (a.arg->untyped_literal) {
        WEIR_ASSIGN_OR_RETURN(a.arg, CastTo(a.arg, DataType::Varchar(), false, f->location));
      }
      a.name = name;
      a.display = fmt::format("{}({}{})", name, a.distinct ? "DISTINCT " : "", a.arg->ToString());
    }
    if (f->agg_filter) {
      WEIR_ASSIGN_OR_RETURN(a.filter, BindExpr(f->agg_filter));
      WEIR_RETURN_IF_ERROR(CheckBoolean(a.filter, f->agg_filter, "FILTER"));
      a.display += " FILTER (WHERE " + a.filter->ToString() + ")";
    }
    auto type = AggregateResultType(a.name, a.arg ? a.arg->type : DataType::Null());
    if (!type.ok()) return AtLocation(f->location, type.status());
    a.type = *type;
    a.key = a.display;
    int index = -1;
    for (size_t i = 0; i < aggs_.size(); ++i)
      if (aggs_[i].key == a.key) index = static_cast<int>(i);
    if (index < 0) {
      index = static_cast<int>(aggs_.size());
      aggs_.push_back(a);
    }
    auto e = std::make_shared<Expr>();
    e->kind = ExprKind::kAggregate;
    e->column = index;
    e->type = a.type;
    e->name = aggs_[static_cast<size_t>(index)].display;
    e->location = f->location;
    return ExprPtr(e);
  }

  Result<ExprPtr> BindFuncCall(const PgQuery__FuncCall* f) {
    std::string name = Lower(StringOf(f->funcname[f->n_funcname - 1]));
    if (f->over) {
      if (f == row_number_call_) return MakeColumnRef(row_number_col_, DataType::Int64(), "row_number");
      return Unsupported(f->location, "window functions are only supported in the SELECT list (ROW_NUMBER() for Top-N)");
    }
    if (IsAggregateFunctionName(name) || f->agg_star || f->agg_distinct || f->agg_filter)
      return BindAggregateCall(f, name);
    std::vector<ExprPtr> args;
    for (size_t i = 0; i < f->n_args; ++i) {
      WEIR_ASSIGN_OR_RETURN(ExprPtr a, BindExpr(f->args[i]));
      args.push_back(a);
    }
    if (name == "btrim") name = "trim";
    if (name == "coalesce") return Unify(ExprKind::kCoalesce, std::move(args), false, f->location, "COALESCE");
    if (name == "nullif" && args.size() == 2) {
      WEIR_ASSIGN_OR_RETURN(ExprPtr eq, Call("eq", {args[0], args[1]}, f->location));
      return Unify(ExprKind::kCase, {eq, MakeLiteral(Value::Null(args[0]->type)), args[0]}, true, f->location, "NULLIF");
    }
    return Call(name, std::move(args), f->location);
  }

 private:
  struct AggInfo {
    std::string name;  // count_star, count, sum, avg, min, max
    bool distinct = false;
    ExprPtr arg;
    ExprPtr filter;
    DataType type;
    std::string display;
    std::string key;  // for de-duplication
  };

  const BindContext& ctx_;
 public:
  int markers_used_ = 0;  // lookup-join markers consumed by JOINs
 private:
  std::vector<ScopeColumn> scope_;
  // Correlated subqueries: the enclosing query's columns, which precede this query's own
  // columns in the combined row (local indices are shifted past them).
  const std::vector<ScopeColumn>* outer_scope_ = nullptr;
  bool agg_allowed_ = false;
  std::vector<AggInfo> aggs_;
  // The window TVF in FROM, if any: its spec and the scope indices of its columns.
  WindowSpec window_spec_;
  // ROW_NUMBER(): its call and its column in the Top-N output.
  const PgQuery__FuncCall* row_number_call_ = nullptr;
  int row_number_col_ = -1;
  int window_start_col_ = -1;
  int window_end_col_ = -1;
  int32_t location_ = 0;
};

}  // namespace

Result<PlanPtr> BindQuery(const PgQuery__Node* stmt, const BindContext& ctx) {
  Binder b(ctx);
  if (stmt->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
    return NotSupported("{}: expected a SELECT query", ctx.lines->Position(ctx.base_offset));
  WEIR_ASSIGN_OR_RETURN(PlanPtr plan, b.BindSelect(stmt->select_stmt, 0));
  if (b.markers_used_ != static_cast<int>(ctx.lookup_relations.size())) {
    return NotSupported("{}: FOR SYSTEM_TIME AS OF PROCTIME() applies to the right relation of a JOIN",
                        ctx.lines->Position(ctx.base_offset + static_cast<size_t>(ctx.lookup_relations[0])));
  }
  return plan;
}

Result<ExprPtr> BindStandaloneExpr(std::string_view sql, size_t offset, const Schema& input,
                                   const LineMap& lines) {
  static constexpr std::string_view kPrefix = "SELECT ";
  std::string text = std::string(kPrefix) + std::string(sql);
  // Positions inside `text` are shifted by the prefix; compensate in the base offset.
  size_t base = offset >= kPrefix.size() ? offset - kPrefix.size() : 0;
  auto tree = PgParseTree::Parse(text, base, lines);
  if (!tree.ok()) return tree.status();
  const PgQuery__Node* stmt = tree->statement();
  const PgQuery__SelectStmt* s = stmt->select_stmt;
  if (stmt->node_case != PG_QUERY__NODE__NODE_SELECT_STMT || s->n_target_list != 1 || s->n_from_clause)
    return SyntaxError("{}: expected a single expression", lines.Position(offset));
  BindContext ctx;
  ctx.lines = &lines;
  ctx.base_offset = base;
  Binder b(ctx);
  std::vector<ScopeColumn> scope;
  for (size_t i = 0; i < input.num_fields(); ++i)
    scope.push_back({"", input.field(i).name, input.field(i).type, static_cast<int>(i)});
  b.SetScope(std::move(scope));
  return b.BindExpr(s->target_list[0]->res_target->val);
}

}  // namespace weir

// ---- DML support (tables): expressions over a table's columns, assignment casts ----------------
namespace weir {

Result<ExprPtr> BindScalarExpr(const PgQuery__Node* expr, const Schema& input, std::string_view qualifier,
                               const BindContext& ctx) {
  Binder b(ctx);
  std::vector<ScopeColumn> scope;
  for (size_t i = 0; i < input.num_fields(); ++i)
    scope.push_back({Lower(qualifier), input.field(i).name, input.field(i).type, static_cast<int>(i)});
  b.SetScope(std::move(scope));
  return b.BindExpr(expr);
}

Result<ExprPtr> BindAssignment(ExprPtr e, const Field& target, int32_t location, const BindContext& ctx) {
  auto is_numeric = [](TypeId id) {
    return id == TypeId::kInt32 || id == TypeId::kInt64 || id == TypeId::kDecimal || id == TypeId::kDouble;
  };
  const DataType to = target.type;
  const TypeId from = e->type.id;
  const bool allowed = from == TypeId::kNull || from == to.id || to.id == TypeId::kVarchar ||
                       (is_numeric(from) && is_numeric(to.id)) || (e->untyped_literal && e->is_constant());
  Binder b(ctx);
  if (!allowed)
    return b.BindErr(location, "column \"{}\" is of type {} but expression is of type {}", target.name,
                     to.ToString(), e->type.ToString());
  return b.CastTo(std::move(e), to, true, location);
}

}  // namespace weir

namespace weir {
int32_t ExprLocation(const PgQuery__Node* n) { return Binder::Location(n); }
}  // namespace weir
