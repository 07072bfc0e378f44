#include "common/env.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <thread>

namespace weir {

namespace {

Status PosixError(std::string_view path, std::string_view op, int err) {
  if (err == ENOENT) return NotFound("{}: {}: {}", path, op, std::strerror(err));
  return IOError("{}: {}: {}", path, op, std::strerror(err));
}

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixSequentialFile() override { ::close(fd_); }

  Result<size_t> Read(size_t n, char* scratch) override {
    while (true) {
      ssize_t r = ::read(fd_, scratch, n);
      if (r >= 0) return static_cast<size_t>(r);
      if (errno != EINTR) return PosixError(path_, "read", errno);
    }
  }
  Status Skip(uint64_t n) override {
    if (::lseek(fd_, static_cast<off_t>(n), SEEK_CUR) < 0) return PosixError(path_, "lseek", errno);
    return Status::OK();
  }

 private:
  std::string path_;
  int fd_;
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  Result<size_t> Read(uint64_t offset, size_t n, char* scratch) const override {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, scratch + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError(path_, "pread", errno);
      }
      if (r == 0) break;  // end of file
      done += static_cast<size_t>(r);
    }
    return done;
  }

 private:
  std::string path_;
  int fd_;
};

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Append(std::string_view data) override {
    if (fd_ < 0) return IOError("{}: append after close", path_);
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t w = ::pwrite(fd_, p, left, static_cast<off_t>(size_));
      if (w < 0) {
        if (errno == EINTR) continue;
        return PosixError(path_, "pwrite", errno);
      }
      p += w;
      left -= static_cast<size_t>(w);
      size_ += static_cast<uint64_t>(w);
    }
    return Status::OK();
  }
  Status Flush() override { return Status::OK(); }  // no user-space buffer
  Status Sync() override {
    if (fd_ < 0) return IOError("{}: sync after close", path_);
    if (::fdatasync(fd_) != 0) return PosixError(path_, "fdatasync", errno);
    return Status::OK();
  }
  Status Close() override {
    if (fd_ < 0) return Status::OK();
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return PosixError(path_, "close", errno);
    return Status::OK();
  }
  uint64_t Size() const override { return size_; }

 private:
  std::string path_;
  int fd_;
  uint64_t size_;
};

class PosixEnv final : public Env {
 public:
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                        bool truncate) override {
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0);
    int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) return PosixError(path, "open", errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      Status s = PosixError(path, "fstat", errno);
      ::close(fd);
      return s;
    }
    return std::unique_ptr<WritableFile>(
        new PosixWritableFile(path, fd, static_cast<uint64_t>(st.st_size)));
  }

  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError(path, "open", errno);
    return std::unique_ptr<SequentialFile>(new PosixSequentialFile(path, fd));
  }

  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError(path, "open", errno);
    return std::unique_ptr<RandomAccessFile>(new PosixRandomAccessFile(path, fd));
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return PosixError(fmt::format("{} -> {}", from, to), "rename", errno);
    }
    return Status::OK();
  }

  Status DeleteFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return PosixError(path, "unlink", errno);
    return Status::OK();
  }

  Status TruncateFile(const std::string& path, uint64_t size_bytes) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return PosixError(path, "open", errno);
    Status s;
    if (::ftruncate(fd, static_cast<off_t>(size_bytes)) != 0) {
      s = PosixError(path, "ftruncate", errno);
    } else if (::fsync(fd) != 0) {
      s = PosixError(path, "fsync", errno);
    }
    if (::close(fd) != 0 && s.ok()) s = PosixError(path, "close", errno);
    return s;
  }

  Result<std::vector<std::string>> GetChildren(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return PosixError(dir, "opendir", errno);
    std::vector<std::string> out;
    while (struct dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      out.emplace_back(name);
    }
    ::closedir(d);
    return out;
  }

  Status CreateDir(const std::string& dir) override {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return PosixError(dir, "mkdir", errno);
    return Status::OK();
  }

  bool FileExists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  Result<uint64_t> GetFileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PosixError(path, "stat", errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Status SyncDir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PosixError(dir, "open directory", errno);
    Status s;
    if (::fsync(fd) != 0) s = PosixError(dir, "fsync directory", errno);
    ::close(fd);
    return s;
  }

  int64_t NowMicros() override { return ClockMicros(CLOCK_REALTIME); }
  int64_t MonotonicMicros() override { return ClockMicros(CLOCK_MONOTONIC); }
  void SleepForMicros(int64_t micros) override {
    if (micros > 0) std::this_thread::sleep_for(std::chrono::microseconds(micros));
  }

 private:
  static int64_t ClockMicros(clockid_t clock) {
    struct timespec ts;
    ::clock_gettime(clock, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
  }
};

}  // namespace

