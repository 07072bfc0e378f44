// Bookkeeping shared by the two-phase-commit file sinks (file_sink.cc, partitioned_sink.cc):
// what PreCommit staged and Commit has not yet published, oldest first, under the epoch rules
// of sink.h — PreCommit epochs increase (also across PreCommits that staged nothing, and
// after Recover), Commit(e) publishes everything pre-committed up to e, and Recover gets the
// state its own checkpoint's PreCommit wrote. What an item is (a staging file and its offset,
// a part file) and how it is published stay with each sink.
//
// Ownership: items are values owned by the list. Thread-safety: none (the sink's driver
// thread). Errors: Internal for a PreCommit epoch out of order (a driver bug), DataError for a
// sink state restored under another epoch; Commit returns the publish callback's error and
// then keeps every item (the sink is unusable after it anyway: its errors are sticky).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace weir {

/// `T` has a `uint64_t epoch` member: the PreCommit that staged it.
template <typename T>
class PendingCommits {
 public:
  /// Starts PreCommit(`epoch`) of the sink called `sink` (for errors): Internal unless `epoch`
  /// is above every earlier PreCommit's and the recovered epoch.
  Status BeginPreCommit(std::string_view sink, uint64_t epoch) {
    if (last_epoch_ && epoch <= *last_epoch_)
      return Internal("{}: PreCommit({}) after PreCommit({})", sink, epoch, *last_epoch_);
    last_epoch_ = epoch;
    return Status::OK();
  }
  /// Appends an item staged by the current PreCommit (`item.epoch` = its epoch).
  void Add(T item) { items_.push_back(std::move(item)); }

  /// Commit(`epoch`): calls `publish(n)` (Status(size_t)) to publish items()[0, n), the items
  /// pre-committed at or before `epoch`, then drops them; OK without a call when n is 0.
  template <typename Publish>
  Status Commit(uint64_t epoch, Publish&& publish) {
    size_t n = 0;
    while (n < items_.size() && items_[n].epoch <= epoch) ++n;
    if (n == 0) return Status::OK();
    WEIR_RETURN_IF_ERROR(publish(n));
    DropFront(n);
    return Status::OK();
  }

  /// Recover(`epoch`) with the state PreCommit(`saved_epoch`) wrote, listing `items`:
  /// DataError (naming `sink`) unless the two epochs agree; else the list is `items` and later
  /// PreCommits must be above `epoch`.
  Status Restore(std::string_view sink, uint64_t saved_epoch, uint64_t epoch,
                 std::vector<T> items) {
    if (saved_epoch != epoch)
      return DataError("{}: sink state of epoch {} restored as epoch {}", sink, saved_epoch,
                       epoch);
    items_ = std::move(items);
    last_epoch_ = epoch;
    return Status::OK();
  }

  /// Drops items()[0, n) (already published).
  void DropFront(size_t n) {
    items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(n));
  }
  void Clear() { items_.clear(); }

  const std::vector<T>& items() const { return items_; }
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  const T& operator[](size_t i) const { return items_[i]; }
  const T& back() const { return items_.back(); }

 private:
  std::vector<T> items_;
  std::optional<uint64_t> last_epoch_;  // of the last PreCommit, or the recovered epoch
};

}  // namespace weir
