#include "connectors/file/file_sink.h"

#include "connectors/file/partitioned_sink.h"
#include "connectors/file/two_phase.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <charconv>
#include <vector>

namespace weir {

EncodedFdSink::EncodedFdSink(std::unique_ptr<Encoder> encoder, Config config)
    : encoder_(std::move(encoder)), config_(std::move(config)) {
  encoder_->WriteHeader(&buffer_);
}

EncodedFdSink::~EncodedFdSink() { Close().IgnoreError(); }

Status EncodedFdSink::WriteBuffered() {
  const auto* p = reinterpret_cast<const char*>(buffer_.data());
  size_t left = buffer_.size();
  while (left > 0) {
    ssize_t n = ::write(config_.fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {  // a non-blocking descriptor: wait
        pollfd pfd{config_.fd, POLLOUT, 0};
        ::poll(&pfd, 1, -1);
        continue;
      }
      error_ = IOError("cannot write '{}': {}", config_.name, std::strerror(errno));
      return error_;
    }
    p += n;
    left -= static_cast<size_t>(n);
    stats_.bytes_written += n;
  }
  buffer_.Clear();
  return Status::OK();
}

Status EncodedFdSink::Write(const RecordBatch& batch) {
  if (!error_.ok()) return error_;
  if (closed_) return Internal("write to closed sink '{}'", config_.name);
  encoder_->Encode(batch, &buffer_);
  stats_.rows_written += batch.num_rows();
  if (buffer_.size() >= config_.flush_bytes && buffer_.size() > 0) return WriteBuffered();
  return Status::OK();
}

Status EncodedFdSink::Flush() {
  if (!error_.ok()) return error_;
  if (closed_) return Status::OK();
  return WriteBuffered();
}

Status EncodedFdSink::Close() {
  if (closed_) return error_;
  Status st = error_.ok() ? WriteBuffered() : error_;
  closed_ = true;
  if (config_.owns_fd && config_.fd >= 0) {
    if (::close(config_.fd) != 0 && st.ok()) {
      error_ = IOError("cannot close '{}': {}", config_.name, std::strerror(errno));
      st = error_;
    }
    config_.fd = -1;
  }
  return st;
}

// ---- EncodedFileWriter ---------------------------------------------------------------------

Status EncodedFileWriter::Wrap(const Status& st, std::string_view what) {
  if (st.ok()) return st;
  // Env errors read "PATH: op: errno text"; keep the file sinks' "cannot write 'PATH': text".
  error_ = IOError("cannot {} '{}': {}", what, path_, EnvErrorText(st));
  return error_;
}

Status EncodedFileWriter::Open(Env* env, const std::string& path, bool truncate) {
  if (!error_.ok()) return error_;
  if (file_ != nullptr) return Internal("'{}': Open while '{}' is open", path, path_);
  path_ = path;
  Result<std::unique_ptr<WritableFile>> file = env->NewWritableFile(path_, truncate);
  if (!file.ok()) return Wrap(file.status(), "create");
  file_ = std::move(*file);
  return Status::OK();
}

Status EncodedFileWriter::Write(const RecordBatch& batch) {
  if (!error_.ok()) return error_;
  encoder_->Encode(batch, &buffer_);
  stats_.rows_written += batch.num_rows();
  if (buffer_.size() >= flush_bytes_ && file_ != nullptr) return Flush();
  return Status::OK();
}

Status EncodedFileWriter::Flush() {
  if (!error_.ok()) return error_;
  if (buffer_.size() == 0) return Status::OK();
  if (file_ == nullptr) return Internal("'{}': write before open", path_);
  WEIR_RETURN_IF_ERROR(Wrap(
      file_->Append({reinterpret_cast<const char*>(buffer_.data()), buffer_.size()}), "write"));
  stats_.bytes_written += static_cast<int64_t>(buffer_.size());
  buffer_.Clear();
  return Status::OK();
}

Status EncodedFileWriter::Sync() {
  WEIR_RETURN_IF_ERROR(Flush());
  if (file_ == nullptr) return Internal("'{}': sync before open", path_);
  return Wrap(file_->Sync(), "sync");
}

Status EncodedFileWriter::Close() {
  Status st = Flush();
  if (file_ != nullptr) {
    Status c = file_->Close();
    file_.reset();
    if (st.ok() && !c.ok()) st = Wrap(c, "close");
  }
  return st;
}

Status CreateDirs(Env* env, const std::string& dir, std::vector<std::string>* created) {
  if (dir.empty() || dir == "." || dir == "/" || env->FileExists(dir)) return Status::OK();
  WEIR_RETURN_IF_ERROR(CreateDirs(env, DirName(dir), created));
  WEIR_RETURN_IF_ERROR(env->CreateDir(dir));
  if (created != nullptr) created->push_back(dir);
  return Status::OK();
}

namespace {

constexpr size_t kFlushBytes = size_t{1} << 20;
constexpr std::string_view kStagingInfix = ".weir-staging.";

// The single-file sink, in direct or two-phase-commit mode (see file_sink.h).
class FileSink final : public Sink {
 public:
  struct Config {
    std::string path;
    std::string format;
    std::unique_ptr<Encoder> encoder;
    SinkContext context;
  };

