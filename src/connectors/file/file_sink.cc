#include "connectors/file/file_sink.h"

#include "connectors/file/partitioned_sink.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

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

Result<std::unique_ptr<Sink>> MakeFileSink(const Options& options, SchemaPtr schema,
                                           bool changelog) {
  if (options.Has("partition_by")) return MakePartitionedFileSink(options, std::move(schema), changelog);
  WEIR_ASSIGN_OR_RETURN(std::string path, options.GetRequired("path"));
  WEIR_ASSIGN_OR_RETURN(std::string format, options.GetEnum("format", "csv", {"csv", "json"}));
  WEIR_ASSIGN_OR_RETURN(std::unique_ptr<Encoder> encoder,
                        MakeEncoder(format, std::move(schema), changelog, options));
  // Like `mkdir -p`: a sink into a directory that does not exist yet creates it.
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty() && !std::filesystem::exists(parent, ec)) {
    std::filesystem::create_directories(parent, ec);
    if (ec) return IOError("cannot create directory '{}' for '{}': {}", parent.string(), path, ec.message());
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IOError("cannot create '{}': {}", path, std::strerror(errno));
  EncodedFdSink::Config config;
  config.name = path;
  config.describe = fmt::format("file {} ({})", path, format);
  config.fd = fd;
  config.owns_fd = true;
  return std::unique_ptr<Sink>(new EncodedFdSink(std::move(encoder), std::move(config)));
}

}  // namespace weir
