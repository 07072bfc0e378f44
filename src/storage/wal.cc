#include "storage/wal.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "common/coding.h"
#include "common/crc32c.h"

namespace weir {

static_assert(std::endian::native == std::endian::little,
              "the WAL codec stores integers with memcpy; add byte swaps for big-endian hosts");

namespace {

constexpr char kSegmentMagic[8] = {'W', 'E', 'I', 'R', 'W', 'A', 'L', '\0'};
constexpr uint32_t kFormatVersion = 1;
constexpr uint8_t kCommitType = 255;

void EncodeSegmentHeader(std::string* out, uint64_t first_lsn) {
  const size_t start = out->size();
  out->append(kSegmentMagic, sizeof(kSegmentMagic));
  PutU32(out, kFormatVersion);
  PutU32(out, 0);  // reserved
  PutU64(out, first_lsn);
  PutU32(out, crc32c::Mask(crc32c::Value(out->data() + start, 24)));
  PutU32(out, 0);  // reserved
}

void EncodeRecord(std::string* out, uint64_t lsn, uint8_t type, std::string_view payload) {
  const size_t start = out->size();
  PutU32(out, static_cast<uint32_t>(payload.size()));
  PutU32(out, 0);  // crc, filled below
  PutU64(out, lsn);
  out->push_back(static_cast<char>(type));
  out->append(payload);
  // The CRC covers lsn, type and payload: everything after the crc field.
  uint32_t crc = crc32c::Mask(crc32c::Value(out->data() + start + 8, 9 + payload.size()));
  std::memcpy(out->data() + start + 4, &crc, 4);
}

enum class HeaderCheck { kOk, kTruncated, kBad };

HeaderCheck CheckSegmentHeader(std::string_view data, uint64_t* first_lsn) {
  if (data.size() < kWalSegmentHeaderBytes) return HeaderCheck::kTruncated;
  const char* p = data.data();
  if (std::memcmp(p, kSegmentMagic, 8) != 0) return HeaderCheck::kBad;
  if (crc32c::Unmask(LoadU32(p + 24)) != crc32c::Value(p, 24)) return HeaderCheck::kBad;
  if (LoadU32(p + 8) != kFormatVersion) return HeaderCheck::kBad;
  *first_lsn = LoadU64(p + 16);
  return HeaderCheck::kOk;
}

struct ParsedRecord {
  uint64_t lsn = 0;
  uint8_t type = 0;
  std::string_view payload;
  uint64_t size_bytes = 0;  // header + payload
};

enum class ParseResult { kOk, kEnd, kTruncatedHeader, kPastEnd, kChecksum };

ParseResult ParseRecord(std::string_view data, uint64_t pos, ParsedRecord* out) {
  if (pos == data.size()) return ParseResult::kEnd;
  const uint64_t left = data.size() - pos;
  if (left < kWalRecordHeaderBytes) return ParseResult::kTruncatedHeader;
  const char* p = data.data() + pos;
  const uint32_t length = LoadU32(p);
  if (length > left - kWalRecordHeaderBytes) return ParseResult::kPastEnd;
  if (crc32c::Unmask(LoadU32(p + 4)) != crc32c::Value(p + 8, 9 + uint64_t{length})) {
    return ParseResult::kChecksum;
  }
  out->lsn = LoadU64(p + 8);
  out->type = static_cast<uint8_t>(p[16]);
  out->payload = std::string_view(p + kWalRecordHeaderBytes, length);
  out->size_bytes = kWalRecordHeaderBytes + length;
  return ParseResult::kOk;
}

std::string DescribeParseProblem(ParseResult r, std::string_view data, uint64_t pos) {
  switch (r) {
    case ParseResult::kTruncatedHeader: return "truncated record header";
    case ParseResult::kPastEnd:
      return fmt::format("record length {} runs past the end of the segment",
                         LoadU32(data.data() + pos));
    case ParseResult::kChecksum: return "checksum mismatch";
    default: return "?";
  }
}

/// The first offset >= `from` where a complete record with a valid checksum starts, or -1.
/// Only used on the error path (after a damaged record), so a byte-by-byte probe is fine.
int64_t ProbeValidRecord(std::string_view data, uint64_t from) {
  ParsedRecord rec;
  for (uint64_t o = from; o + kWalRecordHeaderBytes <= data.size(); ++o) {
    const uint32_t length = LoadU32(data.data() + o);
    if (length > data.size() - o - kWalRecordHeaderBytes) continue;
    if (data[o + 16] == 0) continue;  // type 0 never written (zero-filled space)
    if (ParseRecord(data, o, &rec) == ParseResult::kOk) return static_cast<int64_t>(o);
  }
  return -1;
}

struct SegmentFile {
  std::string name;
  std::string path;
  uint64_t first_lsn = 0;
};

Result<std::vector<SegmentFile>> ListSegments(Env* env, const std::string& dir) {
  std::vector<SegmentFile> out;
  if (!env->FileExists(dir)) return out;
  WEIR_ASSIGN_OR_RETURN(std::vector<std::string> names, env->GetChildren(dir));
  for (std::string& name : names) {
    uint64_t lsn = 0;
    if (!ParseWalSegmentName(name, &lsn)) continue;
    std::string path = JoinPath(dir, name);
    out.push_back(SegmentFile{std::move(name), std::move(path), lsn});
  }
  std::sort(out.begin(), out.end(),
            [](const SegmentFile& a, const SegmentFile& b) { return a.first_lsn < b.first_lsn; });
  return out;
}

}  // namespace

std::string WalSegmentName(uint64_t first_lsn) { return fmt::format("wal-{:020}.log", first_lsn); }

bool ParseWalSegmentName(std::string_view name, uint64_t* first_lsn) {
  constexpr size_t kLen = 4 + 20 + 4;
  if (name.size() != kLen || name.substr(0, 4) != "wal-" || name.substr(24) != ".log") return false;
  uint64_t v = 0;
  for (char c : name.substr(4, 20)) {
    if (c < '0' || c > '9') return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *first_lsn = v;
  return true;
}

uint64_t WalPayloadMaxBytes(uint64_t segment_size_bytes) {
  // Room for the segment header, the record header and the commit marker that may follow it.
  uint64_t room = segment_size_bytes - kWalSegmentHeaderBytes - 2 * kWalRecordHeaderBytes;
  return std::min<uint64_t>(room, UINT32_MAX);
}

// ---- WalWriter ---------------------------------------------------------------------------------

WalWriter::WalWriter(Env* env, std::string dir, uint64_t next_lsn, WalOptions options)
    : env_(env), dir_(std::move(dir)), options_(options), next_lsn_(next_lsn) {}

WalWriter::~WalWriter() {
  if (file_ != nullptr) file_->Close().IgnoreError();  // buffered records are abandoned
}

Result<std::unique_ptr<WalWriter>> WalWriter::Open(Env* env, std::string dir, uint64_t next_lsn,
                                                   WalOptions options) {
  if (options.segment_size_bytes < kWalSegmentSizeMin) {
    return InvalidArgument("WAL segment size {} bytes is below the minimum of {}",
                           options.segment_size_bytes, kWalSegmentSizeMin);
  }
  if (next_lsn == 0) return InvalidArgument("WAL LSNs start at 1");
  const bool existed = env->FileExists(dir);
  WEIR_RETURN_IF_ERROR(env->CreateDir(dir));
  if (!existed) WEIR_RETURN_IF_ERROR(env->SyncDir(DirName(dir)));
  WEIR_ASSIGN_OR_RETURN(std::vector<SegmentFile> segments, ListSegments(env, dir));
  if (!segments.empty() && segments.back().first_lsn >= next_lsn) {
    return InvalidArgument(
        "{}: segment {} starts at or after the next LSN {}; recover the log with WalReader and "
        "continue after its last LSN",
        dir, segments.back().name, next_lsn);
  }
  return std::unique_ptr<WalWriter>(new WalWriter(env, std::move(dir), next_lsn, options));
}

Status WalWriter::Fail(Status s) {
  fatal_ = s.WithPrefix(fmt::format("{}: WAL stopped after an I/O error: ", dir_));
  return fatal_;
}

Status WalWriter::WriteBuffer() {
  if (buffer_.empty()) return Status::OK();
  Status s = file_->Append(buffer_);
  buffer_.clear();
  return s;
}

Status WalWriter::Roll() {
  if (file_ != nullptr) {
    // The finished segment is synced now, so a later segment never exists on disk after a
    // torn one (recovery relies on it: damage is only ever at the end of the log).
    WEIR_RETURN_IF_ERROR(WriteBuffer());
    WEIR_RETURN_IF_ERROR(file_->Sync());
    WEIR_RETURN_IF_ERROR(file_->Close());
    file_.reset();
  }
  file_path_ = JoinPath(dir_, WalSegmentName(next_lsn_));
  WEIR_ASSIGN_OR_RETURN(file_, env_->NewWritableFile(file_path_, /*truncate=*/true));
  dir_sync_pending_ = true;
  EncodeSegmentHeader(&buffer_, next_lsn_);
  segment_bytes_ = kWalSegmentHeaderBytes;
  return Status::OK();
}

Result<uint64_t> WalWriter::Append(uint8_t type, std::string_view payload) {
  if (!fatal_.ok()) return fatal_;
  if (closed_) return InvalidArgument("{}: WAL writer is closed", dir_);
  if (type == 0 || type > kWalTypeMax) {
    return InvalidArgument("WAL record type {} is reserved (use 1..{})", type, kWalTypeMax);
  }
  if (payload.size() > WalPayloadMaxBytes(options_.segment_size_bytes)) {
    return InvalidArgument("WAL record of {} bytes exceeds the maximum of {} for {}-byte segments",
                           payload.size(), WalPayloadMaxBytes(options_.segment_size_bytes),
                           options_.segment_size_bytes);
  }
  const uint64_t record_bytes = kWalRecordHeaderBytes + payload.size();
  // Keep room for a commit marker after every record, so the marker never needs a new segment.
  if (file_ == nullptr ||
      segment_bytes_ + record_bytes + kWalRecordHeaderBytes > options_.segment_size_bytes) {
    Status s = Roll();
    if (!s.ok()) return Fail(std::move(s));
  }
  const uint64_t lsn = next_lsn_++;
  EncodeRecord(&buffer_, lsn, type, payload);
  segment_bytes_ += record_bytes;
  ++uncommitted_records_;
  if (buffer_.size() >= options_.write_buffer_bytes) {
    Status s = WriteBuffer();
    if (!s.ok()) return Fail(std::move(s));
  }
  return lsn;
}

Status WalWriter::Commit() {
  if (!fatal_.ok()) return fatal_;
  if (uncommitted_records_ == 0) return Status::OK();
  EncodeRecord(&buffer_, next_lsn_ - 1, kCommitType, {});
  segment_bytes_ += kWalRecordHeaderBytes;
  WEIR_DCHECK(segment_bytes_ <= options_.segment_size_bytes);
  Status s = WriteBuffer();
  if (s.ok()) s = file_->Sync();
  if (s.ok() && dir_sync_pending_) {
    s = env_->SyncDir(dir_);
    if (s.ok()) dir_sync_pending_ = false;
  }
  if (!s.ok()) return Fail(std::move(s));
  committed_lsn_ = next_lsn_ - 1;
  uncommitted_records_ = 0;
  return Status::OK();
}

Status WalWriter::Close() {
  if (closed_) return fatal_;
  WEIR_RETURN_IF_ERROR(Commit());
  closed_ = true;
  if (file_ == nullptr) return Status::OK();
  Status s = file_->Close();
  file_.reset();
  if (!s.ok()) return Fail(std::move(s));
  return Status::OK();
}

Status WalWriter::RemoveSegmentsBefore(uint64_t lsn) {
  if (lsn > committed_lsn_ + 1 && committed_lsn_ != 0) {
    return InvalidArgument("RemoveSegmentsBefore({}) is beyond the committed LSN {}", lsn,
                           committed_lsn_);
  }
  return RemoveWalSegmentsBefore(env_, dir_, lsn);
}

Status RemoveWalSegmentsBefore(Env* env, const std::string& dir, uint64_t lsn) {
  WEIR_ASSIGN_OR_RETURN(std::vector<SegmentFile> segments, ListSegments(env, dir));
  bool deleted = false;
  // Oldest first: a crash part-way leaves a contiguous suffix of the log.
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    if (segments[i + 1].first_lsn > lsn) break;  // segment i holds a record >= lsn
    WEIR_RETURN_IF_ERROR(env->DeleteFile(segments[i].path));
    deleted = true;
  }
  if (deleted) WEIR_RETURN_IF_ERROR(env->SyncDir(dir));
  return Status::OK();
}

// ---- WalReader ---------------------------------------------------------------------------------

std::string WalRecoveryReport::ToString() const {
  std::string out = fmt::format("{} committed records (LSN {}..{}) in {} segments", records,
                                first_lsn, last_lsn, segments);
  if (tail_truncated) {
    out += fmt::format("; tail truncated at {}:{} ({}; {} bytes, {} uncommitted records dropped)",
                       tail_file, tail_offset, tail_reason, tail_bytes_dropped,
                       uncommitted_records_dropped);
  }
  return out;
}

Result<std::unique_ptr<WalReader>> WalReader::Open(Env* env, std::string dir, Options options) {
  std::unique_ptr<WalReader> reader(new WalReader(env, dir));
  WEIR_ASSIGN_OR_RETURN(std::vector<SegmentFile> files, ListSegments(env, dir));

  // Pass 1: validate every segment up to the first damaged spot.
  uint64_t prev_lsn = 0;          // LSN of the last valid data record
  uint64_t group_records = 0;     // valid data records after the last commit marker
  uint64_t committed_records = 0;
  uint64_t first_lsn = 0;
  int64_t commit_seg = -1;        // where the last commit marker ends
  uint64_t commit_end = 0;
  uint64_t last_committed_lsn = 0;
  bool damaged = false;
  size_t damage_seg = 0;
  uint64_t damage_offset = 0;
  std::string damage_reason;
  std::vector<uint64_t> sizes(files.size(), 0);

  for (size_t i = 0; i < files.size() && !damaged; ++i) {
    const SegmentFile& f = files[i];
    WEIR_ASSIGN_OR_RETURN(std::string data, ReadFileToString(env, f.path));
    sizes[i] = data.size();
    uint64_t header_lsn = 0;
    HeaderCheck hc = CheckSegmentHeader(data, &header_lsn);
    if (hc != HeaderCheck::kOk) {
      damaged = true;
      damage_seg = i;
      damage_offset = 0;
      damage_reason = hc == HeaderCheck::kTruncated ? "truncated segment header"
                                                    : "damaged segment header";
      // A header-less file may still hold records after the header position.
      if (ProbeValidRecord(data, 0) >= 0) {
        return DataError("{}:0: {}, and valid records follow", f.name, damage_reason);
      }
      break;
    }
    if (header_lsn != f.first_lsn) {
      return DataError("{}:0: the header's first LSN is {}, the file name says {}", f.name,
                       header_lsn, f.first_lsn);
    }
    if (prev_lsn != 0 && f.first_lsn != prev_lsn + 1) {
      return DataError("{}:0: LSN gap: the previous segment ends at LSN {}, this one starts at {}",
                       f.name, prev_lsn, f.first_lsn);
    }
    uint64_t pos = kWalSegmentHeaderBytes;
    while (true) {
      ParsedRecord rec;
      ParseResult r = ParseRecord(data, pos, &rec);
      if (r == ParseResult::kEnd) break;
      if (r != ParseResult::kOk) {
        damaged = true;
        damage_seg = i;
        damage_offset = pos;
        damage_reason = DescribeParseProblem(r, data, pos);
        int64_t next_valid = ProbeValidRecord(data, pos + 1);
        if (next_valid >= 0) {
          return DataError("{}:{}: {}, and valid records follow (at offset {})", f.name, pos,
                           damage_reason, next_valid);
        }
        break;
      }
      // A record with a valid checksum but impossible content is never a torn write.
      if (rec.type == kCommitType) {
        if (!rec.payload.empty() || group_records == 0 || rec.lsn != prev_lsn) {
          return DataError("{}:{}: misplaced commit marker for LSN {}", f.name, pos, rec.lsn);
        }
        committed_records += group_records;
        group_records = 0;
        commit_seg = static_cast<int64_t>(i);
        commit_end = pos + rec.size_bytes;
        last_committed_lsn = rec.lsn;
      } else {
        const uint64_t expected = prev_lsn == 0 ? f.first_lsn : prev_lsn + 1;
        if (rec.type == 0 || rec.lsn != expected) {
          return DataError("{}:{}: record with LSN {} and type {} where LSN {} was expected",
                           f.name, pos, rec.lsn, rec.type, expected);
        }
        if (first_lsn == 0) first_lsn = rec.lsn;
        prev_lsn = rec.lsn;
        ++group_records;
      }
      pos += rec.size_bytes;
    }
  }
  if (damaged) {
    // Damage is a torn write only if nothing valid follows it anywhere in the log.
    for (size_t j = damage_seg + 1; j < files.size(); ++j) {
      WEIR_ASSIGN_OR_RETURN(std::string data, ReadFileToString(env, files[j].path));
      sizes[j] = data.size();
      int64_t o = ProbeValidRecord(data, 0);
      if (o >= 0) {
        return DataError("{}:{}: {}, and valid records follow (in {} at offset {})",
                         files[damage_seg].name, damage_offset, damage_reason, files[j].name, o);
      }
    }
  }

  WalRecoveryReport& rep = reader->report_;
  rep.records = committed_records;
  rep.first_lsn = committed_records > 0 ? first_lsn : 0;
  rep.last_lsn = last_committed_lsn;
  rep.segments = static_cast<size_t>(commit_seg + 1);
  rep.uncommitted_records_dropped = group_records;

  // Everything after the last commit marker goes: later segments (newest first, so a crash
  // mid-repair never leaves an LSN gap), then the tail of the marker's segment.
  const size_t keep_segments = static_cast<size_t>(commit_seg + 1);
  const bool cut_tail = commit_seg >= 0 && sizes[keep_segments - 1] > commit_end;
  if (keep_segments < files.size() || cut_tail) {
    rep.tail_truncated = true;
    rep.tail_reason = damaged ? fmt::format("{} at {}:{}", damage_reason, files[damage_seg].name,
                                            damage_offset)
                              : "unfinished commit group";
    rep.tail_file = commit_seg >= 0 ? files[keep_segments - 1].name : files[0].name;
    rep.tail_offset = commit_seg >= 0 ? commit_end : 0;
    if (cut_tail) rep.tail_bytes_dropped += sizes[keep_segments - 1] - commit_end;
    for (size_t j = keep_segments; j < files.size(); ++j) {
      rep.tail_bytes_dropped += sizes[j];
      rep.segments_deleted.push_back(files[j].name);
    }
    if (options.repair) {
      for (size_t j = files.size(); j-- > keep_segments;) {
        WEIR_RETURN_IF_ERROR(env->DeleteFile(files[j].path));
      }
      if (keep_segments < files.size()) WEIR_RETURN_IF_ERROR(env->SyncDir(dir));
      if (cut_tail) {
        WEIR_RETURN_IF_ERROR(env->TruncateFile(files[keep_segments - 1].path, commit_end));
      }
    }
  }
  for (size_t i = 0; i < keep_segments; ++i) {
    reader->segments_.push_back(Segment{files[i].name, files[i].first_lsn,
                                        i + 1 == keep_segments ? commit_end : sizes[i]});
  }
  return reader;
}

Result<bool> WalReader::Next(WalRecord* out) {
  while (seg_index_ < segments_.size()) {
    const Segment& seg = segments_[seg_index_];
    if (!loaded_) {
      WEIR_ASSIGN_OR_RETURN(data_, ReadFileToString(env_, JoinPath(dir_, seg.name)));
      if (data_.size() < seg.end_offset) {
        return DataError("{}: shrank to {} bytes after recovery (expected {})", seg.name,
                         data_.size(), seg.end_offset);
      }
      data_.resize(seg.end_offset);
      pos_ = kWalSegmentHeaderBytes;
      loaded_ = true;
    }
    ParsedRecord rec;
    ParseResult r = ParseRecord(data_, pos_, &rec);
    if (r == ParseResult::kEnd) {
      ++seg_index_;
      loaded_ = false;
      continue;
    }
    if (r != ParseResult::kOk) {
      return DataError("{}:{}: {} (the log changed after recovery)", seg.name, pos_,
                       DescribeParseProblem(r, data_, pos_));
    }
    pos_ += rec.size_bytes;
    if (rec.type == kCommitType) continue;
    out->lsn = rec.lsn;
    out->type = rec.type;
    out->payload = rec.payload;
    return true;
  }
  data_.clear();
  return false;
}

}  // namespace weir
