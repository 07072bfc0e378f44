#include "state/rocksdb_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <filesystem>
#include <system_error>

namespace weir {

namespace fs = std::filesystem;

namespace {

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
std::string_view ToView(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

Status FsError(const std::error_code& ec, std::string_view what, const std::string& path) {
  return IOError("{} {}: {}", what, path, ec.message());
}

// Removes `dir` and everything in it (absent is fine), then creates it and its parents.
Status ResetDir(const std::string& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) return FsError(ec, "cannot remove", dir);
  fs::create_directories(dir, ec);
  if (ec) return FsError(ec, "cannot create", dir);
  return Status::OK();
}

}  // namespace

Status RemoveTree(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return FsError(ec, "cannot remove", path);
  return Status::OK();
}

Status RocksStatus(const rocksdb::Status& s, std::string_view context) {
  if (s.ok()) return Status::OK();
  if (s.IsCorruption()) return DataError("{}: {}", context, s.ToString());
  if (s.IsNotFound()) return NotFound("{}: {}", context, s.ToString());
  if (s.IsInvalidArgument()) return InvalidArgument("{}: {}", context, s.ToString());
  return IOError("{}: {}", context, s.ToString());
}

RocksStore::RocksStore() : batch_(std::make_unique<rocksdb::WriteBatch>()) {}

RocksStore::~RocksStore() {
  if (db_) {
    db_->Close().PermitUncheckedError();
    db_.reset();
  }
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

Result<std::unique_ptr<RocksStore>> RocksStore::OpenDir(const std::string& dir, const RocksStoreOptions& options,
                                                        bool create) {
  rocksdb::Options o;
  o.create_if_missing = create;
  o.error_if_exists = create;
  // No WAL is written (WriteOptions::disableWAL), and the working directory is discarded at
  // close: flushing the memtable then would be wasted work.
  o.avoid_flush_during_shutdown = true;
  o.write_buffer_size = options.write_buffer_bytes;
  // A Bloom filter over the memtable's keys too: most lookups are of new keys, and without it
  // each one walks the memtable's skip list (measured: a large share of the lookup time).
  o.memtable_whole_key_filtering = true;
  o.memtable_prefix_bloom_size_ratio = 0.1;
  o.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  o.keep_log_file_num = 2;
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  // Most lookups of a growing key set miss: a Bloom filter answers those without a block read.
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, dir, &db);
  if (!s.ok()) return RocksStatus(s, "rocksdb open " + dir);
  std::unique_ptr<RocksStore> store(new RocksStore());
  store->dir_ = dir;
  store->db_.reset(db);
  return store;
}

Result<std::unique_ptr<RocksStore>> RocksStore::Open(const std::string& dir, const RocksStoreOptions& options) {
  WEIR_RETURN_IF_ERROR(ResetDir(dir));
  return OpenDir(dir, options, /*create=*/true);
}

Result<std::unique_ptr<RocksStore>> RocksStore::OpenFromCheckpoint(const std::string& checkpoint_dir,
                                                                   const std::string& dir,
                                                                   const RocksStoreOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(checkpoint_dir, ec)) return NotFound("rocksdb checkpoint {} does not exist", checkpoint_dir);
  WEIR_RETURN_IF_ERROR(ResetDir(dir));
  bool has_current = false;
  for (fs::directory_iterator it(checkpoint_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& from = it->path();
    const std::string name = from.filename().string();
    const fs::path to = fs::path(dir) / name;
    has_current |= name == "CURRENT";
    if (from.extension() == ".sst") {
      // Immutable: RocksDB never rewrites an SST file, it only deletes it (unlinking our link).
      fs::create_hard_link(from, to, ec);
      if (ec) return FsError(ec, "cannot link", from.string() + " to " + to.string());
    } else {
      fs::copy_file(from, to, ec);
      if (ec) return FsError(ec, "cannot copy", from.string() + " to " + to.string());
    }
  }
  if (ec) return FsError(ec, "cannot list", checkpoint_dir);
  if (!has_current) return DataError("rocksdb checkpoint {} is damaged: no CURRENT file", checkpoint_dir);
  auto store = OpenDir(dir, options, /*create=*/false);
  if (!store.ok()) {
    return DataError("rocksdb checkpoint {} is damaged: {}", checkpoint_dir, store.status().message());
  }
  return store;
}

Status RocksStore::MultiGet(const std::string_view* keys, size_t n,
                            const std::function<void(size_t i, std::string_view value)>& found) {
  if (n == 0) return Status::OK();
  if (mg_keys_.size() < n) {
    mg_keys_.resize(n);
    mg_values_.resize(n);
    mg_status_.resize(n);
  }
  for (size_t i = 0; i < n; ++i) {
    mg_keys_[i] = ToSlice(keys[i]);
    mg_values_[i].Reset();
  }
  db_->MultiGet(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), n, mg_keys_.data(), mg_values_.data(),
                mg_status_.data());
  for (size_t i = 0; i < n; ++i) {
    const rocksdb::Status& s = mg_status_[i];
    if (s.ok()) {
      found(i, ToView(mg_values_[i]));
    } else if (!s.IsNotFound()) {
      return RocksStatus(s, "rocksdb read " + dir_);
    }
  }
  for (size_t i = 0; i < n; ++i) mg_values_[i].Reset();  // release pinned blocks
  return Status::OK();
}

