#include "connectors/file/file_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "batch/buffer.h"
#include "common/crc32c.h"
#include "formats/format.h"

namespace weir {

namespace {

constexpr size_t kReadBytes = size_t{1} << 20;            // one read(2)
constexpr size_t kBatchInputBytesMax = size_t{16} << 20;  // stop topping up a batch after this
/// A saved position carries a CRC32C of up to this many bytes before it, so that restoring
/// onto a file whose content changed (rewritten, replaced) is an error, not silent garbage.
constexpr size_t kFingerprintBytesMax = 4096;

class FileSource final : public Source {
 public:
  FileSource(std::string path, std::string format, bool follow, int fd, int64_t size_bytes,
             std::unique_ptr<BadRecordHandler> handler)
      : path_(std::move(path)),
        format_(std::move(format)),
        follow_(follow),
        fd_(fd),
        handler_(std::move(handler)) {
    stats_.bytes_total = follow_ ? -1 : size_bytes;
  }
  ~FileSource() override { CloseFile(); }

  Status Init(SchemaPtr schema, const std::vector<int>& projection, const Options& options) {
    WEIR_ASSIGN_OR_RETURN(
        decoder_, MakeDecoder(format_, std::move(schema), projection, options, handler_.get()));
    return Status::OK();
  }

  const SchemaPtr& output_schema() const override { return decoder_->output_schema(); }
  bool bounded() const override { return !follow_; }
  std::string Describe() const override {
    return fmt::format("file {} ({}{})", path_, format_, follow_ ? ", follow" : "");
  }
  SourceStats stats() const override {
    SourceStats s = stats_;
    s.rows_skipped = handler_->skipped();
    s.rows_dead_letter = handler_->dead_lettered();
    return s;
  }

  Status SavePosition(StateWriter* w) const override {
    const uint64_t offset = file_read_ - (end_ - begin_);
    uint32_t fingerprint = end_fingerprint_;
    if (!ended_) {
      WEIR_ASSIGN_OR_RETURN(fingerprint, Fingerprint(offset));
    }
    w->Begin("file_source");
    w->String(format_);
    w->U64(offset);
    w->U32(fingerprint);
    w->I64(stats_.rows_read);
    w->I64(stats_.bytes_read);
    decoder_->SaveState(w);
    WEIR_RETURN_IF_ERROR(handler_->SaveState(w));
    w->End();
    return Status::OK();
  }

  Status RestorePosition(StateReader* r) override {
    if (file_read_ != 0 || ended_) return Internal("{}: RestorePosition after Next()", path_);
    r->Begin("file_source");
    const std::string format = r->String();
    const uint64_t offset = r->U64();
    const uint32_t fingerprint = r->U32();
    const int64_t rows_read = r->I64();
    const int64_t bytes_read = r->I64();
    if (!r->ok()) return r->status();
    if (format != format_)
      return DataError("{}: checkpointed as format '{}', now '{}'", path_, format, format_);
    struct stat st;
    if (::fstat(fd_, &st) != 0) return IOError("cannot stat '{}': {}", path_, std::strerror(errno));
    if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) < offset)
      return DataError("{}: the file changed since the checkpoint: it has {} bytes, the checkpoint "
                       "read up to byte {}", path_, static_cast<int64_t>(st.st_size), offset);
    WEIR_ASSIGN_OR_RETURN(uint32_t now, Fingerprint(offset));
    if (now != fingerprint)
      return DataError("{}: the file changed since the checkpoint: the bytes before offset {} "
                       "differ", path_, offset);
    WEIR_RETURN_IF_ERROR(decoder_->RestoreState(r));
    WEIR_RETURN_IF_ERROR(handler_->RestoreState(r));
    r->End();
    if (!r->ok()) return r->status();
    if (::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0)
      return IOError("cannot seek '{}': {}", path_, std::strerror(errno));
    file_read_ = offset;
    stats_.rows_read = rows_read;
    stats_.bytes_read = bytes_read;
    return Status::OK();
  }

