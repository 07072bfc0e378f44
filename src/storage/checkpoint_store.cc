#include "storage/checkpoint_store.h"

#include <sys/resource.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <set>
#include <unordered_map>

#include "common/coding.h"
#include "common/crc32c.h"

namespace weir {

static_assert(std::endian::native == std::endian::little,
              "the checkpoint codec stores integers with memcpy; add byte swaps for big-endian");

struct CheckpointStore::BlockRef {
  uint64_t pack_epoch = 0;
  uint64_t offset = 0;  // of the block record's header in the pack
  uint32_t length = 0;  // data bytes
  uint32_t crc = 0;     // CRC32C of the data (unmasked in memory)
  uint64_t hash_lo = 0;
  uint64_t hash_hi = 0;
};

struct CheckpointStore::BlobEntry {
  std::string name;
  uint64_t length = 0;
  uint32_t crc = 0;  // CRC32C of the whole blob (unmasked in memory)
  std::vector<BlockRef> blocks;
};

struct CheckpointStore::Manifest {
  uint64_t epoch = 0;
  int64_t created_micros = 0;
  uint64_t block_bytes = 0;
  std::vector<BlobEntry> blobs;
};

namespace {

using BlockRef = CheckpointStore::BlockRef;
using BlobEntry = CheckpointStore::BlobEntry;
using Manifest = CheckpointStore::Manifest;

constexpr char kManifestMagic[8] = {'W', 'E', 'I', 'R', 'C', 'K', 'P', 'T'};
constexpr char kPackMagic[8] = {'W', 'E', 'I', 'R', 'P', 'A', 'C', 'K'};
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kManifestHeaderBytes = 32;
constexpr size_t kManifestBodyFixedBytes = 32;
constexpr size_t kBlockRefBytes = 40;
constexpr size_t kPackHeaderBytes = 32;
constexpr size_t kBlockHeaderBytes = 32;
constexpr uint64_t kBlobBytesMax = uint64_t{1} << 48;
/// Blocks smaller than this are gathered in a write buffer; larger ones go to the OS directly
/// from the caller's blob (no copy).
constexpr size_t kSmallBlockBytes = 64u << 10;
constexpr size_t kWriteBufferBytes = 1u << 20;
/// A kept pack is reused only while the new checkpoint references at least this fraction of it;
/// otherwise its live blocks are rewritten into the new pack, so dead bytes never pin a pack
/// forever (space amplification of the newest checkpoint stays below 2x).
constexpr double kPackLiveFractionMin = 0.5;
constexpr std::string_view kTempSuffix = ".tmp";

void SetU32(std::string* out, size_t at, uint32_t v) { std::memcpy(out->data() + at, &v, 4); }

bool ParseNumberedName(std::string_view name, std::string_view prefix, std::string_view suffix,
                       uint64_t* epoch) {
  if (name.size() != prefix.size() + 20 + suffix.size()) return false;
  if (name.substr(0, prefix.size()) != prefix) return false;
  if (name.substr(prefix.size() + 20) != suffix) return false;
  uint64_t v = 0;
  for (char c : name.substr(prefix.size(), 20)) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *epoch = v;
  return true;
}

// ---- pack codec --------------------------------------------------------------------------------

void EncodePackHeader(std::string* out, uint64_t epoch) {
  const size_t start = out->size();
  out->append(kPackMagic, 8);
  PutU32(out, kFormatVersion);
  PutU32(out, 0);  // reserved
  PutU64(out, epoch);
  PutU32(out, 0);  // reserved
  PutU32(out, crc32c::Mask(crc32c::Value(out->data() + start, 28)));
}

void EncodeBlockHeader(std::string* out, const BlockRef& ref) {
  const size_t start = out->size();
  PutU64(out, ref.hash_lo);
  PutU64(out, ref.hash_hi);
  PutU32(out, ref.length);
  PutU32(out, crc32c::Mask(ref.crc));
  PutU32(out, 0);  // reserved
  PutU32(out, crc32c::Mask(crc32c::Value(out->data() + start, 28)));
}

// ---- manifest codec ----------------------------------------------------------------------------

std::string EncodeManifest(const Manifest& m) {
  std::string out(kManifestHeaderBytes, '\0');
  PutU64(&out, m.epoch);
  PutU64(&out, static_cast<uint64_t>(m.created_micros));
  PutU64(&out, m.block_bytes);
  PutU32(&out, static_cast<uint32_t>(m.blobs.size()));
  PutU32(&out, 0);  // reserved
  for (const BlobEntry& b : m.blobs) {
    PutU32(&out, static_cast<uint32_t>(b.name.size()));
    out.append(b.name);
    PutU64(&out, b.length);
    PutU32(&out, crc32c::Mask(b.crc));
    PutU32(&out, static_cast<uint32_t>(b.blocks.size()));
    for (const BlockRef& r : b.blocks) {
      PutU64(&out, r.pack_epoch);
      PutU64(&out, r.offset);
      PutU32(&out, r.length);
      PutU32(&out, crc32c::Mask(r.crc));
      PutU64(&out, r.hash_lo);
      PutU64(&out, r.hash_hi);
    }
  }
  const uint64_t body_bytes = out.size() - kManifestHeaderBytes;
  std::memcpy(out.data(), kManifestMagic, 8);
  SetU32(&out, 8, kFormatVersion);
  SetU32(&out, 12, 0);  // flags
  std::memcpy(out.data() + 16, &body_bytes, 8);
  SetU32(&out, 24, crc32c::Mask(crc32c::Value(out.data() + kManifestHeaderBytes, body_bytes)));
  SetU32(&out, 28, crc32c::Mask(crc32c::Value(out.data(), 28)));
  return out;
}

/// Bounds-checked cursor over a manifest; errors carry the file label and the byte offset.
class ManifestCursor {
 public:
  ManifestCursor(std::string_view data, size_t pos, const std::string& label)
      : data_(data), pos_(pos), label_(label) {}
  size_t pos() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  Status Need(size_t n, std::string_view what) const {
    if (remaining() < n) {
      return DataError("checkpoint {}: truncated {} at offset {}", label_, what, pos_);
    }
    return Status::OK();
  }
  uint32_t U32() {
    uint32_t v = LoadU32(data_.data() + pos_);
    pos_ += 4;
    return v;
  }
  uint64_t U64() {
    uint64_t v = LoadU64(data_.data() + pos_);
    pos_ += 8;
    return v;
  }
  std::string_view Bytes(size_t n) {
    std::string_view v = data_.substr(pos_, n);
    pos_ += n;
    return v;
  }