  explicit FileSink(Config config)
      : path_(std::move(config.path)),
        format_(std::move(config.format)),
        env_(config.context.env),
        two_phase_(config.context.two_phase_commit),
        dir_(DirName(path_)),
        writer_(std::move(config.encoder), kFlushBytes) {
    std::string_view name = path_;
    if (size_t slash = name.rfind('/'); slash != std::string_view::npos) name.remove_prefix(slash + 1);
    staging_prefix_ = fmt::format(".{}{}", name, kStagingInfix);
  }
  ~FileSink() override { Close().IgnoreError(); }

  /// Direct mode: creates (truncates) the file and buffers the header.
  Status OpenDirect() {
    WEIR_RETURN_IF_ERROR(writer_.Open(env_, path_, /*truncate=*/true));
    writer_.WriteHeader();
    return Status::OK();
  }

  Status Write(const RecordBatch& batch) override {
    WEIR_RETURN_IF_ERROR(Usable());
    if (!two_phase_) return Check(writer_.Write(batch));
    WEIR_RETURN_IF_ERROR(Start());
    WEIR_RETURN_IF_ERROR(Check(writer_.Write(batch)));
    if (writer_.buffered_bytes() >= kFlushBytes) {
      WEIR_RETURN_IF_ERROR(OpenStaging());
      return Check(writer_.Flush());
    }
    return Status::OK();
  }

  Status Flush() override {
    WEIR_RETURN_IF_ERROR(Usable());
    if (!two_phase_) return Check(writer_.Flush());
    // Two-phase: rows stay staged (and buffered) until PreCommit; nothing to publish.
    return Start();
  }

  Status Close() override {
    if (closed_) return error_;
    closed_ = true;
    if (!error_.ok()) {
      writer_.Close().IgnoreError();
      return error_;
    }
    if (!two_phase_) return Check(writer_.Close());
    // Rows after the last PreCommit are not committed: drop them with their staging file.
    const bool had_staging = writer_.is_open();
    writer_.Close().IgnoreError();  // flushes into a file deleted next
    if (had_staging) return Check(env_->DeleteFile(StagingPath(seq_)));
    return Status::OK();
  }

  SinkStats stats() const override { return writer_.stats(); }
  std::string Describe() const override { return fmt::format("file {} ({})", path_, format_); }

  Status PreCommit(uint64_t epoch, StateWriter* w) override {
    WEIR_RETURN_IF_ERROR(Usable());
    WEIR_RETURN_IF_ERROR(TwoPhaseOnly("PreCommit"));
    WEIR_RETURN_IF_ERROR(Start());
    WEIR_RETURN_IF_ERROR(pending_.BeginPreCommit(path_, epoch));
    if (writer_.buffered_bytes() > 0 || writer_.is_open()) {
      WEIR_RETURN_IF_ERROR(OpenStaging());
      WEIR_RETURN_IF_ERROR(Check(writer_.Sync()));
      const uint64_t bytes = writer_.file_bytes();
      WEIR_RETURN_IF_ERROR(Check(writer_.Close()));
      WEIR_RETURN_IF_ERROR(Check(env_->SyncDir(dir_)));  // the staging file's creation
      pending_.Add(Staged{seq_, epoch, StagedEnd(), bytes});
      ++seq_;
    }
    w->Begin("file_sink");
    w->U64(epoch);
    w->U64(committed_bytes_);
    w->U64(seq_);
    w->U64(pending_.size());
    for (const Staged& s : pending_.items()) {
      w->U64(s.seq);
      w->U64(s.epoch);
      w->U64(s.offset);
      w->U64(s.bytes);
    }
    w->End();
    return Status::OK();
  }

  Status Commit(uint64_t epoch) override {
    WEIR_RETURN_IF_ERROR(Usable());
    WEIR_RETURN_IF_ERROR(TwoPhaseOnly("Commit"));
    return Check(pending_.Commit(epoch, [&](size_t n) { return Publish(n); }));
  }