Env* Env::Default() {
  static PosixEnv* env = new PosixEnv();  // never destroyed: usable from static destructors
  return env;
}

Result<std::string> ReadFileToString(Env* env, const std::string& path) {
  WEIR_ASSIGN_OR_RETURN(std::unique_ptr<SequentialFile> file, env->NewSequentialFile(path));
  std::string out;
  constexpr size_t kChunkBytes = 64 * 1024;
  while (true) {
    size_t old = out.size();
    out.resize(old + kChunkBytes);
    WEIR_ASSIGN_OR_RETURN(size_t n, file->Read(kChunkBytes, out.data() + old));
    out.resize(old + n);
    if (n == 0) break;
  }
  return out;
}

Status WriteStringToFileSync(Env* env, const std::string& path, std::string_view data) {
  WEIR_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env->NewWritableFile(path, true));
  WEIR_RETURN_IF_ERROR(file->Append(data));
  WEIR_RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  if (dir.back() == '/') return fmt::format("{}{}", dir, name);
  return fmt::format("{}/{}", dir, name);
}

std::string DirName(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::string_view EnvErrorText(const Status& st) {
  std::string_view msg = st.message();
  size_t colon = msg.rfind(": ");
  return colon == std::string_view::npos ? msg : msg.substr(colon + 2);
}

// ---- FaultInjectionEnv -------------------------------------------------------------------------

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultInjectionEnv* env, std::string path, uint64_t generation,
                    std::unique_ptr<WritableFile> base)
      : env_(env), path_(std::move(path)), generation_(generation), base_(std::move(base)) {}

  Status Append(std::string_view data) override {
    WEIR_RETURN_IF_ERROR(env_->BeforeWrite(generation_, path_));
    WEIR_RETURN_IF_ERROR(base_->Append(data));
    env_->AfterAppend(path_, base_->Size());
    return Status::OK();
  }
  Status Flush() override {
    WEIR_RETURN_IF_ERROR(env_->BeforeWrite(generation_, path_));
    return base_->Flush();
  }
  Status Sync() override {
    WEIR_RETURN_IF_ERROR(env_->BeforeSync(generation_, path_));
    WEIR_RETURN_IF_ERROR(base_->Sync());
    env_->AfterSync(path_, base_->Size());
    return Status::OK();
  }
  Status Close() override { return base_->Close(); }  // closing an fd writes nothing
  uint64_t Size() const override { return base_->Size(); }

 private:
  FaultInjectionEnv* env_;
  std::string path_;
  uint64_t generation_;
  std::unique_ptr<WritableFile> base_;
};

class FaultSequentialFile final : public SequentialFile {
 public:
  FaultSequentialFile(FaultInjectionEnv* env, std::string path,
                      std::unique_ptr<SequentialFile> base)
      : env_(env), path_(std::move(path)), base_(std::move(base)) {}