 private:
  std::string_view data_;
  size_t pos_;
  const std::string& label_;
};

/// Validates and decodes a published manifest. `label` is "DIR/MANIFEST-…" for messages.
Result<Manifest> ParseManifest(std::string_view data, const std::string& label,
                               uint64_t name_epoch) {
  if (data.size() < kManifestHeaderBytes) {
    return DataError("checkpoint {}: truncated header ({} bytes) at offset 0", label, data.size());
  }
  const char* p = data.data();
  if (std::memcmp(p, kManifestMagic, 8) != 0) {
    return DataError("checkpoint {}: bad magic (not a Weir manifest) at offset 0", label);
  }
  if (crc32c::Unmask(LoadU32(p + 28)) != crc32c::Value(p, 28)) {
    return DataError("checkpoint {}: header checksum mismatch at offset 0", label);
  }
  if (LoadU32(p + 8) != kFormatVersion) {
    return DataError("checkpoint {}: unsupported format version {} at offset 8", label,
                     LoadU32(p + 8));
  }
  const uint64_t body_bytes = LoadU64(p + 16);
  if (body_bytes != data.size() - kManifestHeaderBytes) {
    return DataError("checkpoint {}: header says {} body bytes, the file has {} at offset 16",
                     label, body_bytes, data.size() - kManifestHeaderBytes);
  }
  if (crc32c::Unmask(LoadU32(p + 24)) != crc32c::Value(p + kManifestHeaderBytes, body_bytes)) {
    return DataError("checkpoint {}: body checksum mismatch at offset {}", label,
                     kManifestHeaderBytes);
  }
  // The checksum matched: what follows can only fail for a writer bug or a forged file, but
  // every length is still checked against the bytes left.
  ManifestCursor c(data, kManifestHeaderBytes, label);
  Manifest m;
  WEIR_RETURN_IF_ERROR(c.Need(kManifestBodyFixedBytes, "body"));
  const size_t epoch_at = c.pos();
  m.epoch = c.U64();
  m.created_micros = static_cast<int64_t>(c.U64());
  m.block_bytes = c.U64();
  const uint32_t blob_count = c.U32();
  c.U32();  // reserved
  if (m.epoch != name_epoch) {
    return DataError("checkpoint {}: epoch {} disagrees with the file name at offset {}", label,
                     m.epoch, epoch_at);
  }
  std::set<std::string_view> names;
  for (uint32_t i = 0; i < blob_count; ++i) {
    const size_t blob_at = c.pos();
    WEIR_RETURN_IF_ERROR(c.Need(4, "blob entry"));
    const uint32_t name_bytes = c.U32();
    WEIR_RETURN_IF_ERROR(c.Need(uint64_t{name_bytes} + 16, "blob entry"));
    BlobEntry b;
    b.name = std::string(c.Bytes(name_bytes));
    b.length = c.U64();
    b.crc = crc32c::Unmask(c.U32());
    const uint32_t block_count = c.U32();
    if (uint64_t{block_count} * kBlockRefBytes > c.remaining()) {
      return DataError("checkpoint {}: blob '{}' lists {} blocks, more than the file holds at "
                       "offset {}", label, b.name, block_count, blob_at);
    }
    uint64_t sum = 0;
    b.blocks.resize(block_count);
    for (BlockRef& r : b.blocks) {
      const size_t ref_at = c.pos();
      r.pack_epoch = c.U64();
      r.offset = c.U64();
      r.length = c.U32();
      r.crc = crc32c::Unmask(c.U32());
      r.hash_lo = c.U64();
      r.hash_hi = c.U64();
      if (r.length == 0 || r.pack_epoch > m.epoch || r.offset < kPackHeaderBytes) {
        return DataError("checkpoint {}: invalid block reference (pack {}, offset {}, length {}) "
                         "at offset {}", label, r.pack_epoch, r.offset, r.length, ref_at);
      }
      sum += r.length;
    }
    if (sum != b.length) {
      return DataError("checkpoint {}: blob '{}' is {} bytes but its blocks hold {} at offset {}",
                       label, b.name, b.length, sum, blob_at);
    }
    m.blobs.push_back(std::move(b));
  }
  for (const BlobEntry& b : m.blobs) {
    if (!names.insert(b.name).second) {
      return DataError("checkpoint {}: blob name '{}' appears twice", label, b.name);
    }
  }
  if (c.remaining() != 0) {
    return DataError("checkpoint {}: {} unexpected bytes after the last blob at offset {}", label,
                     c.remaining(), c.pos());
  }
  return m;
}

struct BlockKey {
  uint64_t lo, hi;
  uint32_t length;
  bool operator==(const BlockKey&) const = default;
};
struct BlockKeyHash {
  size_t operator()(const BlockKey& k) const { return static_cast<size_t>(k.lo ^ k.length); }
};

/// Reads `n` bytes at `offset` of `file`; DataError if the file ends first.
Status ReadExact(const RandomAccessFile& file, const std::string& label, uint64_t offset, size_t n,
                 char* scratch, std::string_view what) {
  WEIR_ASSIGN_OR_RETURN(size_t got, file.Read(offset, n, scratch));
  if (got != n) {
    return DataError("checkpoint {}: truncated {} ({} of {} bytes) at offset {}", label, what, got,
                     n, offset);
  }
  return Status::OK();
}

}  // namespace

std::string CheckpointManifestName(uint64_t epoch) { return fmt::format("MANIFEST-{:020}", epoch); }
std::string CheckpointPackName(uint64_t epoch) { return fmt::format("pack-{:020}.blk", epoch); }

// ---- Open --------------------------------------------------------------------------------------

CheckpointStore::CheckpointStore(Env* env, std::string dir, CheckpointStoreOptions options)
    : env_(env), dir_(std::move(dir)), options_(options) {}

Result<std::unique_ptr<CheckpointStore>> CheckpointStore::Open(Env* env, std::string dir,
                                                               CheckpointStoreOptions options) {
  if (options.retain < 1) return InvalidArgument("checkpoint retain must be >= 1, not {}",
                                                 options.retain);
  if (options.block_bytes < kCheckpointBlockBytesMin ||
      options.block_bytes > kCheckpointBlockBytesMax) {
    return InvalidArgument("checkpoint block_bytes {} is outside [{}, {}]", options.block_bytes,
                           kCheckpointBlockBytesMin, kCheckpointBlockBytesMax);
  }
  const bool existed = env->FileExists(dir);
  WEIR_RETURN_IF_ERROR(env->CreateDir(dir));
  if (!existed) WEIR_RETURN_IF_ERROR(env->SyncDir(DirName(dir)));
  std::unique_ptr<CheckpointStore> store(new CheckpointStore(env, dir, options));

  WEIR_ASSIGN_OR_RETURN(std::vector<std::string> names, env->GetChildren(dir));
  std::sort(names.begin(), names.end());
  std::vector<std::string> temps;
  std::map<uint64_t, std::string> packs;  // epoch -> name
  std::map<uint64_t, std::shared_ptr<const Manifest>> manifests;
  for (const std::string& name : names) {
    uint64_t epoch = 0;
    if (ParseNumberedName(name, "MANIFEST-", kTempSuffix, &epoch)) {
      temps.push_back(name);  // never renamed: an unpublished checkpoint, not corruption
    } else if (ParseNumberedName(name, "MANIFEST-", "", &epoch)) {
      const std::string path = JoinPath(dir, name);
      WEIR_ASSIGN_OR_RETURN(std::string data, ReadFileToString(env, path));
      WEIR_ASSIGN_OR_RETURN(Manifest m, ParseManifest(data, path, epoch));
      manifests[epoch] = std::make_shared<const Manifest>(std::move(m));
    } else if (ParseNumberedName(name, "pack-", ".blk", &epoch)) {
      packs[epoch] = name;
    }
  }

  // Every block a published manifest references must lie inside an existing pack with a valid
  // header (block contents are verified by Read).
  std::map<uint64_t, uint64_t> pack_bytes;
  for (const auto& [epoch, m] : manifests) {
    const std::string label = JoinPath(dir, CheckpointManifestName(epoch));
    for (const BlobEntry& b : m->blobs) {
      for (const BlockRef& r : b.blocks) {
        auto it = pack_bytes.find(r.pack_epoch);
        if (it == pack_bytes.end()) {
          const std::string pack_path = JoinPath(dir, CheckpointPackName(r.pack_epoch));
          if (!packs.count(r.pack_epoch)) {
            return DataError("checkpoint {}: blob '{}' references {}, which is missing", label,
                             b.name, pack_path);
          }
          WEIR_ASSIGN_OR_RETURN(uint64_t size, env->GetFileSize(pack_path));
          WEIR_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> f,
                                env->NewRandomAccessFile(pack_path));
          char h[kPackHeaderBytes];
          WEIR_RETURN_IF_ERROR(ReadExact(*f, pack_path, 0, kPackHeaderBytes, h, "pack header"));
          if (std::memcmp(h, kPackMagic, 8) != 0 ||
              crc32c::Unmask(LoadU32(h + 28)) != crc32c::Value(h, 28) ||
              LoadU32(h + 8) != kFormatVersion || LoadU64(h + 16) != r.pack_epoch) {
            return DataError("checkpoint {}: damaged pack header at offset 0", pack_path);
          }
          it = pack_bytes.emplace(r.pack_epoch, size).first;
        }
        if (r.offset + kBlockHeaderBytes + r.length > it->second) {
          return DataError("checkpoint {}: {} is {} bytes, but blob '{}' has a block at offset "
                           "{} of {} bytes", label, CheckpointPackName(r.pack_epoch),
                           it->second, b.name, r.offset, r.length);
        }
      }
    }
  }

