#include "connectors/file/partitioned_sink.h"

#include <fcntl.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <unordered_map>

#include "connectors/file/file_sink.h"
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
  };
  explicit PartitionedFileSink(Config config)
      : config_(std::move(config)), scratch_(config_.data_schema) {}
  ~PartitionedFileSink() override { Close().IgnoreError(); }

  Status Write(const RecordBatch& batch) override {
    if (!error_.ok()) return error_;
    const int64_t n = batch.num_rows();
    Partition* cur = nullptr;
    for (int64_t i = 0; i < n; ++i) {
      BuildKey(batch, i);
      if (cur == nullptr || key_ != last_key_) {
        auto it = partitions_.find(key_);
        if (it == partitions_.end()) {
          auto p = std::make_unique<Partition>();
          p->dir = key_;
          it = partitions_.emplace(key_, std::move(p)).first;
        }
        cur = it->second.get();
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
    if (!st.ok()) error_ = st;
    return st;
  }

  Status Flush() override {
    if (!error_.ok()) return error_;
    for (auto& [key, p] : partitions_)
      if (p->file) WEIR_RETURN_IF_ERROR(p->file->Flush());
    return Status::OK();
  }

  Status Close() override {
    if (closed_) return error_;
    closed_ = true;
    for (auto& [key, p] : partitions_)
      if (p->file) {
        Status st = CloseFile(p.get());
        if (!st.ok() && error_.ok()) error_ = st;
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

 private:
  struct Partition {
    std::string dir;  // "dt=…/hm=…"
    std::unique_ptr<EncodedFdSink> file;
    int64_t next_part = 0;
    uint64_t last_used = 0;
    std::vector<uint32_t> sel;  // rows of the current batch
  };

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
      if (lru != nullptr) WEIR_RETURN_IF_ERROR(CloseFile(lru));
    }
    const std::string dir = config_.path + "/" + p->dir;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return IOError("cannot create directory '{}': {}", dir, ec.message());
    const std::string file = fmt::format("{}/part-{}.{}", dir, p->next_part++, config_.format);
    WEIR_ASSIGN_OR_RETURN(std::unique_ptr<Encoder> encoder,
                          MakeEncoder(config_.format, config_.data_schema, config_.changelog,
                                      config_.options));
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return IOError("cannot create '{}': {}", file, std::strerror(errno));
    EncodedFdSink::Config fc;
    fc.name = file;
    fc.describe = file;
    fc.fd = fd;
    fc.owns_fd = true;
    p->file = std::make_unique<EncodedFdSink>(std::move(encoder), std::move(fc));
    ++open_files_;
    return Status::OK();
  }

  Status CloseFile(Partition* p) {
    Status st = p->file->Close();
    closed_stats_.rows_written += p->file->stats().rows_written;
    closed_stats_.bytes_written += p->file->stats().bytes_written;
    p->file.reset();
    --open_files_;
    return st;
  }

  Config config_;
  std::unordered_map<std::string, std::unique_ptr<Partition>> partitions_;
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
                                                      bool changelog) {
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
  std::error_code ec;
  std::filesystem::create_directories(config.path, ec);
  if (ec) return IOError("cannot create directory '{}': {}", config.path, ec.message());
  return std::unique_ptr<Sink>(new PartitionedFileSink(std::move(config)));
}

}  // namespace weir