  Result<PollResult> Next(RecordBatch* out, int64_t rows_max) override {
    if (ended_) return PollResult::kEnd;
    rows_max = std::clamp<int64_t>(rows_max, 1, kBatchRowsMax);
    out->set_num_rows(0);
    size_t batch_input_bytes = 0;
    while (true) {
      if (begin_ < end_ || eof_) {
        size_t consumed = 0;
        const char* data = reinterpret_cast<const char*>(buffer_.data()) + begin_;
        Status st =
            decoder_->Decode(data, end_ - begin_, eof_, rows_max - out->num_rows(), out, &consumed);
        begin_ += consumed;
        stats_.bytes_read += static_cast<int64_t>(consumed);
        batch_input_bytes += consumed;
        WEIR_RETURN_IF_ERROR(st);
        if (out->num_rows() >= rows_max) return Emit(out);
        if (eof_) {
          if (begin_ < end_) {
            // Only reachable when a block of bad records used up rows_max: go on decoding.
            if (consumed == 0) return Internal("{}: decoder made no progress at EOF", path_);
            continue;
          }
          if (out->num_rows() > 0) return Emit(out);
          WEIR_ASSIGN_OR_RETURN(end_fingerprint_, Fingerprint(file_read_));
          ended_ = true;
          CloseFile();
          return PollResult::kEnd;
        }
        if (out->num_rows() > 0 && batch_input_bytes >= kBatchInputBytesMax) return Emit(out);
      }
      size_t got = 0;
      WEIR_RETURN_IF_ERROR(ReadMore(&got));
      if (got == 0) {
        if (follow_) return out->num_rows() > 0 ? Emit(out) : PollResult::kIdle;
        eof_ = true;
      }
    }
  }

 private:
  PollResult Emit(RecordBatch* out) {
    stats_.rows_read += out->num_rows();
    return PollResult::kBatch;
  }

  // Moves the unconsumed tail to the front and reads up to kReadBytes more after it.
  Status ReadMore(size_t* got) {
    *got = 0;
    size_t pending = end_ - begin_;
    if (begin_ > 0) {
      if (pending > 0) std::memmove(buffer_.data(), buffer_.data() + begin_, pending);
      begin_ = 0;
      end_ = pending;
    }
    if (buffer_.size() < end_ + kReadBytes) buffer_.Resize(end_ + kReadBytes);
    while (true) {
      ssize_t n = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
      if (n < 0) {
        if (errno == EINTR) continue;
        return IOError("cannot read '{}': {}", path_, std::strerror(errno));
      }
      end_ += static_cast<size_t>(n);
      file_read_ += static_cast<uint64_t>(n);
      *got = static_cast<size_t>(n);
      return Status::OK();
    }
  }

  // CRC32C of the (up to kFingerprintBytesMax) bytes before `offset` in the file.
  Result<uint32_t> Fingerprint(uint64_t offset) const {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(offset, kFingerprintBytesMax));
    char bytes[kFingerprintBytesMax];
    size_t done = 0;
    while (done < n) {
      ssize_t got = ::pread(fd_, bytes + done, n - done, static_cast<off_t>(offset - n + done));
      if (got < 0) {
        if (errno == EINTR) continue;
        return IOError("cannot read '{}': {}", path_, std::strerror(errno));
      }
      if (got == 0) break;  // shorter than the offset: the caller has checked, or will see it
      done += static_cast<size_t>(got);
    }
    return crc32c::Value(bytes, done);
  }

  void CloseFile() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  std::string path_;
  std::string format_;
  bool follow_;
  int fd_;
  std::unique_ptr<BadRecordHandler> handler_;  // before decoder_: the decoder points to it
  std::unique_ptr<Decoder> decoder_;
  Buffer buffer_;  // input; bytes [begin_, end_) are read but not yet consumed
  size_t begin_ = 0;
  size_t end_ = 0;
  bool eof_ = false;  // read(2) returned 0 (never set when following)
  bool ended_ = false;
  uint64_t file_read_ = 0;          // file offset of buffer_[end_]
  uint32_t end_fingerprint_ = 0;    // Fingerprint(file_read_) taken at the end (fd closed)
  SourceStats stats_;
};

}  // namespace

Result<std::unique_ptr<Source>> MakeFileSource(const Options& options, SchemaPtr schema,
                                               const std::vector<int>& projection) {
  WEIR_ASSIGN_OR_RETURN(std::string path, options.GetRequired("path"));
  WEIR_ASSIGN_OR_RETURN(std::string format, options.GetEnum("format", "csv", {"csv", "json"}));
  WEIR_ASSIGN_OR_RETURN(bool follow, options.GetBool("follow", false));
  std::string dead_letter_path;
  WEIR_ASSIGN_OR_RETURN(ErrorPolicy policy, ParseErrorPolicy(options, &dead_letter_path));

  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return NotFound("cannot open '{}': {}", path, std::strerror(err));
    return IOError("cannot open '{}': {}", path, std::strerror(err));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return IOError("cannot stat '{}': {}", path, std::strerror(err));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return IOError("cannot read '{}': {}", path, std::strerror(EISDIR));
  }
  int64_t size_bytes = S_ISREG(st.st_mode) ? static_cast<int64_t>(st.st_size) : -1;
  auto handler = std::make_unique<BadRecordHandler>(path, policy, dead_letter_path);
  auto source =
      std::make_unique<FileSource>(path, format, follow, fd, size_bytes, std::move(handler));
  WEIR_RETURN_IF_ERROR(source->Init(std::move(schema), projection, options));
  return std::unique_ptr<Source>(std::move(source));
}

}  // namespace weir