  // Finish what a crash interrupted: retention, then leftovers. Manifests go first (oldest
  // first, made durable) so a pack is never missing while a manifest still names it.
  bool deleted = false;
  while (manifests.size() > static_cast<size_t>(options.retain)) {
    WEIR_RETURN_IF_ERROR(
        env->DeleteFile(JoinPath(dir, CheckpointManifestName(manifests.begin()->first))));
    manifests.erase(manifests.begin());
    deleted = true;
  }
  for (const std::string& t : temps) {
    WEIR_RETURN_IF_ERROR(env->DeleteFile(JoinPath(dir, t)));
    deleted = true;
  }
  if (deleted) WEIR_RETURN_IF_ERROR(env->SyncDir(dir));
  std::set<uint64_t> live;
  for (const auto& [epoch, m] : manifests) {
    for (const BlobEntry& b : m->blobs) {
      for (const BlockRef& r : b.blocks) live.insert(r.pack_epoch);
    }
  }
  deleted = false;
  for (const auto& [epoch, name] : packs) {
    if (live.count(epoch)) continue;
    WEIR_RETURN_IF_ERROR(env->DeleteFile(JoinPath(dir, name)));
    pack_bytes.erase(epoch);
    deleted = true;
  }
  if (deleted) WEIR_RETURN_IF_ERROR(env->SyncDir(dir));