  Result<size_t> Read(size_t n, char* scratch) override {
    const uint64_t allowed = env_->ReadableBytes(path_, offset_, n);
    if (allowed == 0 && n > 0) return IOError("{}: read: Input/output error (injected)", path_);
    WEIR_ASSIGN_OR_RETURN(size_t got, base_->Read(static_cast<size_t>(allowed), scratch));
    offset_ += got;
    return got;
  }
  Status Skip(uint64_t n) override {
    WEIR_RETURN_IF_ERROR(base_->Skip(n));
    offset_ += n;
    return Status::OK();
  }

 private:
  FaultInjectionEnv* env_;
  std::string path_;
  std::unique_ptr<SequentialFile> base_;
  uint64_t offset_ = 0;  // of the next byte Read returns
};

class FaultRandomAccessFile final : public RandomAccessFile {
 public:
  FaultRandomAccessFile(FaultInjectionEnv* env, std::string path,
                        std::unique_ptr<RandomAccessFile> base)
      : env_(env), path_(std::move(path)), base_(std::move(base)) {}

  Result<size_t> Read(uint64_t offset, size_t n, char* scratch) const override {
    const uint64_t allowed = env_->ReadableBytes(path_, offset, n);
    if (allowed == 0 && n > 0) return IOError("{}: read: Input/output error (injected)", path_);
    return base_->Read(offset, static_cast<size_t>(allowed), scratch);
  }

 private:
  FaultInjectionEnv* env_;
  std::string path_;
  std::unique_ptr<RandomAccessFile> base_;
};

FaultInjectionEnv::FaultInjectionEnv(Env* base, uint64_t seed) : base_(base), rng_(seed) {}

uint64_t FaultInjectionEnv::ReadableBytes(const std::string& path, uint64_t offset, uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  ++reads_;
  if (fail_read_path_.empty() || path != fail_read_path_) return n;
  return offset >= fail_read_offset_ ? 0 : std::min(n, fail_read_offset_ - offset);
}

Status FaultInjectionEnv::CheckPowerLocked(std::string_view what, const std::string& path) {
  if (powered_off_) return IOError("{}: {}: simulated crash (power is off)", path, what);
  return Status::OK();
}

Status FaultInjectionEnv::BeforeWrite(uint64_t generation, const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (generation != generation_) return IOError("{}: file handle did not survive the crash", path);
  return CheckPowerLocked("write", path);
}

void FaultInjectionEnv::AfterAppend(const std::string& path, uint64_t size_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  files_[path].size_bytes = size_bytes;
}

Status FaultInjectionEnv::BeforeSync(uint64_t generation, const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (generation != generation_) return IOError("{}: file handle did not survive the crash", path);
  WEIR_RETURN_IF_ERROR(CheckPowerLocked("fdatasync", path));
  ++sync_calls_;
  if (fail_sync_at_ != 0 && sync_calls_ == fail_sync_at_) {
    return IOError("{}: fdatasync: Input/output error (injected)", path);
  }
  if (crash_after_ == 0) {
    powered_off_ = true;
    return IOError("{}: fdatasync: simulated crash (power is off)", path);
  }
  if (crash_after_ > 0) --crash_after_;
  return Status::OK();
}

void FaultInjectionEnv::AfterSync(const std::string& path, uint64_t size_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  FileState& st = files_[path];
  st.size_bytes = size_bytes;
  st.synced_bytes = size_bytes;
  ++sync_points_;
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewWritableFile(const std::string& path,
                                                                         bool truncate) {
  std::lock_guard<std::mutex> lock(mu_);
  WEIR_RETURN_IF_ERROR(CheckPowerLocked("open", path));
  bool existed = base_->FileExists(path);
  WEIR_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, base_->NewWritableFile(path, truncate));
  if (!existed) dir_ops_[DirName(path)].push_back(DirOp{DirOp::kCreate, path, "", false, ""});
  auto it = files_.find(path);
  if (truncate || it == files_.end()) {
    // Pre-existing content of a file we never saw is taken as durable; truncation is not.
    uint64_t size = file->Size();
    files_[path] = FileState{size, size};
    if (truncate) files_[path].synced_bytes = 0;
  }
  return std::unique_ptr<WritableFile>(
      new FaultWritableFile(this, path, generation_, std::move(file)));
}

