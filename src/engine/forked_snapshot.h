// ForkedSnapshot: operator state serialized by a child process forked at the checkpoint's
// instant, so the pipeline pauses only for fork() instead of for copying all of its state.
//
// fork() gives the child a copy-on-write image of the whole address space: every operator's
// state exactly as it was between two batches (the checkpoint barrier). The parent returns to
// processing at once; the kernel copies a page only when the parent first writes it. The child
// runs the snapshot producer (the operators' SnapshotState, pure in-memory serialization), and
// streams the blobs through a pipe; the checkpoint store's writer thread reads them (Produce)
// and writes the checkpoint as usual. This is the copy-on-write snapshot Redis uses for BGSAVE
// (fork + child serializing), applied to checkpoint barriers.
//
// Pipe framing, child → parent (integers little-endian):
//   'B' u32 name_bytes, name, u64 blob_bytes, blob      one blob
//   'X' u32 message_bytes, message                      the producer failed (then exit 1)
//   'E'                                                  all blobs sent (then exit 0)
// A child that dies before 'E' (signal, crash, OOM kill) fails the checkpoint with an IOError
// naming its pid and how it ended — never a checkpoint with blobs missing.
//
// Cost: fork() copies the page tables (≈ 2 MB per GiB of resident memory with 4 KiB pages; the
// pause grows with RSS, far slower than copying the state); memory grows by the pages the
// parent writes while the child runs (at most the state's size); the child's serialization
// runs on another core.
//
// Restrictions on the producer (it runs in the child of a possibly multi-threaded process,
// where only the forking thread exists): pure computation and malloc only — no locks another
// thread may have held (logging, the checkpoint store, RocksDB), no I/O besides the emit
// callback. Operators with external state prepare it in the parent before the fork
// (Operator::SnapshotState stays I/O-free; see docs/operator-state.md).
//
// Ownership: owns the child process and the pipe's read end. Destroying an instance whose
// Produce was not called kills and reaps the child. Thread-safety: Start on the database
// thread, Produce on the store's writer thread (one call), never concurrently.
// Linux (and POSIX systems with fork + pipe); PR_SET_PDEATHSIG makes the child exit if the
// parent dies first.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "state/snapshot.h"
#include "storage/checkpoint_store.h"

namespace weir {

class ForkedSnapshot final : public DeferredBlobs {
 public:
  /// Called in the child for each blob (a by-reference writer is best: its large spans go from
  /// the frozen image straight into the pipe); returns an error if the pipe broke.
  using Emit = std::function<Status(std::string_view name, const StateWriter& blob)>;
  /// Runs in the child: produces every blob through `emit`.
  using Producer = std::function<Status(const Emit& emit)>;

  /// Forks; the child runs `produce` and exits. `buffers` (name → memory of the blob's previous
  /// checkpoint) are reused by Produce for blobs of the same name. Errors: IOError if pipe() or
  /// fork() fails (e.g. ENOMEM: the caller may fall back to an in-process snapshot).
  static Result<std::unique_ptr<ForkedSnapshot>> Start(const Producer& produce,
                                                       std::map<std::string, std::string> buffers);
  ~ForkedSnapshot() override;
  ForkedSnapshot(const ForkedSnapshot&) = delete;
  ForkedSnapshot& operator=(const ForkedSnapshot&) = delete;

  /// Reads every blob until 'E', then reaps the child; appends the blobs to `out`. Errors:
  /// the producer's error (as the child reported it), IOError for a child that died or exited
  /// non-zero, DataError for a malformed stream.
  Status Produce(std::vector<std::pair<std::string, std::string>>* out) override;

  pid_t pid() const { return pid_; }

 private:
  ForkedSnapshot(pid_t pid, int fd, std::map<std::string, std::string> buffers)
      : pid_(pid), fd_(fd), buffers_(std::move(buffers)) {}
  Status ReadExact(char* dst, size_t n);
  Status Reap(bool kill_first);

  pid_t pid_ = -1;
  int fd_ = -1;
  std::map<std::string, std::string> buffers_;
};

}  // namespace weir
