// Nexmark event generator: the person / auction / bid stream of the Nexmark benchmark, produced
// straight into columnar buffers.
//
// Model (see README.md beside this file for the full rules and their sources): the stream is a
// sequence of events numbered n = 0, 1, 2, ...; n % 50 decides the kind (0 person, 1..3 auction,
// 4..49 bid) and every value of event n is a pure function of (seed, n, base time). A table's
// rows are that table's events (in release order, below), so the person, auction and bid
// tables of one seed and event count are three views of one consistent stream, and a bid-only
// reader skips persons and auctions without generating them.
//
// Units: timestamps are int64 µs since the Unix epoch; prices are int64 cents.
// Event time: event n happens at date_time = base_time + n * kInterEventMicros.
// Emission order (ReleaseOrder): one event in kDelayedEventOneIn is held back 1 ms .. 3 s of
// event time (the benchmark's "occasionally delayed" late events); rows come out sorted by
// release time (date_time + hold-back), ties by event number. So in every table, and in the
// merged stream, a row's date_time is never more than kMaxLatenessMicros behind the largest
// date_time emitted before it: a watermark `date_time - kMaxLatenessMicros` drops nothing.
//
// Ownership / thread-safety: a Generator / ReleaseOrder owns its pools, ring and scratch space
// and is not thread-safe (one each per source). The free functions are pure and thread-safe.
// The channel/url dictionary is a process-wide immutable table built on first use (thread-safe
// static initialization).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "batch/column.h"
#include "common/status.h"
#include "state/snapshot.h"

