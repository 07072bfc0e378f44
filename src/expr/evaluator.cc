#include "expr/evaluator.h"

#include <cstring>

namespace weir {

struct ExprEvaluator::Node {
  const Expr* e = nullptr;
  std::vector<std::unique_ptr<Node>> children;
  ColumnPtr out;
  std::vector<const Column*> argv;
  std::vector<const Column*> branch;  // CASE / COALESCE: chosen-branch columns
  Buffer remaining;                   // CASE / COALESCE: rows still undecided (byte mask)
  Buffer mask;                        // CASE: rows taking the current THEN branch
  Buffer choice;                      // CASE / COALESCE: branch index a row (0xff = NULL)
};

ExprEvaluator::ExprEvaluator(ExprPtr expr) : expr_(std::move(expr)) {
  struct Builder {
    static std::unique_ptr<Node> Build(const Expr* e) {
      auto n = std::make_unique<Node>();
      n->e = e;
      for (const auto& a : e->args) n->children.push_back(Build(a.get()));
      n->argv.resize(e->args.size());
      if (e->kind == ExprKind::kLiteral) {
        n->out = std::make_shared<Column>(e->type.id == TypeId::kNull ? DataType::Boolean() : e->type);
        AppendValue(n->out.get(), e->value);
        n->out->MakeConstant(1);
      }
      return n;
    }
  };
  root_ = Builder::Build(expr_.get());
}

ExprEvaluator::~ExprEvaluator() = default;
ExprEvaluator::ExprEvaluator(ExprEvaluator&&) noexcept = default;
ExprEvaluator& ExprEvaluator::operator=(ExprEvaluator&&) noexcept = default;

namespace {

using Node = ExprEvaluator::Node;

Result<const ColumnPtr*> Eval(Node* n, const RecordBatch& batch, const uint8_t* active);

// Builds out = branch[choice[i]] row by row (choice 0xff = NULL). Types already agree.
void Blend(Node* n, int64_t rows) {
  Column* out = ReuseColumn(&n->out, n->e->type);
  const uint8_t* choice = n->choice.data();
  if (out->type().id == TypeId::kVarchar) {
    for (int64_t i = 0; i < rows; ++i) {
      uint8_t k = choice[i];
      if (k == 0xff) out->AppendNull();
      else out->AppendFrom(*n->branch[k], i);
    }
    return;
  }
  out->ResizeFixed(rows);
  const size_t w = static_cast<size_t>(out->type().byte_width());
  uint8_t* dst = out->data<uint8_t>();
  bool any_null = false;
  for (int64_t i = 0; i < rows; ++i) {
    uint8_t k = choice[i];
    if (k == 0xff || !n->branch[k]->IsValid(i)) {
      std::memset(dst + static_cast<size_t>(i) * w, 0, w);
      any_null = true;
      continue;
    }
    const Column* src = n->branch[k];
    int64_t j = src->is_constant() ? 0 : i;
    std::memcpy(dst + static_cast<size_t>(i) * w, src->data<uint8_t>() + static_cast<size_t>(j) * w, w);
  }
  if (any_null) {
    out->EnsureValidity();
    for (int64_t i = 0; i < rows; ++i) {
      uint8_t k = choice[i];
      if (k == 0xff || !n->branch[k]->IsValid(i)) out->SetNull(i);
    }
  }
}

void InitMasks(Node* n, int64_t rows, const uint8_t* active) {
  size_t sz = static_cast<size_t>(rows);
  n->remaining.Resize(sz);
  n->mask.Resize(sz);
  n->choice.Resize(sz);
  if (active) std::memcpy(n->remaining.data(), active, sz);
  else std::memset(n->remaining.data(), 1, sz);
  std::memset(n->choice.data(), 0xff, sz);
}

Status EvalCase(Node* n, const RecordBatch& batch, const uint8_t* active) {
  const int64_t rows = batch.num_rows();
  InitMasks(n, rows, active);
  const Expr& e = *n->e;
  size_t pairs = (e.args.size() - (e.has_else ? 1 : 0)) / 2;
  n->branch.assign(pairs + 1, nullptr);
  uint8_t* rem = n->remaining.data();
  uint8_t* m = n->mask.data();
  uint8_t* choice = n->choice.data();
  for (size_t k = 0; k < pairs; ++k) {
    WEIR_ASSIGN_OR_RETURN(const ColumnPtr* cond, Eval(n->children[2 * k].get(), batch, rem));
    const Column& c = **cond;
    int64_t taken = 0;
    for (int64_t i = 0; i < rows; ++i) {
      uint8_t t = rem[i] && c.IsValid(i) && c.Get<uint8_t>(i);
      m[i] = t;
      taken += t;
    }
    if (taken == 0) continue;
    WEIR_ASSIGN_OR_RETURN(const ColumnPtr* then, Eval(n->children[2 * k + 1].get(), batch, m));
    n->branch[k] = then->get();
    for (int64_t i = 0; i < rows; ++i) {
      if (m[i]) {
        choice[i] = static_cast<uint8_t>(k);
        rem[i] = 0;
      }
    }
  }
  if (e.has_else) {
    int64_t left = 0;
    for (int64_t i = 0; i < rows; ++i) left += rem[i];
    if (left > 0) {
      WEIR_ASSIGN_OR_RETURN(const ColumnPtr* other, Eval(n->children.back().get(), batch, rem));
      n->branch[pairs] = other->get();
      for (int64_t i = 0; i < rows; ++i)
        if (rem[i]) choice[i] = static_cast<uint8_t>(pairs);
    }
  }
  Blend(n, rows);
  return Status::OK();
}

Status EvalCoalesce(Node* n, const RecordBatch& batch, const uint8_t* active) {
  const int64_t rows = batch.num_rows();
  InitMasks(n, rows, active);
  n->branch.assign(n->children.size(), nullptr);
  uint8_t* rem = n->remaining.data();
  uint8_t* choice = n->choice.data();
  for (size_t k = 0; k < n->children.size(); ++k) {
    int64_t left = 0;
    for (int64_t i = 0; i < rows; ++i) left += rem[i];
    if (left == 0) break;
    WEIR_ASSIGN_OR_RETURN(const ColumnPtr* col, Eval(n->children[k].get(), batch, rem));
    n->branch[k] = col->get();
    for (int64_t i = 0; i < rows; ++i) {
      if (rem[i] && (*col)->IsValid(i)) {
        choice[i] = static_cast<uint8_t>(k);
        rem[i] = 0;
      }
    }
  }
  Blend(n, rows);
  return Status::OK();
}

Result<const ColumnPtr*> Eval(Node* n, const RecordBatch& batch, const uint8_t* active) {
  const Expr& e = *n->e;
  const int64_t rows = batch.num_rows();
  switch (e.kind) {
    case ExprKind::kColumnRef:
      return &batch.column(static_cast<size_t>(e.column));
    case ExprKind::kLiteral:
      if (n->out.use_count() > 1) {
        auto copy = std::make_shared<Column>(n->out->type());
        copy->CopyFrom(*n->out);
        n->out = std::move(copy);
      }
      n->out->SetConstantLength(rows);
      return &n->out;
    case ExprKind::kCall: {
      for (size_t k = 0; k < n->children.size(); ++k) {
        WEIR_ASSIGN_OR_RETURN(const ColumnPtr* a, Eval(n->children[k].get(), batch, active));
        n->argv[k] = a->get();
      }
      Column* out = ReuseColumn(&n->out, e.type);
      KernelContext ctx;
      ctx.rows = rows;
      ctx.active = active;
      ctx.state = e.fn.state.get();
      WEIR_RETURN_IF_ERROR(e.fn.kernel(ctx, n->argv.data(), out));
      return &n->out;
    }
    case ExprKind::kCase:
      WEIR_RETURN_IF_ERROR(EvalCase(n, batch, active));
      return &n->out;
    case ExprKind::kCoalesce:
      WEIR_RETURN_IF_ERROR(EvalCoalesce(n, batch, active));
      return &n->out;
    case ExprKind::kAggregate:
      return Internal("aggregate placeholder reached the evaluator");
  }
  return Internal("unknown expression kind");
}

}  // namespace

Result<const ColumnPtr*> ExprEvaluator::Evaluate(const RecordBatch& batch, const uint8_t* active) {
  return Eval(root_.get(), batch, active);
}

}  // namespace weir