  store->manifests_ = std::move(manifests);
  store->pack_bytes_ = std::move(pack_bytes);
  if (!store->manifests_.empty()) store->last_epoch_submitted_ = store->manifests_.rbegin()->first;
  store->writer_ = std::thread([s = store.get()] { s->WriterLoop(); });
  return store;
}

CheckpointStore::~CheckpointStore() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !job_pending_; });
    stop_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

std::optional<uint64_t> CheckpointStore::latest() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (manifests_.empty()) return std::nullopt;
  return manifests_.rbegin()->first;
}

std::vector<uint64_t> CheckpointStore::epochs() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<uint64_t> out;
  for (const auto& [epoch, m] : manifests_) out.push_back(epoch);
  return out;
}

CheckpointWriteStats CheckpointStore::last_write_stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_stats_;
}

// ---- Read --------------------------------------------------------------------------------------

Result<std::map<std::string, std::string>> CheckpointStore::Read(uint64_t epoch) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!manifests_.count(epoch)) {
      return NotFound("checkpoint {}: no checkpoint with epoch {}", dir_, epoch);
    }
  }
  // The manifest is read again: what is on disk now is what recovery must trust.
  const std::string label = JoinPath(dir_, CheckpointManifestName(epoch));
  WEIR_ASSIGN_OR_RETURN(std::string data, ReadFileToString(env_, label));
  WEIR_ASSIGN_OR_RETURN(Manifest m, ParseManifest(data, label, epoch));

  std::map<uint64_t, std::unique_ptr<RandomAccessFile>> packs;
  std::map<std::string, std::string> out;
  for (const BlobEntry& b : m.blobs) {
    std::string blob(b.length, '\0');
    uint64_t pos = 0;
    for (size_t i = 0; i < b.blocks.size(); ++i) {
      const BlockRef& r = b.blocks[i];
      const std::string pack_path = JoinPath(dir_, CheckpointPackName(r.pack_epoch));
      auto it = packs.find(r.pack_epoch);
      if (it == packs.end()) {
        WEIR_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> f,
                              env_->NewRandomAccessFile(pack_path));
        it = packs.emplace(r.pack_epoch, std::move(f)).first;
      }
      const RandomAccessFile& f = *it->second;
      char h[kBlockHeaderBytes];
      WEIR_RETURN_IF_ERROR(ReadExact(f, pack_path, r.offset, kBlockHeaderBytes, h,
                                     "block header"));
      if (crc32c::Unmask(LoadU32(h + 28)) != crc32c::Value(h, 28)) {
        return DataError("checkpoint {}: block header checksum mismatch at offset {} (blob '{}', "
                         "block {})", pack_path, r.offset, b.name, i);
      }
      if (LoadU64(h) != r.hash_lo || LoadU64(h + 8) != r.hash_hi || LoadU32(h + 16) != r.length ||
          crc32c::Unmask(LoadU32(h + 20)) != r.crc) {
        return DataError("checkpoint {}: the block at offset {} is not the one {} names "
                         "(blob '{}', block {})", pack_path, r.offset, label, b.name, i);
      }
      char* dst = blob.data() + pos;
      const uint64_t data_at = r.offset + kBlockHeaderBytes;
      WEIR_RETURN_IF_ERROR(ReadExact(f, pack_path, data_at, r.length, dst, "block"));
      if (crc32c::Value(dst, r.length) != r.crc) {
        return DataError("checkpoint {}: block checksum mismatch at offset {} (blob '{}', block "
                         "{})", pack_path, data_at, b.name, i);
      }
      pos += r.length;
    }
    // A one-block blob's CRC is its block's, just verified: no second pass over the bytes.
    const bool blob_ok = b.blocks.size() == 1 ? b.blocks[0].crc == b.crc
                                              : crc32c::Value(blob.data(), blob.size()) == b.crc;
    if (!blob_ok) {
      return DataError("checkpoint {}: blob '{}' checksum mismatch (its blocks are intact; the "
                       "manifest or the writer is wrong)", label, b.name);
    }
    out.emplace(b.name, std::move(blob));
  }
  return out;
}