Status RocksStore::Get(std::string_view key, std::string* value, bool* present) {
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), ToSlice(key), value);
  *present = s.ok();
  if (s.ok() || s.IsNotFound()) return Status::OK();
  return RocksStatus(s, "rocksdb read " + dir_);
}

void RocksStore::Put(std::string_view key, std::string_view value) {
  batch_->Put(ToSlice(key), ToSlice(value)).PermitUncheckedError();
}

void RocksStore::Delete(std::string_view key) { batch_->Delete(ToSlice(key)).PermitUncheckedError(); }

size_t RocksStore::pending() const { return static_cast<size_t>(batch_->Count()); }

Status RocksStore::Commit() {
  if (batch_->Count() == 0) return Status::OK();
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;
  rocksdb::Status s = db_->Write(wo, batch_.get());
  batch_->Clear();
  return RocksStatus(s, "rocksdb write " + dir_);
}

Status RocksStore::ForEach(std::string_view prefix,
                           const std::function<Status(std::string_view key, std::string_view value)>& f) const {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;  // a full scan would evict the point-lookup working set
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  for (it->Seek(ToSlice(prefix)); it->Valid(); it->Next()) {
    const std::string_view k = ToView(it->key());
    if (k.substr(0, prefix.size()) != prefix) break;
    WEIR_RETURN_IF_ERROR(f(k, ToView(it->value())));
  }
  return RocksStatus(it->status(), "rocksdb scan " + dir_);
}

Status RocksStore::CreateCheckpoint(const std::string& checkpoint_dir) {
  std::error_code ec;
  if (fs::exists(checkpoint_dir, ec)) return AlreadyExists("rocksdb checkpoint {} already exists", checkpoint_dir);
  const fs::path parent = fs::path(checkpoint_dir).parent_path();
  if (!parent.empty()) {
    fs::create_directories(parent, ec);
    if (ec) return FsError(ec, "cannot create", parent.string());
  }
  // Without a WAL the memtable exists nowhere else: flush it so the checkpoint has it.
  rocksdb::FlushOptions fo;
  fo.wait = true;
  WEIR_RETURN_IF_ERROR(RocksStatus(db_->Flush(fo), "rocksdb flush " + dir_));
  rocksdb::Checkpoint* raw = nullptr;
  WEIR_RETURN_IF_ERROR(RocksStatus(rocksdb::Checkpoint::Create(db_.get(), &raw), "rocksdb checkpoint " + dir_));
  std::unique_ptr<rocksdb::Checkpoint> cp(raw);
  return RocksStatus(cp->CreateCheckpoint(checkpoint_dir), "rocksdb checkpoint " + checkpoint_dir);
}

bool RocksStore::Empty() const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  it->SeekToFirst();
  return !it->Valid();
}

uint64_t RocksStore::EstimateKeys() const {
  uint64_t v = 0;
  db_->GetIntProperty("rocksdb.estimate-num-keys", &v);
  return v;
}

uint64_t RocksStore::DiskBytes() const {
  uint64_t v = 0;
  db_->GetIntProperty("rocksdb.total-sst-files-size", &v);
  return v;
}

}  // namespace weir
