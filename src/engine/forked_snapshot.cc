#include "engine/forked_snapshot.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/coding.h"

namespace weir {

namespace {

constexpr char kBlobFrame = 'B';
constexpr char kErrorFrame = 'X';
constexpr char kEndFrame = 'E';
constexpr int kPipeBytes = 1 << 20;

// Child side: writes all of `data` or fails (EPIPE when the parent is gone).
bool WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// The child process: never returns.
[[noreturn]] void RunChild(int fd, pid_t parent, const ForkedSnapshot::Producer& produce) {
  // Die with the parent (a kill -9 of weir must not leave a child writing into a dead pipe), and
  // finish this checkpoint when a stop request reaches the whole process group or cgroup
  // (Ctrl-C, systemd's SIGTERM to every process): the parent then takes a final checkpoint and
  // needs this one complete. Only the parent's death ends the child early.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(3);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) ::signal(sig, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);
  ::setpriority(PRIO_PROCESS, 0, 5);  // background work, like the store's writer thread
  ForkedSnapshot::Emit emit = [fd](std::string_view name, const StateWriter& blob) -> Status {
    std::string head;
    head.push_back(kBlobFrame);
    PutU32(&head, static_cast<uint32_t>(name.size()));
    head.append(name);
    PutU64(&head, blob.size());
    if (!WriteAll(fd, head.data(), head.size()) ||
        !blob.ForEachPiece([fd](const char* p, size_t n) { return WriteAll(fd, p, n); }))
      return IOError("snapshot pipe: {}", std::strerror(errno));
    return Status::OK();
  };
  Status s = produce(emit);
  if (!s.ok()) {
    const std::string msg = s.ToString();
    std::string frame;
    frame.push_back(kErrorFrame);
    PutU32(&frame, static_cast<uint32_t>(msg.size()));
    frame.append(msg);
    WriteAll(fd, frame.data(), frame.size());
    ::_exit(1);
  }
  const char end = kEndFrame;
  ::_exit(WriteAll(fd, &end, 1) ? 0 : 2);
}

}  // namespace

Result<std::unique_ptr<ForkedSnapshot>> ForkedSnapshot::Start(const Producer& produce,
                                                              std::map<std::string, std::string> buffers) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return IOError("snapshot: pipe: {}", std::strerror(errno));
  ::fcntl(fds[1], F_SETPIPE_SZ, kPipeBytes);  // best effort: fewer wake-ups per GiB
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int e = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return IOError("snapshot: fork: {}", std::strerror(e));
  }
  if (pid == 0) {
    ::close(fds[0]);
    RunChild(fds[1], parent, produce);
  }
  ::close(fds[1]);
  return std::unique_ptr<ForkedSnapshot>(new ForkedSnapshot(pid, fds[0], std::move(buffers)));
}

ForkedSnapshot::~ForkedSnapshot() {
  if (pid_ > 0) (void)Reap(/*kill_first=*/true);
  if (fd_ >= 0) ::close(fd_);
}

Status ForkedSnapshot::ReadExact(char* dst, size_t n) {
  while (n > 0) {
    const ssize_t r = ::read(fd_, dst, n);
    if (r < 0) {
      if (errno == EINTR) continue;
      return IOError("snapshot process {}: read: {}", pid_, std::strerror(errno));
    }
    if (r == 0) return IOError("snapshot process {}: stream ended early", pid_);
    dst += r;
    n -= static_cast<size_t>(r);
  }
  return Status::OK();
}

Status ForkedSnapshot::Reap(bool kill_first) {
  if (kill_first) ::kill(pid_, SIGKILL);
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  const pid_t pid = pid_;
  pid_ = -1;
  // ECHILD: SIGCHLD is ignored by the host program, children are reaped by the kernel; the
  // stream's end frame is then the only evidence, which Produce has already checked.
  if (r < 0) return errno == ECHILD ? Status::OK() : IOError("snapshot process {}: waitpid: {}", pid, std::strerror(errno));
  if (WIFSIGNALED(status)) return IOError("snapshot process {} was killed by signal {}", pid, WTERMSIG(status));
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
    return IOError("snapshot process {} exited with status {}", pid, WEXITSTATUS(status));
  return Status::OK();
}

Status ForkedSnapshot::Produce(std::vector<std::pair<std::string, std::string>>* out) {
  Status s;
  while (true) {
    char tag = 0;
    s = ReadExact(&tag, 1);
    if (!s.ok()) break;
    if (tag == kEndFrame) break;
    char len4[4];
    s = ReadExact(len4, 4);
    if (!s.ok()) break;
    const uint32_t name_bytes = LoadU32(len4);
    if (name_bytes > kCheckpointNameBytesMax) {
      s = DataError("snapshot process {}: name of {} bytes", pid_, name_bytes);
      break;
    }
    std::string name(name_bytes, '\0');
    s = ReadExact(name.data(), name.size());
    if (!s.ok()) break;
    if (tag == kErrorFrame) {
      s = Internal("snapshot process {}: {}", pid_, name);
      break;
    }
    if (tag != kBlobFrame) {
      s = DataError("snapshot process {}: unknown frame {:#x}", pid_, static_cast<unsigned char>(tag));
      break;
    }
    char len8[8];
    s = ReadExact(len8, 8);
    if (!s.ok()) break;
    const uint64_t blob_bytes = LoadU64(len8);
    std::string blob;
    if (auto it = buffers_.find(name); it != buffers_.end()) {
      blob = std::move(it->second);
      buffers_.erase(it);
    }
    blob.resize(blob_bytes);
    s = ReadExact(blob.data(), blob.size());
    if (!s.ok()) break;
    out->emplace_back(std::move(name), std::move(blob));
  }
  ::close(fd_);
  fd_ = -1;
  buffers_.clear();
  Status reaped = Reap(/*kill_first=*/!s.ok());
  if (!s.ok()) return s;
  return reaped;
}

}  // namespace weir