  Status Recover(uint64_t epoch, StateReader* r) override {
    WEIR_RETURN_IF_ERROR(Usable());
    WEIR_RETURN_IF_ERROR(TwoPhaseOnly("Recover"));
    if (started_) return Internal("{}: Recover after the sink was used", path_);
    r->Begin("file_sink");
    const uint64_t saved_epoch = r->U64();
    const uint64_t committed = r->U64();
    const uint64_t next_seq = r->U64();
    const uint64_t count = r->U64();
    if (r->ok() && count > r->remaining() / 32) r->Fail("file sink: pending count exceeds the state");
    std::vector<Staged> pending;
    uint64_t end = committed;
    for (uint64_t i = 0; i < count && r->ok(); ++i) {
      Staged s{r->U64(), r->U64(), r->U64(), r->U64()};
      if (r->ok() && (s.offset != end || s.seq >= next_seq || s.epoch > saved_epoch))
        r->Fail("file sink: inconsistent staged file list");
      end = s.offset + s.bytes;
      pending.push_back(s);
    }
    r->End();
    if (!r->ok()) return r->status();
    WEIR_RETURN_IF_ERROR(pending_.Restore(path_, saved_epoch, epoch, std::move(pending)));
    started_ = true;
    seq_ = next_seq;
    committed_bytes_ = committed;
    // Staging files the checkpoint does not list were written after it: delete them.
    WEIR_RETURN_IF_ERROR(Check(DeleteStaging([&](uint64_t seq) {
      for (const Staged& s : pending_.items())
        if (s.seq == seq) return false;
      return true;
    })));
    // Pending files still present may not be (completely) published yet.
    size_t first = 0;
    while (first < pending_.size() && !env_->FileExists(StagingPath(pending_[first].seq))) ++first;
    for (size_t i = first; i < pending_.size(); ++i)
      if (!env_->FileExists(StagingPath(pending_[i].seq)))
        return Check(DataError("{}: staging file '{}' of a checkpoint is missing", path_,
                               StagingPath(pending_[i].seq)));
    // Everything before `first` was published (its staging file is deleted only after PATH
    // was synced), so PATH must hold at least that; anything beyond is after the checkpoint.
    uint64_t published = committed_bytes_;
    for (size_t i = 0; i < first; ++i) published = pending_[i].offset + pending_[i].bytes;
    if (!env_->FileExists(path_)) {
      WEIR_RETURN_IF_ERROR(Check(WriteStringToFileSync(env_, path_, "")));
      WEIR_RETURN_IF_ERROR(Check(env_->SyncDir(dir_)));
    }
    WEIR_ASSIGN_OR_RETURN(uint64_t size, env_->GetFileSize(path_));
    if (size < published)
      return Check(DataError("{}: the output has {} bytes, but the checkpoint published {}", path_,
                             size, published));
    if (size > published) WEIR_RETURN_IF_ERROR(Check(env_->TruncateFile(path_, published)));
    for (size_t i = 0; i < first; ++i) committed_bytes_ = pending_[i].offset + pending_[i].bytes;
    pending_.DropFront(first);
    // Re-publish what the checkpoint pre-committed (it is durable, so it is committed).
    if (!pending_.empty()) WEIR_RETURN_IF_ERROR(Check(Publish(pending_.size())));
    pending_.Clear();
    return Status::OK();
  }

 private:
  struct Staged {
    uint64_t seq;     // staging file number
    uint64_t epoch;   // the PreCommit that staged it
    uint64_t offset;  // where its bytes go in PATH
    uint64_t bytes;
  };

  Status Usable() const {
    if (!error_.ok()) return error_;
    if (closed_) return Internal("use of closed sink '{}'", path_);
    return Status::OK();
  }
  Status TwoPhaseOnly(std::string_view call) const {
    if (two_phase_) return Status::OK();
    return Internal("{}: {} on a sink not created for two-phase commit", path_, call);
  }
  Status Check(Status st) {
    if (!st.ok() && error_.ok()) error_ = st;
    return st;
  }

  std::string StagingPath(uint64_t seq) const {
    return JoinPath(dir_, fmt::format("{}{}", staging_prefix_, seq));
  }
  uint64_t StagedEnd() const {
    return pending_.empty() ? committed_bytes_ : pending_.back().offset + pending_.back().bytes;
  }

  // A fresh start (no Recover before the first use): empty PATH, no staging files, header.
  Status Start() {
    if (started_) return Status::OK();
    started_ = true;
    WEIR_RETURN_IF_ERROR(Check(CreateDirs(env_, dir_, nullptr)));
    WEIR_RETURN_IF_ERROR(Check(DeleteStaging([](uint64_t) { return true; })));
    Status st = WriteStringToFileSync(env_, path_, "");
    if (!st.ok()) return Check(IOError("cannot create '{}': {}", path_, st.message()));
    WEIR_RETURN_IF_ERROR(Check(env_->SyncDir(dir_)));
    writer_.WriteHeader();
    return Status::OK();
  }

  Status OpenStaging() {
    if (writer_.is_open()) return Status::OK();
    return Check(writer_.Open(env_, StagingPath(seq_), /*truncate=*/true));
  }