Result<std::unique_ptr<SequentialFile>> FaultInjectionEnv::NewSequentialFile(
    const std::string& path) {
  WEIR_ASSIGN_OR_RETURN(std::unique_ptr<SequentialFile> file, base_->NewSequentialFile(path));
  return std::unique_ptr<SequentialFile>(new FaultSequentialFile(this, path, std::move(file)));
}

Result<std::unique_ptr<RandomAccessFile>> FaultInjectionEnv::NewRandomAccessFile(
    const std::string& path) {
  WEIR_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, base_->NewRandomAccessFile(path));
  return std::unique_ptr<RandomAccessFile>(new FaultRandomAccessFile(this, path, std::move(file)));
}

Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lock(mu_);
  WEIR_RETURN_IF_ERROR(CheckPowerLocked("rename", from));
  if (fail_rename_) return IOError("{} -> {}: rename: Input/output error (injected)", from, to);
  DirOp op{DirOp::kRename, to, from, false, ""};
  if (base_->FileExists(to)) {
    op.had_target = true;
    WEIR_ASSIGN_OR_RETURN(op.old_target, ReadFileToString(base_, to));
    auto it = files_.find(to);
    if (it != files_.end() && it->second.synced_bytes < op.old_target.size()) {
      op.old_target.resize(it->second.synced_bytes);
    }
  }
  WEIR_RETURN_IF_ERROR(base_->RenameFile(from, to));
  auto it = files_.find(from);
  if (it != files_.end()) {
    files_[to] = it->second;
    files_.erase(from);
  } else {
    files_.erase(to);
  }
  dir_ops_[DirName(to)].push_back(std::move(op));
  return Status::OK();
}

Status FaultInjectionEnv::DeleteFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  WEIR_RETURN_IF_ERROR(CheckPowerLocked("unlink", path));
  WEIR_RETURN_IF_ERROR(base_->DeleteFile(path));
  files_.erase(path);
  return Status::OK();
}

Status FaultInjectionEnv::TruncateFile(const std::string& path, uint64_t size_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  WEIR_RETURN_IF_ERROR(CheckPowerLocked("ftruncate", path));
  WEIR_RETURN_IF_ERROR(base_->TruncateFile(path, size_bytes));
  auto it = files_.find(path);
  if (it != files_.end()) it->second = FileState{size_bytes, size_bytes};
  return Status::OK();
}

Result<std::vector<std::string>> FaultInjectionEnv::GetChildren(const std::string& dir) {
  return base_->GetChildren(dir);
}

Status FaultInjectionEnv::CreateDir(const std::string& dir) {
  std::lock_guard<std::mutex> lock(mu_);
  WEIR_RETURN_IF_ERROR(CheckPowerLocked("mkdir", dir));
  return base_->CreateDir(dir);
}

bool FaultInjectionEnv::FileExists(const std::string& path) { return base_->FileExists(path); }

Result<uint64_t> FaultInjectionEnv::GetFileSize(const std::string& path) {
  return base_->GetFileSize(path);
}

Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  std::lock_guard<std::mutex> lock(mu_);
  WEIR_RETURN_IF_ERROR(CheckPowerLocked("fsync directory", dir));
  if (crash_after_ == 0) {
    powered_off_ = true;
    return IOError("{}: fsync directory: simulated crash (power is off)", dir);
  }
  WEIR_RETURN_IF_ERROR(base_->SyncDir(dir));
  if (crash_after_ > 0) --crash_after_;
  dir_ops_.erase(dir);
  ++sync_points_;
  return Status::OK();
}

int64_t FaultInjectionEnv::NowMicros() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (manual_clock_) return clock_micros_;
  }
  return base_->NowMicros();
}

int64_t FaultInjectionEnv::MonotonicMicros() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (manual_clock_) return clock_micros_;
  }
  return base_->MonotonicMicros();
}

