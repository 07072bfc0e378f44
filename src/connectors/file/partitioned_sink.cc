#include "connectors/file/partitioned_sink.h"

#include <fcntl.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <set>

#include "connectors/file/file_sink.h"
#include "connectors/file/two_phase.h"
#include "types/datetime.h"

namespace weir {
namespace {

constexpr std::string_view kDefaultPartition = "__HIVE_DEFAULT_PARTITION__";

bool NeedsEscape(unsigned char c) {
  if (c < 0x20 || c == 0x7F) return true;
  switch (c) {
    case '"': case '#': case '%': case '\'': case '*': case '/': case ':': case '=':
    case '?': case '\\': case '{': case '[': case ']': case '^':
      return true;
    default:
      return false;
  }
}

void AppendEscaped(std::string* out, std::string_view v) {
  if (v.empty()) {
    out->append(kDefaultPartition);
    return;
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : v) {
    if (NeedsEscape(c)) {
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
}

class PartitionedFileSink final : public Sink {
 public:
  struct Config {
    std::string path;    // base directory
    std::string format;  // csv | json
    std::vector<int> partition_columns;
    std::vector<int> data_columns;
    SchemaPtr data_schema;
    bool changelog = false;
    int64_t partitions_open_max = 256;
    Options options;  // encoder options
    SinkContext context;
  };
  explicit PartitionedFileSink(Config config)
      : config_(std::move(config)),
        env_(config_.context.env),
        two_phase_(config_.context.two_phase_commit),
        scratch_(config_.data_schema) {}
  ~PartitionedFileSink() override { Close().IgnoreError(); }

  Status Write(const RecordBatch& batch) override {
    if (!error_.ok()) return error_;
    if (closed_) return Internal("write to closed sink '{}'", config_.path);
    WEIR_RETURN_IF_ERROR(Start());
    const int64_t n = batch.num_rows();
    Partition* cur = nullptr;
    for (int64_t i = 0; i < n; ++i) {
      BuildKey(batch, i);
      if (cur == nullptr || key_ != last_key_) {
        cur = FindOrAdd(key_);
        last_key_.assign(key_);
      }
      if (cur->sel.empty()) touched_.push_back(cur);
      cur->sel.push_back(static_cast<uint32_t>(i));
    }
    Status st;
    for (Partition* p : touched_) {
      if (st.ok()) st = WritePartition(batch, p);
      p->sel.clear();
    }
    touched_.clear();
    return Check(st);
  }

  Status Flush() override {
    if (!error_.ok()) return error_;
    if (two_phase_) return Start();  // staged rows are published by Commit only
    for (auto& [key, p] : partitions_)
      if (p->file) WEIR_RETURN_IF_ERROR(Check(p->file->Flush()));
    return Status::OK();
  }

  Status Close() override {
    if (closed_) return error_;
    closed_ = true;
    for (auto& [key, p] : partitions_)
      if (p->file) {
        Status st = CloseFile(p.get(), /*sync=*/false);
        if (!st.ok() && error_.ok()) error_ = st;
      }
    if (two_phase_) {
      // Part files of the current epoch were never pre-committed: they are not output.
      for (const Part& part : current_)
        if (env_->FileExists(StagingPath(part))) env_->DeleteFile(StagingPath(part)).IgnoreError();
      current_.clear();
    }
    return error_;
  }

  SinkStats stats() const override {
    SinkStats s = closed_stats_;
    for (const auto& [key, p] : partitions_)
      if (p->file) {
        s.rows_written += p->file->stats().rows_written;
        s.bytes_written += p->file->stats().bytes_written;
      }
    return s;
  }

  std::string Describe() const override {
    return fmt::format("file {}/<partition>/part-N.{} ({}, partitioned)", config_.path,
                       config_.format, config_.format);
  }

  Status PreCommit(uint64_t epoch, StateWriter* w) override {
    WEIR_RETURN_IF_ERROR(Usable("PreCommit"));
    WEIR_RETURN_IF_ERROR(Start());
    WEIR_RETURN_IF_ERROR(pending_.BeginPreCommit(config_.path, epoch));
    // Every part file of this epoch: synced and closed (the next rows start new part files).
    for (auto& [key, p] : partitions_)
      if (p->file) WEIR_RETURN_IF_ERROR(Check(CloseFile(p.get(), /*sync=*/true)));
    std::set<std::string> dirs(new_dirs_.begin(), new_dirs_.end());
    for (const std::string& d : new_dirs_) dirs.insert(DirName(d));
    for (const Part& part : current_) dirs.insert(JoinPath(config_.path, part.dir));
    for (const std::string& d : dirs) WEIR_RETURN_IF_ERROR(Check(env_->SyncDir(d)));
    new_dirs_.clear();
    for (Part& part : current_) {
      part.epoch = epoch;
      pending_.Add(std::move(part));
    }
    current_.clear();
    w->Begin("partitioned_file_sink");
    w->U64(epoch);
    w->U64(partitions_.size());
    for (const auto& [key, p] : partitions_) {
      w->String(key);
      w->I64(p->next_part);
    }
    w->U64(pending_.size());
    for (const Part& part : pending_.items()) {
      w->U64(part.epoch);
      w->String(part.dir);
      w->I64(part.number);
    }
    w->End();
    return Status::OK();
  }

  Status Commit(uint64_t epoch) override {
    WEIR_RETURN_IF_ERROR(Usable("Commit"));
    return Check(pending_.Commit(epoch, [&](size_t n) { return Publish(n); }));
  }

  Status Recover(uint64_t epoch, StateReader* r) override {
    WEIR_RETURN_IF_ERROR(Usable("Recover"));
    if (started_) return Internal("{}: Recover after the sink was used", config_.path);
    r->Begin("partitioned_file_sink");
    const uint64_t saved_epoch = r->U64();
    const uint64_t partitions = r->U64();
    if (r->ok() && partitions > r->remaining() / 16) r->Fail("partition count exceeds the state");
    for (uint64_t i = 0; i < partitions && r->ok(); ++i) {
      std::string key = r->String();
      const int64_t next_part = r->I64();
      if (!r->ok()) break;
      if (next_part < 0 || !ValidKey(key)) {
        r->Fail("invalid partition in the state");
        break;
      }
      FindOrAdd(key)->next_part = next_part;
    }
    const uint64_t count = r->U64();
    if (r->ok() && count > r->remaining() / 24) r->Fail("pending count exceeds the state");
    std::vector<Part> pending;
    for (uint64_t i = 0; i < count && r->ok(); ++i) {
      Part part;
      part.epoch = r->U64();
      part.dir = r->String();
      part.number = r->I64();
      if (!r->ok()) break;
      auto it = partitions_.find(part.dir);
      if (part.epoch > saved_epoch || it == partitions_.end() || part.number < 0 ||
          part.number >= it->second->next_part) {
        r->Fail("inconsistent pending part files");
        break;
      }
      pending.push_back(std::move(part));
    }
    r->End();
    if (!r->ok()) return r->status();
    WEIR_RETURN_IF_ERROR(pending_.Restore(config_.path, saved_epoch, epoch, std::move(pending)));
    started_ = true;
    // The checkpoint is durable: what it pre-committed is committed.
    if (!pending_.empty()) WEIR_RETURN_IF_ERROR(Check(Publish(pending_.size())));
    pending_.Clear();
    // Discard what was written after the checkpoint: staging files, and part files numbered
    // past a partition's checkpointed count (published by a later checkpoint than this one).
    WEIR_RETURN_IF_ERROR(Check(CleanUp(/*after_checkpoint=*/true)));
    return Status::OK();
  }

 private:
  struct Partition {
    std::string dir;  // "dt=…/hm=…"
    std::unique_ptr<EncodedFileWriter> file;
    int64_t next_part = 0;
    uint64_t last_used = 0;
    std::vector<uint32_t> sel;  // rows of the current batch
  };
  struct Part {  // a part file written in two-phase mode
    uint64_t epoch = 0;  // the PreCommit that staged it (pending_ only)
    std::string dir;
    int64_t number = 0;
  };

  Status Usable(std::string_view call) const {
    if (!error_.ok()) return error_;
    if (closed_) return Internal("use of closed sink '{}'", config_.path);
    if (!two_phase_)
      return Internal("{}: {} on a sink not created for two-phase commit", config_.path, call);
    return Status::OK();
  }
  Status Check(Status st) {
    if (!st.ok() && error_.ok()) error_ = st;
    return st;
  }

  // A partition key read from a checkpoint must stay inside the base directory.
  static bool ValidKey(std::string_view key) {
    if (key.empty() || key.front() == '/') return false;
    size_t b = 0;
    while (b <= key.size()) {
      size_t e = key.find('/', b);
      if (e == std::string_view::npos) e = key.size();
      std::string_view part = key.substr(b, e - b);
      if (part.empty() || part == "." || part == ".." || part.find('=') == std::string_view::npos)
        return false;
      b = e + 1;
    }
    return true;
  }

  Partition* FindOrAdd(const std::string& key) {
    auto it = partitions_.find(key);
    if (it == partitions_.end()) {
      auto p = std::make_unique<Partition>();
      p->dir = key;
      it = partitions_.emplace(key, std::move(p)).first;
    }
    return it->second.get();
  }

  std::string FinalPath(const Part& part) const {
    return fmt::format("{}/{}/part-{}.{}", config_.path, part.dir, part.number, config_.format);
  }
  std::string StagingPath(const Part& part) const {
    return fmt::format("{}/{}/.part-{}.{}{}", config_.path, part.dir, part.number, config_.format,
                       kStagingSuffix);
  }

  // Two-phase fresh start (the first call is not Recover): stale staging files are deleted.
  Status Start() {
    if (!two_phase_ || started_) return Status::OK();
    started_ = true;
    return Check(CleanUp(/*after_checkpoint=*/false));
  }

  // Deletes staging files under the base directory; with `after_checkpoint`, also part files
  // of known partitions numbered at or past their next_part.
  Status CleanUp(bool after_checkpoint) {
    return Walk(config_.path, "", [&](const std::string& dir, const std::string& key,
                                       const std::string& name) -> Status {
      if (name.size() > kStagingSuffix.size() && name.front() == '.' &&
          name.compare(name.size() - kStagingSuffix.size(), kStagingSuffix.size(),
                       kStagingSuffix) == 0)
        return env_->DeleteFile(JoinPath(dir, name));
      if (!after_checkpoint) return Status::OK();
      auto it = partitions_.find(key);
      int64_t number = 0;
      if (it == partitions_.end() || !ParsePartName(name, &number)) return Status::OK();
      if (number >= it->second->next_part) return env_->DeleteFile(JoinPath(dir, name));
      return Status::OK();
    });
  }

  bool ParsePartName(std::string_view name, int64_t* number) const {
    const std::string ext = "." + config_.format;
    if (name.substr(0, 5) != "part-" || name.size() <= 5 + ext.size() ||
        name.substr(name.size() - ext.size()) != ext)
      return false;
    std::string_view digits = name.substr(5, name.size() - 5 - ext.size());
    auto r = std::from_chars(digits.data(), digits.data() + digits.size(), *number);
    return r.ec == std::errc() && r.ptr == digits.data() + digits.size();
  }

  // Calls fn(dir, partition key, file name) for every non-directory entry inside partition
  // directories ("col=value" names) under `dir`, depth first.
  template <typename Fn>
  Status Walk(const std::string& dir, const std::string& key, Fn&& fn) {
    if (!env_->FileExists(dir)) return Status::OK();
    WEIR_ASSIGN_OR_RETURN(std::vector<std::string> names, env_->GetChildren(dir));
    for (const std::string& name : names) {
      if (name.find('=') != std::string::npos && name.front() != '.') {
        WEIR_RETURN_IF_ERROR(
            Walk(JoinPath(dir, name), key.empty() ? name : key + "/" + name, fn));
      } else if (!key.empty()) {
        WEIR_RETURN_IF_ERROR(fn(dir, key, name));
      }
    }
    return Status::OK();
  }

  // Renames pending_[0, n) to their final names and makes the renames durable. Idempotent:
  // a part whose staging file is gone was renamed before (its final file must exist).
  Status Publish(size_t n) {
    std::set<std::string> dirs;
    for (size_t i = 0; i < n; ++i) {
      const Part& part = pending_[i];
      const std::string staging = StagingPath(part);
      if (env_->FileExists(staging)) {
        WEIR_RETURN_IF_ERROR(env_->RenameFile(staging, FinalPath(part)));
      } else if (!env_->FileExists(FinalPath(part))) {
        return DataError("{}: part file '{}' of a checkpoint is missing (neither staged nor "
                         "published)", config_.path, FinalPath(part));
      }
      dirs.insert(JoinPath(config_.path, part.dir));
    }
    for (const std::string& d : dirs) WEIR_RETURN_IF_ERROR(env_->SyncDir(d));
    return Status::OK();
  }

  /// key_ = the partition directory of row i.
  void BuildKey(const RecordBatch& batch, int64_t i) {
    key_.clear();
    for (size_t k = 0; k < config_.partition_columns.size(); ++k) {
      const int c = config_.partition_columns[k];
      if (k > 0) key_.push_back('/');
      key_.append(batch.schema()->field(static_cast<size_t>(c)).name);
      key_.push_back('=');
      const Column& col = *batch.column(static_cast<size_t>(c));
      if (!col.IsValid(i)) {
        key_.append(kDefaultPartition);
        continue;
      }
      char buf[kTimestampTextMax];
      std::string_view text;
      switch (col.type().id) {
        case TypeId::kVarchar: text = col.GetString(i); break;
        case TypeId::kInt32: {
          auto r = std::to_chars(buf, buf + sizeof buf, col.Get<int32_t>(i));
          text = {buf, static_cast<size_t>(r.ptr - buf)};
          break;
        }
        case TypeId::kInt64: {
          auto r = std::to_chars(buf, buf + sizeof buf, col.Get<int64_t>(i));
          text = {buf, static_cast<size_t>(r.ptr - buf)};
          break;
        }
        case TypeId::kBoolean: text = col.Get<uint8_t>(i) ? "true" : "false"; break;
        case TypeId::kTimestamp: text = {buf, FormatTimestamp(col.Get<int64_t>(i), buf)}; break;
        default: break;  // rejected at creation
      }
      AppendEscaped(&key_, text);
    }
  }

  Status WritePartition(const RecordBatch& batch, Partition* p) {
    if (!p->file) WEIR_RETURN_IF_ERROR(Open(p));
    p->last_used = ++clock_;
    const auto n = static_cast<int64_t>(p->sel.size());
    auto& cols = scratch_.columns();
    cols.resize(config_.data_columns.size());
    for (size_t k = 0; k < config_.data_columns.size(); ++k) {
      const Column& src = *batch.column(static_cast<size_t>(config_.data_columns[k]));
      ReuseColumn(&cols[k], src.type())->Gather(src, p->sel.data(), n);
    }
    scratch_.set_num_rows(n);
    scratch_.GatherOpsFrom(batch, p->sel.data());
    return p->file->Write(scratch_);
  }

  Status Open(Partition* p) {
    if (open_files_ >= config_.partitions_open_max) {  // close the least recently written
      Partition* lru = nullptr;
      for (auto& [key, q] : partitions_)
        if (q->file && (lru == nullptr || q->last_used < lru->last_used)) lru = q.get();
      if (lru != nullptr) WEIR_RETURN_IF_ERROR(CloseFile(lru, /*sync=*/two_phase_));
    }
    const std::string dir = JoinPath(config_.path, p->dir);
    Status st = CreateDirs(env_, dir, two_phase_ ? &new_dirs_ : nullptr);
    if (!st.ok()) return IOError("cannot create directory '{}': {}", dir, st.message());
    Part part{0, p->dir, p->next_part++};
    const std::string file = two_phase_ ? StagingPath(part) : FinalPath(part);
    WEIR_ASSIGN_OR_RETURN(std::unique_ptr<Encoder> encoder,
                          MakeEncoder(config_.format, config_.data_schema, config_.changelog,
                                      config_.options));
    auto writer = std::make_unique<EncodedFileWriter>(std::move(encoder), size_t{1} << 20);
    WEIR_RETURN_IF_ERROR(writer->Open(env_, file, /*truncate=*/true));
    writer->WriteHeader();
    p->file = std::move(writer);
    if (two_phase_) current_.push_back(std::move(part));
    ++open_files_;
    return Status::OK();
  }

  Status CloseFile(Partition* p, bool sync) {
    Status st = sync ? p->file->Sync() : Status::OK();
    Status c = p->file->Close();
    if (st.ok()) st = c;
    closed_stats_.rows_written += p->file->stats().rows_written;
    closed_stats_.bytes_written += p->file->stats().bytes_written;
    p->file.reset();
    --open_files_;
    return st;
  }

  static constexpr std::string_view kStagingSuffix = ".weir-staging";

  Config config_;
  Env* env_;
  bool two_phase_;
  bool started_ = false;         // two-phase: Recover or the fresh start happened
  std::vector<Part> current_;    // two-phase: part files of the epoch being written
  PendingCommits<Part> pending_;  // two-phase: pre-committed, not yet committed, in order
  std::vector<std::string> new_dirs_;  // two-phase: directories created this epoch
  std::map<std::string, std::unique_ptr<Partition>> partitions_;  // ordered: stable state
  std::vector<Partition*> touched_;
  std::string key_, last_key_;
  RecordBatch scratch_;
  int64_t open_files_ = 0;
  uint64_t clock_ = 0;
  SinkStats closed_stats_;
  Status error_;
  bool closed_ = false;
};

}  // namespace

std::string EscapePartitionValue(std::string_view value) {
  std::string out;
  AppendEscaped(&out, value);
  return out;
}

Result<std::unique_ptr<Sink>> MakePartitionedFileSink(const Options& options, SchemaPtr schema,
                                                      bool changelog, const SinkContext& context) {
  PartitionedFileSink::Config config;
  WEIR_ASSIGN_OR_RETURN(config.path, options.GetRequired("path"));
  while (config.path.size() > 1 && config.path.back() == '/') config.path.pop_back();
  WEIR_ASSIGN_OR_RETURN(config.format, options.GetEnum("format", "csv", {"csv", "json"}));
  WEIR_ASSIGN_OR_RETURN(config.partitions_open_max, options.GetInt("partitions_open_max", 256));
  if (config.partitions_open_max < 1)
    return InvalidArgument("partitions_open_max must be at least 1, not {}", config.partitions_open_max);
  WEIR_ASSIGN_OR_RETURN(std::string list, options.GetRequired("partition_by"));
  std::vector<bool> is_partition(schema->num_fields(), false);
  size_t b = 0;
  while (b <= list.size()) {
    size_t e = list.find(',', b);
    if (e == std::string::npos) e = list.size();
    std::string name = list.substr(b, e - b);
    while (!name.empty() && name.front() == ' ') name.erase(0, 1);
    while (!name.empty() && name.back() == ' ') name.pop_back();
    const int c = schema->FindField(name);
    if (c < 0) return InvalidArgument("partition_by: column \"{}\" is not a column of the sink ({})", name, schema->ToString());
    const TypeId t = schema->field(static_cast<size_t>(c)).type.id;
    if (t != TypeId::kVarchar && t != TypeId::kInt32 && t != TypeId::kInt64 &&
        t != TypeId::kBoolean && t != TypeId::kTimestamp)
      return InvalidArgument("partition_by: column \"{}\" has type {}; partition columns must be VARCHAR, INT, BIGINT, BOOLEAN or TIMESTAMP",
                             name, schema->field(static_cast<size_t>(c)).type.ToString());
    if (is_partition[static_cast<size_t>(c)]) return InvalidArgument("partition_by: column \"{}\" is listed twice", name);
    is_partition[static_cast<size_t>(c)] = true;
    config.partition_columns.push_back(c);
    b = e + 1;
  }
  std::vector<Field> data_fields;
  for (size_t i = 0; i < schema->num_fields(); ++i) {
    if (is_partition[i]) continue;
    config.data_columns.push_back(static_cast<int>(i));
    data_fields.push_back(schema->field(i));
  }
  if (data_fields.empty()) return InvalidArgument("partition_by: every column is a partition column; nothing would be written");
  config.data_schema = std::make_shared<Schema>(std::move(data_fields));
  config.changelog = changelog;
  // Validates (and marks as used) the encoder's options now; part files make their own later.
  WEIR_ASSIGN_OR_RETURN(std::unique_ptr<Encoder> probe,
                        MakeEncoder(config.format, config.data_schema, changelog, options));
  config.options = options;
  config.context = context;
  Status st = CreateDirs(context.env, config.path, nullptr);
  if (!st.ok()) return IOError("cannot create directory '{}': {}", config.path, st.message());
  return std::unique_ptr<Sink>(new PartitionedFileSink(std::move(config)));
}

}  // namespace weir
