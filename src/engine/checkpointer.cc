#include "engine/checkpointer.h"

#include "state/snapshot.h"

namespace weir {

namespace {
constexpr const char* kMetaBlob = "meta";
constexpr uint32_t kMetaVersion = 1;
}  // namespace

uint64_t HashStatement(uint64_t h, std::string_view text) {
  if (h == 0) h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

Result<std::unique_ptr<Checkpointer>> Checkpointer::Open(Env* env, const std::string& state_dir,
                                                         int64_t interval_ms) {
  if (interval_ms < 1) return InvalidArgument("checkpoint interval must be at least 1 ms, got {}", interval_ms);
  std::unique_ptr<Checkpointer> c(new Checkpointer());
  c->dir_ = state_dir;
  c->interval_ms_ = interval_ms;
  if (!env->FileExists(state_dir)) WEIR_RETURN_IF_ERROR(env->CreateDir(state_dir));
  WEIR_ASSIGN_OR_RETURN(c->store_, CheckpointStore::Open(env, state_dir + "/checkpoints"));
  if (std::optional<uint64_t> latest = c->store_->latest()) {
    WEIR_ASSIGN_OR_RETURN(c->restored_, c->store_->Read(*latest));
    c->restored_epoch_ = latest;
    c->next_epoch_ = *latest + 1;
    auto it = c->restored_.find(kMetaBlob);
    if (it == c->restored_.end())
      return DataError("checkpoint {} in {}: no \"{}\" blob", *latest, state_dir, kMetaBlob);
    StateReader r(it->second, "checkpoint " + std::to_string(*latest) + " meta");
    r.Begin("meta");
    if (r.U32() != kMetaVersion) r.Fail("unknown meta version");
    c->restored_meta_.statements = r.U64();
    c->restored_meta_.statements_hash = r.U64();
    c->restored_meta_.phase = r.U64();
    c->restored_meta_.phase_done = r.Bool();
    r.End();
    WEIR_RETURN_IF_ERROR(r.status());
  }
  return c;
}

std::string Checkpointer::TakeBuffer(const std::string& name) {
  for (auto& [n, b] : store_->TakeSpentBuffers()) pool_[n] = std::move(b);
  auto it = pool_.find(name);
  if (it == pool_.end()) return {};
  std::string b = std::move(it->second);
  pool_.erase(it);
  return b;
}

const std::string* Checkpointer::Restored(const std::string& name) const {
  auto it = restored_.find(name);
  return it == restored_.end() ? nullptr : &it->second;
}

Result<uint64_t> Checkpointer::Write(std::vector<std::pair<std::string, std::string>> blobs,
                                     const CheckpointMeta& meta, int64_t now_ms, int64_t pause_us,
                                     std::unique_ptr<DeferredBlobs> deferred) {
  StateWriter w;
  w.Begin("meta");
  w.U32(kMetaVersion);
  w.U64(meta.statements);
  w.U64(meta.statements_hash);
  w.U64(meta.phase);
  w.Bool(meta.phase_done);
  w.End();
  blobs.emplace_back(kMetaBlob, std::move(w.buffer()));
  int64_t bytes = 0;
  for (const auto& [n, b] : blobs) bytes += static_cast<int64_t>(b.size());
  const uint64_t epoch = next_epoch_++;
  WEIR_ASSIGN_OR_RETURN(uint64_t waited_us, store_->WriteAsync(epoch, std::move(blobs), std::move(deferred)));
  last_ms_ = now_ms;
  ++stats_.checkpoints;
  const int64_t pause = pause_us + static_cast<int64_t>(waited_us);
  if (meta.phase_done) {
    // The end of a run phase: nothing is running that this stalls (reported apart).
    stats_.end_of_run_us += pause;
    stats_.last_state_bytes = bytes;
    return epoch;
  }
  ++stats_.running_checkpoints;
  stats_.max_snapshot_us = std::max(stats_.max_snapshot_us, pause_us);
  stats_.total_snapshot_us += pause_us;
  stats_.last_pause_us = pause;
  stats_.max_pause_us = std::max(stats_.max_pause_us, pause);
  stats_.total_pause_us += pause;
  stats_.last_state_bytes = bytes;
  return epoch;
}

void Checkpointer::Track(const std::vector<uint64_t>& durable) {
  if (durable.empty()) return;
  stats_.durable += static_cast<int64_t>(durable.size());
  stats_.last_durable_epoch = durable.back();
  const CheckpointWriteStats w = store_->last_write_stats();
  stats_.last_written_bytes = static_cast<int64_t>(w.bytes_written);
  stats_.last_state_bytes = static_cast<int64_t>(w.blob_bytes);
}

std::vector<uint64_t> Checkpointer::kept_epochs() const { return store_->epochs(); }

Result<std::vector<uint64_t>> Checkpointer::PollDurable() {
  WEIR_ASSIGN_OR_RETURN(std::vector<uint64_t> d, store_->PollDurable());
  Track(d);
  return d;
}

Result<std::vector<uint64_t>> Checkpointer::WaitDurable() {
  WEIR_ASSIGN_OR_RETURN(std::vector<uint64_t> d, store_->WaitDurable());
  Track(d);
  return d;
}

}  // namespace weir