namespace weir::nexmark {

// ---- Constants of the benchmark's standard generator (Beam GeneratorConfig / defaults) --------
inline constexpr int64_t kPersonProportion = 1;
inline constexpr int64_t kAuctionProportion = 3;
inline constexpr int64_t kBidProportion = 46;
inline constexpr int64_t kProportionDenominator =
    kPersonProportion + kAuctionProportion + kBidProportion;  // 50

inline constexpr int64_t kFirstPersonId = 1000;
inline constexpr int64_t kFirstAuctionId = 1000;
inline constexpr int64_t kFirstCategoryId = 10;
inline constexpr int64_t kNumCategories = 5;

/// P(hot) = 1 - 1/ratio: 1/2 of bids go to a hot auction, 3/4 of auctions to a hot seller,
/// 3/4 of bids come from a hot bidder, 1/2 of bids use one of the 4 hot channels.
inline constexpr int64_t kHotAuctionRatio = 2;
inline constexpr int64_t kHotSellersRatio = 4;
inline constexpr int64_t kHotBiddersRatio = 4;
inline constexpr int64_t kHotChannelRatio = 2;
/// The hot auction / seller / bidder is the first (bidder: second) id of the last block of
/// this many ids.
inline constexpr int64_t kHotIdBlock = 100;

inline constexpr int64_t kNumActivePeople = 1000;
inline constexpr int64_t kNumInFlightAuctions = 100;
/// Ids up to this many past the last created one may be referenced ("lead" ids, created later).
inline constexpr int64_t kPersonIdLead = 10;
inline constexpr int64_t kAuctionIdLead = 10;

inline constexpr int kAvgPersonBytes = 200;
inline constexpr int kAvgAuctionBytes = 500;
inline constexpr int kAvgBidBytes = 100;

inline constexpr int kNumHotChannels = 4;
inline constexpr int kNumChannels = 10000;

/// Event-time spacing: the spec's default first event rate of 10,000 events/s. Independent of
/// the source's wall-clock `rate` option.
inline constexpr int64_t kInterEventMicros = 100;
/// One event in this many is held back (the spec's probDelayedEvent = 0.1).
inline constexpr int64_t kDelayedEventOneIn = 10;
/// A held-back event is released 1 ms .. 3 s (the spec's occasionalDelaySec = 3; whole
/// milliseconds) of event time after its date_time.
inline constexpr int64_t kDelayMillisMax = 3000;
/// Maximum lateness of any row behind the largest date_time emitted before it, in any table or
/// the merged stream. A watermark of `date_time - kMaxLatenessMicros` drops nothing.
inline constexpr int64_t kMaxLatenessMicros = kDelayMillisMax * 1000;

/// Auction lifetime horizon: the event time it takes to create kNumInFlightAuctions auctions.
/// expires = date_time + uniform[1 ms, 1 ms + 2 * horizon).
inline constexpr int64_t kAuctionHorizonMicros =
    kNumInFlightAuctions * kProportionDenominator / kAuctionProportion * kInterEventMicros;

// ---- Tables and columns -----------------------------------------------------------------------
enum class Table : uint8_t { kPerson, kAuction, kBid };

/// Column indexes, in schema order.
enum PersonColumn : int {
  kPersonId,
  kPersonName,
  kPersonEmail,
  kPersonCreditCard,
  kPersonCity,
  kPersonState,
  kPersonDateTime,
  kPersonExtra,
  kPersonColumns
};
enum AuctionColumn : int {
  kAuctionId,
  kAuctionItemName,
  kAuctionDescription,
  kAuctionInitialBid,
  kAuctionReserve,
  kAuctionDateTime,
  kAuctionExpires,
  kAuctionSeller,
  kAuctionCategory,
  kAuctionExtra,
  kAuctionColumns
};
enum BidColumn : int {
  kBidAuction,
  kBidBidder,
  kBidPrice,
  kBidChannel,
  kBidUrl,
  kBidDateTime,
  kBidExtra,
  kBidColumns
};

/// "person", "auction" or "bid" (case-insensitive); InvalidArgument otherwise.
Result<Table> ParseTable(std::string_view name);
std::string_view TableName(Table table);

// ---- Event-number arithmetic (pure) -----------------------------------------------------------
/// Kind of event n (n >= 0).
inline Table EventKind(int64_t n) {
  int64_t r = n % kProportionDenominator;
  return r < kPersonProportion                        ? Table::kPerson
         : r < kPersonProportion + kAuctionProportion ? Table::kAuction
                                                      : Table::kBid;
}
/// Event number of row `row` (0-based) of `table`.
int64_t EventOfRow(Table table, int64_t row);
/// Number of rows of `table` among events [0, events).
int64_t RowsOfTable(Table table, int64_t events);
/// Base-0 id of the last person created at or before event n (the spec's lastBase0PersonId).
inline int64_t LastBase0PersonId(int64_t n) { return n / kProportionDenominator; }
/// Base-0 id of the last auction created at or before event n (-1 before the first auction).
int64_t LastBase0AuctionId(int64_t n);
/// date_time of event n: base_time_us + n * kInterEventMicros.
inline int64_t NominalTimestamp(int64_t base_time_us, int64_t n) {
  return base_time_us + n * kInterEventMicros;
}
/// Hold-back of event n under `seed`: 0 for most events, 1 ms .. kMaxLatenessMicros for one in
/// kDelayedEventOneIn. Event n is released at n * kInterEventMicros + EventDelayMicros(seed, n).
int64_t EventDelayMicros(uint64_t seed, int64_t n);

/// Channel dictionary entry `index` (0..kNumHotChannels-1 hot, then the kNumChannels others);
/// for tests and tools.
std::string_view ChannelName(int index);
std::string_view ChannelUrl(int index);

// ---- Release order
// --------------------------------------------------------------------------------
/// The order in which one table's rows are emitted: that table's events sorted by (release
/// time, event number), computed incrementally in O(1) a row. Release times are multiples of
/// kInterEventMicros, so event n with hold-back d ms is parked in slot n + 10 d of a ring of
/// lists; scanning event n first releases every slot <= n (in slot order, each list in event
/// order), then emits n if it is on time. Live slots always lie in (n, n + 30000], so the
/// 32768-slot ring never wraps onto itself. Parked entries are event numbers only (content is
/// regenerated on release); node storage for the worst case is reserved at construction, so
/// the steady state never allocates.
class ReleaseOrder {
 public:
  ReleaseOrder(Table table, uint64_t seed);