  // Deletes the staging files of this sink whose sequence number `doomed` accepts.
  template <typename Pred>
  Status DeleteStaging(Pred doomed) {
    WEIR_ASSIGN_OR_RETURN(std::vector<std::string> names, env_->GetChildren(dir_));
    for (const std::string& name : names) {
      if (name.size() <= staging_prefix_.size() || name.compare(0, staging_prefix_.size(), staging_prefix_) != 0)
        continue;
      uint64_t seq = 0;
      const char* b = name.data() + staging_prefix_.size();
      auto res = std::from_chars(b, name.data() + name.size(), seq);
      if (res.ec != std::errc() || res.ptr != name.data() + name.size()) continue;
      if (doomed(seq)) WEIR_RETURN_IF_ERROR(env_->DeleteFile(JoinPath(dir_, name)));
    }
    return Status::OK();
  }

  // Appends the staged files pending_[0, n) to PATH at their offsets, syncs PATH, then
  // deletes them. Crash-safe at every step: until a staging file is deleted, Recover will
  // truncate PATH to its offset and append it again.
  Status Publish(size_t n) {
    WEIR_ASSIGN_OR_RETURN(uint64_t size, env_->GetFileSize(path_));
    const uint64_t offset = pending_[0].offset;
    if (size < offset)
      return DataError("{}: the output has {} bytes, fewer than the {} committed", path_, size, offset);
    if (size > offset) WEIR_RETURN_IF_ERROR(env_->TruncateFile(path_, offset));  // a failed attempt
    WEIR_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> out, env_->NewWritableFile(path_, false));
    if (copy_buffer_.empty()) copy_buffer_.resize(kFlushBytes);
    for (size_t i = 0; i < n; ++i) {
      WEIR_ASSIGN_OR_RETURN(std::unique_ptr<SequentialFile> in,
                            env_->NewSequentialFile(StagingPath(pending_[i].seq)));
      uint64_t left = pending_[i].bytes;
      while (left > 0) {
        WEIR_ASSIGN_OR_RETURN(size_t n, in->Read(std::min<uint64_t>(left, copy_buffer_.size()),
                                                 copy_buffer_.data()));
        if (n == 0)
          return DataError("{}: staging file '{}' is shorter than its {} pre-committed bytes",
                           path_, StagingPath(pending_[i].seq), pending_[i].bytes);
        WEIR_RETURN_IF_ERROR(out->Append({copy_buffer_.data(), n}));
        left -= n;
      }
    }
    WEIR_RETURN_IF_ERROR(out->Sync());
    WEIR_RETURN_IF_ERROR(out->Close());
    committed_bytes_ = pending_[n - 1].offset + pending_[n - 1].bytes;
    for (size_t i = 0; i < n; ++i)
      WEIR_RETURN_IF_ERROR(env_->DeleteFile(StagingPath(pending_[i].seq)));
    return Status::OK();
  }

  std::string path_;
  std::string format_;
  Env* env_;
  bool two_phase_;
  std::string dir_;
  std::string staging_prefix_;  // ".NAME.weir-staging."
  EncodedFileWriter writer_;    // direct: PATH; two-phase: the current staging file
  bool started_ = false;        // two-phase: Recover or the fresh start happened
  uint64_t seq_ = 0;            // number of the current (next) staging file
  uint64_t committed_bytes_ = 0;  // PATH's length once every committed epoch is published
  PendingCommits<Staged> pending_;  // pre-committed, not yet committed, in order
  std::vector<char> copy_buffer_;
  Status error_;
  bool closed_ = false;
};

}  // namespace

Result<std::unique_ptr<Sink>> MakeFileSink(const Options& options, SchemaPtr schema,
                                           bool changelog, const SinkContext& context) {
  if (options.Has("partition_by"))
    return MakePartitionedFileSink(options, std::move(schema), changelog, context);
  WEIR_ASSIGN_OR_RETURN(std::string path, options.GetRequired("path"));
  WEIR_ASSIGN_OR_RETURN(std::string format, options.GetEnum("format", "csv", {"csv", "json"}));
  WEIR_ASSIGN_OR_RETURN(std::unique_ptr<Encoder> encoder,
                        MakeEncoder(format, std::move(schema), changelog, options));
  FileSink::Config config{path, format, std::move(encoder), context};
  auto sink = std::make_unique<FileSink>(std::move(config));
  if (!context.two_phase_commit) {
    // Like `mkdir -p`: a sink into a directory that does not exist yet creates it.
    Status st = CreateDirs(context.env, DirName(path), nullptr);
    if (!st.ok())
      return IOError("cannot create directory '{}' for '{}': {}", DirName(path), path, st.message());
    WEIR_RETURN_IF_ERROR(sink->OpenDirect());
  }
  return std::unique_ptr<Sink>(std::move(sink));
}

}  // namespace weir