void FaultInjectionEnv::SleepForMicros(int64_t micros) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (manual_clock_) {
      if (micros > 0) clock_micros_ += micros;
      return;
    }
  }
  base_->SleepForMicros(micros);
}

void FaultInjectionEnv::UseManualClock(int64_t start_micros) {
  std::lock_guard<std::mutex> lock(mu_);
  manual_clock_ = true;
  clock_micros_ = start_micros;
}

void FaultInjectionEnv::AdvanceClock(int64_t micros) {
  std::lock_guard<std::mutex> lock(mu_);
  WEIR_CHECK(manual_clock_ && micros >= 0);
  clock_micros_ += micros;
}

void FaultInjectionEnv::FailReadsAt(const std::string& path, uint64_t offset) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_read_path_ = path;
  fail_read_offset_ = offset;
}

uint64_t FaultInjectionEnv::reads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reads_;
}

Status FaultInjectionEnv::ApplyFileCrash(const std::string& path, const FileState& st,
                                         CrashMode mode) {
  const uint64_t unsynced = st.size_bytes - st.synced_bytes;
  uint64_t keep = st.synced_bytes;
  if (mode != CrashMode::kDropUnsynced) keep += rng_() % (unsynced + 1);
  if (mode != CrashMode::kGarbleUnsynced) return base_->TruncateFile(path, keep);
  WEIR_ASSIGN_OR_RETURN(std::string data, ReadFileToString(base_, path));
  data.resize(st.size_bytes);
  for (uint64_t i = keep; i < st.size_bytes; ++i) data[i] = static_cast<char>(rng_() & 0xff);
  return WriteStringToFileSync(base_, path, data);
}

Status FaultInjectionEnv::SimulateCrash(CrashMode mode) {
  std::lock_guard<std::mutex> lock(mu_);
  powered_off_ = false;
  crash_after_ = -1;
  fail_sync_at_ = 0;
  ++generation_;  // every open file object is now dead
  for (const auto& [path, st] : files_) {  // std::map: deterministic order for the rng
    if (st.size_bytes <= st.synced_bytes || !base_->FileExists(path)) continue;
    WEIR_RETURN_IF_ERROR(ApplyFileCrash(path, st, mode));
  }
  for (auto& [dir, ops] : dir_ops_) {
    for (auto op = ops.rbegin(); op != ops.rend(); ++op) {
      if (op->kind == DirOp::kCreate) {
        if (base_->FileExists(op->path)) WEIR_RETURN_IF_ERROR(base_->DeleteFile(op->path));
        files_.erase(op->path);
      } else {
        if (base_->FileExists(op->path)) WEIR_RETURN_IF_ERROR(base_->RenameFile(op->path, op->from));
        if (op->had_target) {
          WEIR_RETURN_IF_ERROR(WriteStringToFileSync(base_, op->path, op->old_target));
        }
        auto it = files_.find(op->path);
        if (it != files_.end()) {
          files_[op->from] = it->second;
          files_.erase(op->path);
        }
      }
    }
  }
  dir_ops_.clear();
  // What is on disk now is, by definition, what survived: all of it counts as durable.
  for (auto it = files_.begin(); it != files_.end();) {
    Result<uint64_t> size = base_->GetFileSize(it->first);
    if (!size.ok()) {
      it = files_.erase(it);
      continue;
    }
    it->second = FileState{*size, *size};
    ++it;
  }
  return Status::OK();
}

void FaultInjectionEnv::FailNthSync(uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_sync_at_ = n == 0 ? 0 : sync_calls_ + n;
}

void FaultInjectionEnv::SetRenameFailure(bool fail) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_rename_ = fail;
}

void FaultInjectionEnv::CrashAfterSyncPoints(int64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  crash_after_ = n < 0 ? -1 : n;
}

uint64_t FaultInjectionEnv::sync_points() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sync_points_;
}

}  // namespace weir