  /// Writes up to `rows_max` event numbers, in release order, to `events_out`, scanning rows
  /// below `scan_end_row` only. `stream_end`: no rows exist at or past scan_end_row, so parked
  /// events are flushed once the scan is done. Returns the number written (0 when nothing more
  /// can be released under these limits).
  int64_t Next(int64_t scan_end_row, bool stream_end, int64_t rows_max, int64_t* events_out);

  /// Rows scanned so far (emitted or parked).
  int64_t scanned_rows() const { return next_row_; }
  /// Events parked, waiting for their release time.
  int64_t held() const { return held_; }

  /// Checkpoints: the scan position, the release slot and the parked events in ring order
  /// (8 bytes each; about kDelayedEventOneIn^-1 of the last 3 s of event time), so that a
  /// restored order releases exactly the same sequence.
  void SaveState(StateWriter* w) const;
  /// Restores what SaveState wrote, on a fresh ReleaseOrder of the same table and seed.
  /// kDataError when the state is malformed or does not fit this table/seed.
  Status RestoreState(StateReader* r);

 private:
  static constexpr int64_t kSlots = 32768;  // > kMaxLatenessMicros / kInterEventMicros
  struct Node {
    int64_t event;
    int32_t next;  // index in nodes_, -1 = end of list
  };
  /// Releases parked events of slots < slot_end into out[*count..rows_max); false if out filled
  /// up before all were released.
  bool ReleaseBefore(int64_t slot_end, int64_t rows_max, int64_t* out, int64_t* count);

  Table table_;
  uint64_t seed_key_;
  int64_t share_;             // events of this table per block of kProportionDenominator
  int64_t next_row_ = 0;      // next row to scan
  int64_t next_event_;        // its event number
  int64_t within_ = 0;        // its index within the block
  int64_t release_slot_ = 0;  // slots below this are released
  int64_t held_ = 0;
  std::vector<int32_t> heads_;  // kSlots list heads, -1 = empty
  std::vector<Node> nodes_;
  int32_t free_ = -1;  // free list through Node::next
};

// ---- Generator ----------------------------------------------------------------------------------
/// Writes rows of one Nexmark table into columns. Steady state allocates nothing: scratch
/// vectors and the output columns' buffers grow to the largest batch and are then reused.
class Generator {
 public:
  /// `seed` selects the content; `base_time_us` is the date_time of event 0.
  Generator(Table table, uint64_t seed, int64_t base_time_us);

  Table table() const { return table_; }
  uint64_t seed() const { return seed_; }
  int64_t base_time_us() const { return base_time_us_; }

  /// Writes one row per event events[0..rows) (event numbers of this table's kind, e.g. from
  /// ReleaseOrder): out[i] receives table column columns[i] (ids from the enums above). Every
  /// out[i] must be empty (freshly Reset) and of that column's type; rows in [0, 2^24].
  /// Columns not listed are not materialized (bid columns are not even drawn); values never
  /// depend on which columns are listed.
  void Fill(const int64_t* events, int64_t rows, const int* columns, int num_columns,
            Column* const* out);

 private:
  void FillPersons(const int64_t* events, int64_t rows, const int* columns, int num_columns,
                   Column* const* out);
  void FillAuctions(const int64_t* events, int64_t rows, const int* columns, int num_columns,
                    Column* const* out);
  void FillBids(const int64_t* events, int64_t rows, const int* columns, int num_columns,
                Column* const* out);

  Table table_;
  uint64_t seed_;
  uint64_t seed_key_;
  int64_t base_time_us_;
  // Random text the string columns are sliced from (built once from the seed).
  std::vector<char> letters_;  // 'a'..'z'
  std::vector<char> text_;     // 'a'..'z' with one space in 13
  // Per-batch scratch, struct-of-arrays (index = row within the batch).
  std::vector<int64_t> i64_[6];
  std::vector<uint32_t> u32_[8];
  std::vector<uint64_t> s0_;  // per-row random start states
};

}  // namespace weir::nexmark
