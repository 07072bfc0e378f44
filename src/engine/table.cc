#include "engine/table.h"

#include <algorithm>

#include "expr/evaluator.h"

namespace weir {

namespace {

void ResetLike(const Schema& schema, RecordBatch* b) {
  b->columns().resize(schema.num_fields());
  for (size_t c = 0; c < schema.num_fields(); ++c) ReuseColumn(&b->columns()[c], schema.field(c).type);
  b->set_num_rows(0);
  b->DisableOps();
}

}  // namespace

Table::Table(std::string name, SchemaPtr schema, std::vector<int> key_columns)
    : name_(name), storage_(std::move(name), schema, std::move(key_columns)) {
  old_rows_.set_schema(schema);
  new_rows_.set_schema(schema);
  out_.set_schema(schema);
}

Status Table::Backfill(Operator* in) const {
  return storage_.ForEachLiveBatch([&](const RecordBatch& b) { return in->Push(b); });
}

Result<int64_t> Table::Insert(const RecordBatch& rows, bool skip_conflicts, int64_t batch_rows) {
  std::vector<uint32_t> inserted;
  WEIR_RETURN_IF_ERROR(storage_.Insert(rows, skip_conflicts, &inserted));
  const int64_t n = static_cast<int64_t>(inserted.size());
  if (subscribers_.empty() || n == 0) return n;
  if (n == rows.num_rows()) {
    WEIR_RETURN_IF_ERROR(Emit(nullptr, &rows, batch_rows));
  } else {
    ResetLike(*schema(), &new_rows_);
    for (size_t c = 0; c < schema()->num_fields(); ++c)
      new_rows_.columns()[c]->Gather(*rows.column(c), inserted.data(), n);
    new_rows_.set_num_rows(n);
    WEIR_RETURN_IF_ERROR(Emit(nullptr, &new_rows_, batch_rows));
  }
  return n;
}

Status Table::Select(const ExprPtr& where, const std::vector<std::pair<int, ExprPtr>>* sets,
                     std::vector<int64_t>* ids) {
  const Schema& schema = *this->schema();
  ResetLike(schema, &old_rows_);
  ResetLike(schema, &new_rows_);
  ids->clear();
  std::unique_ptr<ExprEvaluator> filter;
  if (where) filter = std::make_unique<ExprEvaluator>(where);
  std::vector<ExprEvaluator> set_evals;
  if (sets)
    for (const auto& [col, e] : *sets) set_evals.emplace_back(e);
  std::vector<uint32_t> sel;
  RecordBatch piece(this->schema());
  for (const Field& f : schema.fields()) piece.columns().push_back(std::make_shared<Column>(f.type));
  return storage_.ForEachChunk([&](const RecordBatch& chunk, int64_t first, const uint8_t* live) -> Status {
    const int64_t n = chunk.num_rows();
    sel.clear();
    if (filter) {
      WEIR_ASSIGN_OR_RETURN(const ColumnPtr* result, filter->Evaluate(chunk, live));
      const Column& mask = **result;
      for (int64_t i = 0; i < n; ++i)
        if (live[i] && mask.IsValid(i) && mask.Get<uint8_t>(i)) sel.push_back(static_cast<uint32_t>(i));
    } else {
      for (int64_t i = 0; i < n; ++i)
        if (live[i]) sel.push_back(static_cast<uint32_t>(i));
    }
    if (sel.empty()) return Status::OK();
    const int64_t k = static_cast<int64_t>(sel.size());
    for (uint32_t i : sel) ids->push_back(first + i);
    for (size_t c = 0; c < schema.num_fields(); ++c) {
      Column* col = ReuseColumn(&piece.columns()[c], schema.field(c).type);
      col->Gather(*chunk.column(c), sel.data(), k);
      old_rows_.columns()[c]->AppendRange(*col, 0, k);
    }
    piece.set_num_rows(k);
    if (sets) {
      // New rows: the old values, with the assigned columns replaced.
      std::vector<const Column*> cols(schema.num_fields());
      for (size_t c = 0; c < schema.num_fields(); ++c) cols[c] = piece.column(c).get();
      std::vector<ColumnPtr> results(sets->size());
      for (size_t j = 0; j < sets->size(); ++j) {
        WEIR_ASSIGN_OR_RETURN(const ColumnPtr* r, set_evals[j].Evaluate(piece));
        results[j] = *r;  // keeps the column alive while the others are evaluated
        cols[static_cast<size_t>((*sets)[j].first)] = results[j].get();
      }
      for (size_t c = 0; c < schema.num_fields(); ++c) new_rows_.columns()[c]->AppendRange(*cols[c], 0, k);
    }
    return Status::OK();
  });
}

Result<int64_t> Table::Update(const BoundUpdate& u, int64_t batch_rows) {
  std::vector<int64_t> ids;
  WEIR_RETURN_IF_ERROR(Select(u.where, &u.sets, &ids));
  const int64_t n = static_cast<int64_t>(ids.size());
  old_rows_.set_num_rows(n);
  new_rows_.set_num_rows(n);
  if (n == 0) return n;
  WEIR_RETURN_IF_ERROR(storage_.Update(ids, old_rows_, new_rows_));
  if (!subscribers_.empty()) WEIR_RETURN_IF_ERROR(Emit(&old_rows_, &new_rows_, batch_rows));
  return n;
}

Result<int64_t> Table::Delete(const BoundDelete& d, int64_t batch_rows) {
  std::vector<int64_t> ids;
  WEIR_RETURN_IF_ERROR(Select(d.where, nullptr, &ids));
  const int64_t n = static_cast<int64_t>(ids.size());
  old_rows_.set_num_rows(n);
  if (n == 0) return n;
  storage_.Delete(ids, old_rows_);
  if (!subscribers_.empty()) WEIR_RETURN_IF_ERROR(Emit(&old_rows_, nullptr, batch_rows));
  return n;
}

Status Table::Emit(const RecordBatch* old_rows, const RecordBatch* new_rows, int64_t batch_rows) {
  const RecordBatch* any = old_rows ? old_rows : new_rows;
  const int64_t n = any->num_rows();
  const size_t width = schema()->num_fields();
  const bool update = old_rows && new_rows;
  if (!update && n <= batch_rows) {
    // One batch: push the rows themselves.
    if (new_rows) return subscribers_.Push(*new_rows);
    out_.columns() = old_rows->columns();
    out_.set_num_rows(n);
    Op* ops = out_.EnableOps();
    std::fill(ops, ops + n, Op::kDelete);
    Status s = subscribers_.Push(out_);
    out_.columns().clear();
    return s;
  }
  const int64_t per_batch = update ? std::max<int64_t>(1, batch_rows / 2) : batch_rows;
  for (int64_t from = 0; from < n; from += per_batch) {
    const int64_t k = std::min(per_batch, n - from);
    ResetLike(*schema(), &out_);
    for (size_t c = 0; c < width; ++c) {
      Column* dst = out_.columns()[c].get();
      if (update) {
        for (int64_t i = from; i < from + k; ++i) {
          dst->AppendFrom(*old_rows->column(c), i);
          dst->AppendFrom(*new_rows->column(c), i);
        }
      } else {
        dst->AppendRange(*any->column(c), from, k);
      }
    }
    const int64_t rows = update ? 2 * k : k;
    out_.set_num_rows(rows);
    if (update || old_rows) {
      Op* ops = out_.EnableOps();
      for (int64_t i = 0; i < rows; ++i) ops[i] = update ? (i % 2 == 0 ? Op::kDelete : Op::kInsert) : Op::kDelete;
    } else {
      out_.DisableOps();
    }
    WEIR_RETURN_IF_ERROR(subscribers_.Push(out_));
  }
  return Status::OK();
}

}  // namespace weir
