#include "connectors/blackhole/blackhole_sink.h"

namespace weir {

namespace {

class BlackholeSink final : public Sink {
 public:
  Status Write(const RecordBatch& batch) override {
    stats_.rows_written += batch.num_rows();
    return Status::OK();
  }
  Status Flush() override { return Status::OK(); }
  Status Close() override { return Status::OK(); }
  SinkStats stats() const override { return stats_; }
  std::string Describe() const override { return "blackhole"; }

 private:
  SinkStats stats_;
};

}  // namespace

Result<std::unique_ptr<Sink>> MakeBlackholeSink(const Options& options, SchemaPtr schema) {
  return std::unique_ptr<Sink>(std::make_unique<BlackholeSink>());
}

}  // namespace weir
