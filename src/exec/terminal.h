// Pipeline endpoints and plumbing operators:
//   FanOutOperator      forwards each batch to several consumers (a source or view read by
//                       several pipelines);
//   ColumnSelectOperator picks/reorders columns of a shared wider input (no data copy);
//   MaterializeOperator  appends to a materialized view's TableStore, then fans out to the
//                       view's subscribers;
//   SinkOperator        writes to a connector Sink;
//   CollectOperator     gathers a query result into a TableStore;
//   SortOperator, LimitOperator  snapshot-query ORDER BY / LIMIT.
#pragma once

#include <memory>
#include <vector>

#include "connectors/sink.h"
#include "exec/operator.h"
#include "exec/table_store.h"
#include "exec/view_store.h"
#include "sql/logical_plan.h"

namespace weir {

class FanOutOperator final : public Operator {
 public:
  void AddOutput(Operator* o) { outputs_.push_back(o); }
  void RemoveOutput(Operator* o);
  bool empty() const { return outputs_.empty(); }
  Status Push(const RecordBatch& batch) override;
  Status OnWatermark(int64_t watermark_us) override;
  Status Finish() override;
  std::string Describe() const override { return "FanOut"; }

 private:
  std::vector<Operator*> outputs_;
};

class ColumnSelectOperator final : public Operator {
 public:
  ColumnSelectOperator(std::vector<int> columns, SchemaPtr schema)
      : columns_(std::move(columns)), out_(std::move(schema)) {}
  Status Push(const RecordBatch& batch) override;
  std::string Describe() const override { return "ColumnSelect"; }

 private:
  std::vector<int> columns_;
  RecordBatch out_;
};

class MaterializeOperator final : public Operator {
 public:
  MaterializeOperator(std::string view_name, ViewStore* store, FanOutOperator* subscribers)
      : name_(std::move(view_name)), store_(store), subscribers_(subscribers) {}
  Status Push(const RecordBatch& batch) override;
  Status OnWatermark(int64_t watermark_us) override { return subscribers_->PushWatermark(watermark_us); }
  Status Finish() override { return subscribers_->Finish(); }
  std::string Describe() const override { return "Materialize " + name_; }
  /// Checkpoints: the view's contents (ViewStore::SnapshotState), so a materialized view
  /// resumes with its rows. The subscribers' pipelines checkpoint their own state.
  Status SnapshotState(StateWriter* w) const override {
    store_->SnapshotState(w);
    return Status::OK();
  }
  Status RestoreState(StateReader* r) override { return store_->RestoreState(r); }

 private:
  std::string name_;
  ViewStore* store_;
  FanOutOperator* subscribers_;
};

class SinkOperator final : public Operator {
 public:
  SinkOperator(std::string name, Sink* sink) : name_(std::move(name)), sink_(sink) {}
  Status Push(const RecordBatch& batch) override { return sink_->Write(batch); }
  Status Finish() override { return sink_->Flush(); }
  std::string Describe() const override { return "Sink " + name_ + " (" + sink_->Describe() + ")"; }

 private:
  std::string name_;
  Sink* sink_;
};

/// Gathers a query result. A changelog input (`changelog`) is applied to a multiset, so the
/// result holds the final rows.
class CollectOperator final : public Operator {
 public:
  explicit CollectOperator(SchemaPtr schema, bool changelog = false) {
    if (changelog) store_ = std::make_unique<ChangelogViewStore>(std::move(schema));
    else store_ = std::make_unique<AppendOnlyViewStore>(std::move(schema));
  }
  Status Push(const RecordBatch& batch) override { return store_->Apply(batch); }
  Status Finish() override { return Status::OK(); }
  std::string Describe() const override { return "Collect"; }
  std::shared_ptr<TableStore> store() const { return store_->Snapshot(); }
  /// Checkpoints: the rows gathered so far.
  Status SnapshotState(StateWriter* w) const override {
    store_->SnapshotState(w);
    return Status::OK();
  }
  Status RestoreState(StateReader* r) override { return store_->RestoreState(r); }

 private:
  std::unique_ptr<ViewStore> store_;
};

/// Consolidates a changelog: applies it to a multiset and, at Finish(), emits the final rows
/// as inserts (snapshot queries sorting or limiting the result of an outer join, say).
class ConsolidateOperator final : public Operator {
 public:
  explicit ConsolidateOperator(SchemaPtr schema) : store_(std::move(schema)) {}
  Status Push(const RecordBatch& batch) override { return store_.Apply(batch); }
  Status OnWatermark(int64_t) override { return Status::OK(); }
  Status Finish() override {
    auto rows = store_.Snapshot();
    for (const auto& chunk : rows->chunks()) WEIR_RETURN_IF_ERROR(output_->Push(*chunk));
    WEIR_RETURN_IF_ERROR(output_->PushWatermark(kFinalWatermark));
    return output_->Finish();
  }
  std::string Describe() const override { return "Consolidate"; }
  /// Checkpoints: the multiset accumulated so far.
  Status SnapshotState(StateWriter* w) const override {
    store_.SnapshotState(w);
    return Status::OK();
  }
  Status RestoreState(StateReader* r) override { return store_.RestoreState(r); }

 private:
  ChangelogViewStore store_;
};

/// Buffers its whole input, sorts it at Finish() and emits it in batches (snapshot queries).
class SortOperator final : public Operator {
 public:
  SortOperator(std::vector<SortKey> keys, SchemaPtr schema);
  Status Push(const RecordBatch& batch) override;
  Status Finish() override;
  std::string Describe() const override;
  /// Checkpoints: the rows buffered so far.
  Status SnapshotState(StateWriter* w) const override {
    buffer_.SnapshotState(w);
    return Status::OK();
  }
  Status RestoreState(StateReader* r) override { return buffer_.RestoreState(r); }

 private:
  std::vector<SortKey> keys_;
  TableStore buffer_;
};

class LimitOperator final : public Operator {
 public:
  LimitOperator(int64_t limit, int64_t offset) : limit_(limit), offset_(offset) {}
  Status Push(const RecordBatch& batch) override;
  std::string Describe() const override;
  /// Checkpoints: the rows seen so far.
  Status SnapshotState(StateWriter* w) const override {
    w->Begin("limit");
    w->I64(seen_);
    w->End();
    return Status::OK();
  }
  Status RestoreState(StateReader* r) override {
    r->Begin("limit");
    seen_ = r->I64();
    r->End();
    return r->status();
  }

 private:
  int64_t limit_;
  int64_t offset_;
  int64_t seen_ = 0;
  RecordBatch out_;
};

}  // namespace weir