// ---- writing -----------------------------------------------------------------------------------

namespace {
// Name checks of one checkpoint's blobs: length, size for the block count, no duplicates.
Status CheckBlobs(uint64_t epoch, const std::vector<std::pair<std::string, std::string>>& blobs,
                  size_t block_bytes) {
  std::vector<std::string_view> names;  // sorted to find duplicates: cheaper than a set
  names.reserve(blobs.size());
  for (const auto& [name, bytes] : blobs) {
    if (name.size() > kCheckpointNameBytesMax) {
      return InvalidArgument("checkpoint blob name of {} bytes exceeds {}", name.size(),
                             kCheckpointNameBytesMax);
    }
    if (bytes.size() > kBlobBytesMax || bytes.size() / block_bytes >= uint64_t{UINT32_MAX}) {
      return InvalidArgument("checkpoint blob '{}' of {} bytes is too large for {}-byte blocks",
                             name, bytes.size(), block_bytes);
    }
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  if (auto dup = std::adjacent_find(names.begin(), names.end()); dup != names.end()) {
    return InvalidArgument("checkpoint {}: blob name '{}' appears twice", epoch, *dup);
  }
  return Status::OK();
}
}  // namespace

Result<uint64_t> CheckpointStore::WriteAsync(
    uint64_t epoch, std::vector<std::pair<std::string, std::string>> blobs,
    std::unique_ptr<DeferredBlobs> deferred) {
  WEIR_RETURN_IF_ERROR(CheckBlobs(epoch, blobs, options_.block_bytes));
  const int64_t start = env_->MonotonicMicros();
  std::unique_lock<std::mutex> lock(mu_);
  if (!fatal_.ok()) return fatal_;
  if (last_epoch_submitted_ && epoch <= *last_epoch_submitted_) {
    return InvalidArgument("checkpoint epoch {} is not above the previous epoch {}", epoch,
                           *last_epoch_submitted_);
  }
  uint64_t waited_micros = 0;
  if (job_pending_) {
    cv_.wait(lock, [this] { return !job_pending_; });
    waited_micros = static_cast<uint64_t>(std::max<int64_t>(0, env_->MonotonicMicros() - start));
    if (!fatal_.ok()) return fatal_;
  }
  last_epoch_submitted_ = epoch;
  job_pending_ = true;
  job_epoch_ = epoch;
  job_blobs_ = std::move(blobs);
  job_deferred_ = std::move(deferred);
  lock.unlock();
  cv_.notify_all();
  return waited_micros;
}

std::vector<std::pair<std::string, std::string>> CheckpointStore::TakeSpentBuffers() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::move(spent_);
}

