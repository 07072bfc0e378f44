#include "connectors/file/file_source.h"

#include <algorithm>
#include <cstring>

#include "batch/buffer.h"
#include "common/crc32c.h"
#include "formats/format.h"

namespace weir {

namespace {

constexpr size_t kReadBytes = size_t{1} << 20;            // one Env read (pread(2))
constexpr size_t kBatchInputBytesMax = size_t{16} << 20;  // stop topping up a batch after this
/// A saved position carries a CRC32C of up to this many bytes before it, so that restoring
/// onto a file whose content changed (rewritten, replaced) is an error, not silent garbage.
constexpr size_t kFingerprintBytesMax = 4096;

// An Env error ("PATH: op: errno text") as the file source reports it, keeping its code:
// "cannot WHAT 'PATH': errno text".
Status SourceFileError(const Status& st, std::string_view what, const std::string& path) {
  return Status(st.code(), fmt::format("cannot {} '{}': {}", what, path, EnvErrorText(st)));
}

class FileSource final : public Source {
 public:
  FileSource(Env* env, std::string path, std::string format, bool follow,
             std::unique_ptr<RandomAccessFile> file, int64_t size_bytes,
             std::unique_ptr<BadRecordHandler> handler)
      : env_(env),
        path_(std::move(path)),
        format_(std::move(format)),
        follow_(follow),
        file_(std::move(file)),
        handler_(std::move(handler)) {
    stats_.bytes_total = follow_ ? -1 : size_bytes;
  }

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
    Result<uint64_t> size = env_->GetFileSize(path_);
    if (!size.ok()) return SourceFileError(size.status(), "stat", path_);
    if (*size < offset)
      return DataError("{}: the file changed since the checkpoint: it has {} bytes, the checkpoint "
                       "read up to byte {}", path_, *size, offset);
    WEIR_ASSIGN_OR_RETURN(uint32_t now, Fingerprint(offset));
    if (now != fingerprint)
      return DataError("{}: the file changed since the checkpoint: the bytes before offset {} "
                       "differ", path_, offset);
    WEIR_RETURN_IF_ERROR(decoder_->RestoreState(r));
    WEIR_RETURN_IF_ERROR(handler_->RestoreState(r));
    r->End();
    if (!r->ok()) return r->status();
    file_read_ = offset;  // the next read starts there
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
    Result<size_t> n = file_->Read(file_read_, buffer_.size() - end_,
                                   reinterpret_cast<char*>(buffer_.data()) + end_);
    if (!n.ok()) return SourceFileError(n.status(), "read", path_);
    end_ += *n;
    file_read_ += *n;
    *got = *n;
    return Status::OK();
  }

  // CRC32C of the (up to kFingerprintBytesMax) bytes before `offset` in the file.
  Result<uint32_t> Fingerprint(uint64_t offset) const {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(offset, kFingerprintBytesMax));
    char bytes[kFingerprintBytesMax];
    // Short when the file is shorter than the offset: the caller has checked, or will see it.
    Result<size_t> done = file_->Read(offset - n, n, bytes);
    if (!done.ok()) return SourceFileError(done.status(), "read", path_);
    return crc32c::Value(bytes, *done);
  }

  void CloseFile() { file_.reset(); }

  Env* env_;
  std::string path_;
  std::string format_;
  bool follow_;
  std::unique_ptr<RandomAccessFile> file_;  // null once ended
  std::unique_ptr<BadRecordHandler> handler_;  // before decoder_: the decoder points to it
  std::unique_ptr<Decoder> decoder_;
  Buffer buffer_;  // input; bytes [begin_, end_) are read but not yet consumed
  size_t begin_ = 0;
  size_t end_ = 0;
  bool eof_ = false;  // a read returned nothing (never set when following)
  bool ended_ = false;
  uint64_t file_read_ = 0;          // file offset of buffer_[end_]
  uint32_t end_fingerprint_ = 0;    // Fingerprint(file_read_) taken at the end (file closed)
  SourceStats stats_;
};

}  // namespace

Result<std::unique_ptr<Source>> MakeFileSource(const Options& options, SchemaPtr schema,
                                               const std::vector<int>& projection,
                                               const SourceContext& context) {
  WEIR_ASSIGN_OR_RETURN(std::string path, options.GetRequired("path"));
  WEIR_ASSIGN_OR_RETURN(std::string format, options.GetEnum("format", "csv", {"csv", "json"}));
  WEIR_ASSIGN_OR_RETURN(bool follow, options.GetBool("follow", false));
  std::string dead_letter_path;
  WEIR_ASSIGN_OR_RETURN(ErrorPolicy policy, ParseErrorPolicy(options, &dead_letter_path));

  Env* env = context.env;
  Result<std::unique_ptr<RandomAccessFile>> file = env->NewRandomAccessFile(path);
  if (!file.ok()) return SourceFileError(file.status(), "open", path);
  // A directory opens but cannot be read: say so now rather than at the first Next().
  char probe;
  Result<size_t> probed = (*file)->Read(0, 1, &probe);
  if (!probed.ok()) return SourceFileError(probed.status(), "read", path);
  int64_t size_bytes = -1;
  if (!follow) {
    Result<uint64_t> size = env->GetFileSize(path);
    if (!size.ok()) return SourceFileError(size.status(), "stat", path);
    size_bytes = static_cast<int64_t>(*size);
  }
  auto handler = std::make_unique<BadRecordHandler>(path, policy, dead_letter_path, env);
  auto source = std::make_unique<FileSource>(env, path, format, follow, std::move(*file),
                                             size_bytes, std::move(handler));
  WEIR_RETURN_IF_ERROR(source->Init(std::move(schema), projection, options));
  return std::unique_ptr<Source>(std::move(source));
}

}  // namespace weir