Result<std::vector<uint64_t>> CheckpointStore::PollDurable() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!fatal_.ok()) return fatal_;
  std::vector<uint64_t> out = std::move(durable_);
  durable_.clear();
  return out;
}

Result<std::vector<uint64_t>> CheckpointStore::WaitDurable() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !job_pending_; });
  }
  return PollDurable();
}

void CheckpointStore::WriterLoop() {
  // Background work: a lower CPU priority (nice +5, this thread only, best effort) keeps the
  // woken writer from preempting the pipeline thread that just handed it a checkpoint.
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 5);
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || (job_pending_ && !job_blobs_taken_); });
    if (stop_) return;
    job_blobs_taken_ = true;
    const uint64_t epoch = job_epoch_;
    std::vector<std::pair<std::string, std::string>> blobs = std::move(job_blobs_);
    job_blobs_.clear();
    std::unique_ptr<DeferredBlobs> deferred = std::move(job_deferred_);
    lock.unlock();

    CheckpointWriteStats stats;
    stats.epoch = epoch;
    Status s;
    if (deferred) {
      const int64_t t = env_->MonotonicMicros();
      s = deferred->Produce(&blobs);
      deferred.reset();
      stats.deferred_micros = env_->MonotonicMicros() - t;
      if (s.ok()) s = CheckBlobs(epoch, blobs, options_.block_bytes);
    }
    const int64_t start = env_->MonotonicMicros();
    if (s.ok()) s = WriteCheckpoint(epoch, blobs, &stats);
    stats.write_micros = env_->MonotonicMicros() - start;
    if (s.ok()) s = Collect(&stats);

    lock.lock();
    // Hand the written buffers back for reuse (their pages stay mapped: the next snapshot does
    // not fault in and zero fresh memory), replacing any not taken since.
    spent_ = std::move(blobs);
    if (!s.ok() && fatal_.ok()) {
      fatal_ = s.WithPrefix(fmt::format("checkpoint {}: writer stopped at epoch {}: ", dir_, epoch));
    }
    last_stats_ = stats;
    job_pending_ = false;
    job_blobs_taken_ = false;
    cv_.notify_all();
  }
}

Status CheckpointStore::WriteCheckpoint(uint64_t epoch,
                                        std::vector<std::pair<std::string, std::string>>& blobs,
                                        CheckpointWriteStats* stats) {
  std::map<uint64_t, std::shared_ptr<const Manifest>> kept;
  std::map<uint64_t, uint64_t> pack_bytes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    kept = manifests_;
    pack_bytes = pack_bytes_;
  }
  // Content index of the blocks on disk; for a block stored twice (after a pack was compacted)
  // the newest copy wins.
  std::unordered_map<BlockKey, BlockRef, BlockKeyHash> index;
  for (const auto& [e, m] : kept) {
    for (const BlobEntry& b : m->blobs) {
      for (const BlockRef& r : b.blocks) index[BlockKey{r.hash_lo, r.hash_hi, r.length}] = r;
    }
  }

  // Pass 1: hash every block, find the ones already on disk, checksum the blobs.
  Manifest m;
  m.epoch = epoch;
  m.created_micros = env_->NowMicros();
  m.block_bytes = options_.block_bytes;
  m.blobs.reserve(blobs.size());
  std::map<uint64_t, uint64_t> live_bytes;  // per old pack: bytes this checkpoint reuses
  std::unordered_map<BlockKey, bool, BlockKeyHash> seen;
  for (const auto& [name, bytes] : blobs) {
    BlobEntry b;
    b.name = name;
    b.length = bytes.size();
    b.crc = crc32c::Value(bytes.data(), bytes.size());
    for (uint64_t off = 0; off < bytes.size(); off += options_.block_bytes) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(options_.block_bytes,
                                                              bytes.size() - off));
      const char* p = bytes.data() + off;
      const XXH128_hash_t h = XXH3_128bits(p, n);
      BlockRef r;
      r.pack_epoch = 0;  // 0 with offset 0: not placed yet
      r.length = static_cast<uint32_t>(n);
      r.hash_lo = h.low64;
      r.hash_hi = h.high64;
      const BlockKey key{r.hash_lo, r.hash_hi, r.length};
      auto it = index.find(key);
      if (it != index.end()) {
        r = it->second;
        if (seen.emplace(key, true).second) live_bytes[r.pack_epoch] += kBlockHeaderBytes + n;
      } else {
        r.crc = crc32c::Value(p, n);
      }
      b.blocks.push_back(r);
    }
    stats->blob_bytes += b.length;
    stats->blocks += b.blocks.size();
    m.blobs.push_back(std::move(b));
  }
  stats->blobs = m.blobs.size();
  // Packs this checkpoint would use only sparsely are not reused: their live blocks are copied.
  std::set<uint64_t> sparse;
  for (const auto& [pack, live] : live_bytes) {
    auto it = pack_bytes.find(pack);
    const uint64_t size = it == pack_bytes.end() ? 0 : it->second - kPackHeaderBytes;
    if (static_cast<double>(live) < kPackLiveFractionMin * static_cast<double>(size)) {
      sparse.insert(pack);
    }
  }

  // Pass 2: append the new blocks to this checkpoint's pack, straight from the blobs.
  const std::string pack_path = JoinPath(dir_, CheckpointPackName(epoch));
  std::unique_ptr<WritableFile> pack;
  std::string buf;
  uint64_t pack_size = 0;
  std::unordered_map<BlockKey, BlockRef, BlockKeyHash> written;  // in this pack
  auto flush = [&]() -> Status {
    if (buf.empty()) return Status::OK();
    Status s = pack->Append(buf);
    buf.clear();
    return s;
  };
  for (size_t bi = 0; bi < m.blobs.size(); ++bi) {
    BlobEntry& b = m.blobs[bi];
    const std::string& bytes = blobs[bi].second;
    for (size_t i = 0; i < b.blocks.size(); ++i) {
      BlockRef& r = b.blocks[i];
      const bool placed = r.offset != 0;
      if (placed && !sparse.count(r.pack_epoch)) continue;
      const BlockKey key{r.hash_lo, r.hash_hi, r.length};
      auto w = written.find(key);
      if (w != written.end()) {
        r = w->second;
        continue;
      }
      const char* p = bytes.data() + i * options_.block_bytes;
      if (placed) {
        ++stats->blocks_rewritten;
        r.crc = crc32c::Value(p, r.length);
      }
      if (pack == nullptr) {
        WEIR_ASSIGN_OR_RETURN(pack, env_->NewWritableFile(pack_path, /*truncate=*/true));
        buf.reserve(kWriteBufferBytes + kSmallBlockBytes + kBlockHeaderBytes);
        EncodePackHeader(&buf, epoch);
        pack_size = kPackHeaderBytes;
      }
      r.pack_epoch = epoch;
      r.offset = pack_size;
      EncodeBlockHeader(&buf, r);
      if (r.length < kSmallBlockBytes) {
        buf.append(p, r.length);
      } else {
        WEIR_RETURN_IF_ERROR(flush());
        WEIR_RETURN_IF_ERROR(pack->Append(std::string_view(p, r.length)));
      }
      if (buf.size() >= kWriteBufferBytes) WEIR_RETURN_IF_ERROR(flush());
      pack_size += kBlockHeaderBytes + r.length;
      ++stats->blocks_written;
      written.emplace(key, r);
    }
  }
  if (pack != nullptr) {
    WEIR_RETURN_IF_ERROR(flush());
    WEIR_RETURN_IF_ERROR(pack->Sync());
    WEIR_RETURN_IF_ERROR(pack->Close());
    stats->bytes_written += pack_size;
    // The pack's directory entry must be durable before a manifest can name it.
    WEIR_RETURN_IF_ERROR(env_->SyncDir(dir_));
  }

  // Publish: temp manifest, fsync, rename, fsync the directory.
  const std::string manifest = EncodeManifest(m);
  const std::string final_path = JoinPath(dir_, CheckpointManifestName(epoch));
  const std::string temp_path = final_path + std::string(kTempSuffix);
  WEIR_RETURN_IF_ERROR(WriteStringToFileSync(env_, temp_path, manifest));
  stats->bytes_written += manifest.size();
  WEIR_RETURN_IF_ERROR(env_->RenameFile(temp_path, final_path));
  WEIR_RETURN_IF_ERROR(env_->SyncDir(dir_));

  std::lock_guard<std::mutex> lock(mu_);
  manifests_[epoch] = std::make_shared<const Manifest>(std::move(m));
  if (pack != nullptr) pack_bytes_[epoch] = pack_size;
  durable_.push_back(epoch);
  return Status::OK();
}

Status CheckpointStore::Collect(CheckpointWriteStats* stats) {
  // Retention: manifests first (oldest first, made durable), then the packs no kept manifest
  // names. A crash in between leaves only unreferenced packs, which Open removes.
  std::vector<uint64_t> old_manifests;
  std::set<uint64_t> live;
  std::vector<uint64_t> dead_packs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const size_t retain = static_cast<size_t>(options_.retain);
    for (auto it = manifests_.begin(); manifests_.size() - old_manifests.size() > retain; ++it) {
      old_manifests.push_back(it->first);
    }
    for (auto it = manifests_.rbegin(); it != manifests_.rend(); ++it) {
      if (std::find(old_manifests.begin(), old_manifests.end(), it->first) !=
          old_manifests.end()) {
        continue;
      }
      for (const BlobEntry& b : it->second->blobs) {
        for (const BlockRef& r : b.blocks) live.insert(r.pack_epoch);
      }
    }
    for (const auto& [pack, size] : pack_bytes_) {
      if (!live.count(pack)) dead_packs.push_back(pack);
    }
  }
  if (!old_manifests.empty()) {
    for (uint64_t e : old_manifests) {
      WEIR_RETURN_IF_ERROR(env_->DeleteFile(JoinPath(dir_, CheckpointManifestName(e))));
      ++stats->manifests_deleted;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (uint64_t e : old_manifests) manifests_.erase(e);
    }
    WEIR_RETURN_IF_ERROR(env_->SyncDir(dir_));
  }
  if (!dead_packs.empty()) {
    for (uint64_t p : dead_packs) {
      WEIR_RETURN_IF_ERROR(env_->DeleteFile(JoinPath(dir_, CheckpointPackName(p))));
      ++stats->packs_deleted;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (uint64_t p : dead_packs) pack_bytes_.erase(p);
    }
    WEIR_RETURN_IF_ERROR(env_->SyncDir(dir_));
  }
  return Status::OK();
}

}  // namespace weir
