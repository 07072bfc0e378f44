#include "connectors/nexmark/nexmark_generator.h"

#include <strings.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

namespace weir::nexmark {

namespace {

// ---- Per-event random numbers ---------------------------------------------------------------
// Counter-based: event n of seed s draws from a splitmix64 sequence whose start state is a
// bijective mix of (s, n). No state carries from one event to the next, so any event can be
// generated alone, and skipping events (other tables, unprojected columns) changes nothing.
constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

inline uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// Start state of event n's sequence; its draw k is Draw(start, k) == the (k+1)-th Next().
inline uint64_t StartState(uint64_t seed_key, int64_t n) {
  return Mix64(seed_key ^ (static_cast<uint64_t>(n) * kGolden));
}
inline uint64_t Draw(uint64_t start, int k) {
  return Mix64(start + static_cast<uint64_t>(k + 1) * kGolden);
}

/// Sequential draws of one event (same values as Draw(start, 0), Draw(start, 1), ...).
class EventRng {
 public:
  EventRng(uint64_t seed_key, int64_t n) : state_(StartState(seed_key, n)) {}
  uint64_t Next() {
    state_ += kGolden;
    return Mix64(state_);
  }

 private:
  uint64_t state_;
};

inline uint32_t Lo(uint64_t r) { return static_cast<uint32_t>(r); }
inline uint32_t Hi(uint64_t r) { return static_cast<uint32_t>(r >> 32); }
/// Uniform in [0, bound) from 32 random bits (multiply-shift; bias < bound / 2^32).
inline int64_t Below(uint32_t bits, int64_t bound) {
  return static_cast<int64_t>((static_cast<uint64_t>(bits) * static_cast<uint64_t>(bound)) >> 32);
}

inline uint64_t SeedKey(uint64_t seed) { return Mix64(seed ^ 0x4e45584d41524b00ULL); }

/// Hold-back of an event from its first draw: one event in kDelayedEventOneIn is released
/// 1..kDelayMillisMax ms after its date_time, the others on time.
inline int64_t DelayFromDraw(uint64_t r) {
  int64_t delay_us = (1 + Below(Hi(r), kDelayMillisMax)) * 1000;
  return Below(Lo(r), kDelayedEventOneIn) == 0 ? delay_us : 0;
}

/// The spec's price distribution: round(10^(6u) * 100) cents for u uniform in [0, 1),
/// i.e. log-uniform between $1 and $1,000,000.
inline int64_t PriceFromDraw(uint64_t r) {
  constexpr double kSixLog2Of10 = 6.0 * 3.32192809488736234787;
  double u = static_cast<double>(r >> 11) * 0x1.0p-53;
  return static_cast<int64_t>(std::exp2(u * kSixLog2Of10) * 100.0 + 0.5);
}

/// The spec's nextExtra: a length making `current + extra` average `avg` (+-20%).
inline int64_t ExtraLength(int64_t current, int64_t avg, uint32_t bits) {
  if (current > avg) return 0;
  int64_t want = avg - current;
  int64_t delta = (want + 2) / 5;  // round(want * 0.2)
  return want - delta + (delta == 0 ? 0 : Below(bits, 2 * delta));
}

// ---- String pools -------------------------------------------------------------------------------
// String columns are slices of two per-seed pools of random text, so producing a string is one
// small copy instead of one random draw per character.
constexpr int64_t kPoolBytes = 32 * 1024;
constexpr int64_t kPoolSlack = 1024;  // > longest slice + the largest fixed-size over-copy
/// Slack kept after the chars written to a column so fixed-size over-copies stay in bounds.
constexpr int64_t kCopySlack = 128;

inline int64_t PoolOffset(uint32_t bits) { return Below(bits, kPoolBytes); }

// ---- Person dictionaries (the spec's lists) -------------------------------------------------
constexpr std::array<std::string_view, 11> kFirstNames = {
    "Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"};
constexpr std::array<std::string_view, 9> kLastNames = {
    "Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"};
constexpr std::array<std::string_view, 10> kCities = {
    "Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland",
    "Bend",    "Redmond",     "Seattle",       "Kent",  "Cheyenne"};
constexpr std::array<std::string_view, 6> kStates = {"AZ", "CA", "ID", "OR", "WA", "WY"};
constexpr std::array<std::string_view, kNumHotChannels> kHotChannels = {"Google", "Facebook",
                                                                        "Baidu", "Apple"};
constexpr int64_t kCreditCardBytes = 19;  // "dddd dddd dddd dddd"

// ---- Channel / url dictionary ---------------------------------------------------------------
// Entries 0..3 are the hot channels with the base urls 0..3; entry 4 + i is "channel-<i>" with
// base url i, followed for 9 channels in 10 by "&channel_id=<|bit-reversed i|>". Base url i is
// https://www.nexmark.com/<a>/<b>/<c>/item.htm?query=1 with 3-4 character segments of letters
// and '_' (one in 13). Independent of the seed, as in the reference generators.
constexpr int64_t kChannelNameCopy = 16;  // fixed over-copy sizes (>= longest entry)
constexpr int64_t kChannelUrlCopy = 80;

struct ChannelTable {
  std::string bytes;
  std::array<uint32_t, kNumHotChannels + kNumChannels> name_off{};
  std::array<uint32_t, kNumHotChannels + kNumChannels> url_off{};
  std::array<uint8_t, kNumHotChannels + kNumChannels> name_len{};
  std::array<uint8_t, kNumHotChannels + kNumChannels> url_len{};
};

std::string BaseUrl(int64_t i) {
  EventRng rng(0x6e65786d61726b31ULL /* "nexmark1" */, i);
  std::string url = "https://www.nexmark.com";
  for (int seg = 0; seg < 3; ++seg) {
    uint64_t r = rng.Next();
    int64_t len = 3 + Below(Lo(r), 2);
    url += '/';
    for (int64_t k = 0; k < len; ++k) {
      uint64_t c = rng.Next();
      url += Below(Lo(c), 13) == 0 ? '_' : static_cast<char>('a' + Below(Hi(c), 26));
    }
  }
  url += "/item.htm?query=1";
  return url;
}

ChannelTable BuildChannelTable() {
  ChannelTable table;
  ChannelTable* t = &table;
  auto add = [t](int idx, std::string_view name, std::string_view url) {
    t->name_off[static_cast<size_t>(idx)] = static_cast<uint32_t>(t->bytes.size());
    t->name_len[static_cast<size_t>(idx)] = static_cast<uint8_t>(name.size());
    t->bytes.append(name);
    t->url_off[static_cast<size_t>(idx)] = static_cast<uint32_t>(t->bytes.size());
    t->url_len[static_cast<size_t>(idx)] = static_cast<uint8_t>(url.size());
    t->bytes.append(url);
    WEIR_CHECK(static_cast<int64_t>(name.size()) <= kChannelNameCopy);
    WEIR_CHECK(static_cast<int64_t>(url.size()) <= kChannelUrlCopy);
  };
  for (int h = 0; h < kNumHotChannels; ++h)
    add(h, kHotChannels[static_cast<size_t>(h)], BaseUrl(h));
  for (int i = 0; i < kNumChannels; ++i) {
    std::string url = BaseUrl(i);
    EventRng rng(0x6e65786d61726b32ULL /* "nexmark2" */, i);
    if (Below(Lo(rng.Next()), 10) > 0) {
      uint32_t x = static_cast<uint32_t>(i);
      uint32_t rev = 0;
      for (int b = 0; b < 32; ++b) rev |= ((x >> b) & 1u) << (31 - b);
      int64_t id = static_cast<int64_t>(static_cast<int32_t>(rev));
      url += "&channel_id=";
      url += std::to_string(id < 0 ? -id : id);
    }
    add(kNumHotChannels + i, "channel-" + std::to_string(i), url);
  }
  t->bytes.append(static_cast<size_t>(kChannelUrlCopy + kCopySlack), '\0');  // over-copy room
  return table;
}

/// The process-wide dictionary (~1 MB), built on first use; immutable afterwards.
const ChannelTable& Channels() {
  static const ChannelTable table = BuildChannelTable();
  return table;
}

// ---- Column writing -----------------------------------------------------------------------------
/// Copies `rows` int64 values into a fixed-width column.
void WriteFixed(Column* c, const int64_t* values, int64_t rows) {
  c->ResizeFixed(rows);
  std::memcpy(c->data<int64_t>(), values, static_cast<size_t>(rows) * sizeof(int64_t));
}

/// A VARCHAR column opened for direct writes: offsets[0..rows] and a chars area with room for
/// `max_bytes` + kCopySlack bytes.
struct VarcharOut {
  Column* column;
  int32_t* offsets;
  char* chars;
};

VarcharOut BeginVarchar(Column* c, int64_t rows, int64_t max_bytes) {
  // Column has no bulk "set VARCHAR length"; appending empty strings sets length and the
  // offsets array (all 0) at ~1 ns a row, and the real offsets are then written in place.
  c->Reserve(rows);
  for (int64_t i = 0; i < rows; ++i) c->AppendString(std::string_view());
  Buffer& chars = c->chars_buffer();
  chars.Reserve(static_cast<size_t>(max_bytes + kCopySlack));
  return {c, c->offsets(), reinterpret_cast<char*>(chars.data())};
}

void EndVarchar(const VarcharOut& v, int64_t bytes) {
  v.column->chars_buffer().Resize(static_cast<size_t>(bytes));
}

/// Writes pool slices pool[off[i], off[i] + len[i]). kCopy > 0: every len <= kCopy and each
/// slice is copied with a fixed-size (inlined) over-copy; kCopy == 0: exact copies.
template <int64_t kCopy>
void WriteSlices(Column* c, const char* pool, const uint32_t* off, const uint32_t* len,
                 int64_t rows, int64_t max_len) {
  VarcharOut v = BeginVarchar(c, rows, rows * max_len);
  int64_t pos = 0;
  for (int64_t i = 0; i < rows; ++i) {
    if constexpr (kCopy > 0) {
      std::memcpy(v.chars + pos, pool + off[i], static_cast<size_t>(kCopy));
    } else {
      std::memcpy(v.chars + pos, pool + off[i], len[i]);
    }
    pos += len[i];
    v.offsets[i + 1] = static_cast<int32_t>(pos);
  }
  EndVarchar(v, pos);
}

template <size_t N>
void WriteDictionary(Column* c, const std::array<std::string_view, N>& dict, const uint32_t* idx,
                     int64_t rows) {
  size_t max_len = 0;
  for (auto s : dict) max_len = std::max(max_len, s.size());
  VarcharOut v = BeginVarchar(c, rows, rows * static_cast<int64_t>(max_len));
  int64_t pos = 0;
  for (int64_t i = 0; i < rows; ++i) {
    std::string_view s = dict[idx[i]];
    std::memcpy(v.chars + pos, s.data(), s.size());
    pos += static_cast<int64_t>(s.size());
    v.offsets[i + 1] = static_cast<int32_t>(pos);
  }
  EndVarchar(v, pos);
}

constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

inline void WriteFourDigits(char* out, uint32_t v) {
  std::memcpy(out, kDigitPairs + 2 * (v / 100), 2);
  std::memcpy(out + 2, kDigitPairs + 2 * (v % 100), 2);
}

}  // namespace

// ---- Free functions -----------------------------------------------------------------------------
Result<Table> ParseTable(std::string_view name) {
  auto eq = [name](std::string_view t) {
    return name.size() == t.size() && strncasecmp(name.data(), t.data(), t.size()) == 0;
  };
  if (eq("person")) return Table::kPerson;
  if (eq("auction")) return Table::kAuction;
  if (eq("bid")) return Table::kBid;
  return InvalidArgument("unknown nexmark table '{}' (expected 'person', 'auction' or 'bid')",
                         name);
}

std::string_view TableName(Table table) {
  switch (table) {
    case Table::kPerson:
      return "person";
    case Table::kAuction:
      return "auction";
    case Table::kBid:
      return "bid";
  }
  return "?";
}

int64_t EventOfRow(Table table, int64_t row) {
  switch (table) {
    case Table::kPerson:
      return row * kProportionDenominator;
    case Table::kAuction:
      return (row / kAuctionProportion) * kProportionDenominator + kPersonProportion +
             row % kAuctionProportion;
    case Table::kBid:
      return (row / kBidProportion) * kProportionDenominator + kPersonProportion +
             kAuctionProportion + row % kBidProportion;
  }
  return -1;
}

int64_t RowsOfTable(Table table, int64_t events) {
  int64_t blocks = events / kProportionDenominator;
  int64_t rest = events % kProportionDenominator;
  switch (table) {
    case Table::kPerson:
      return blocks * kPersonProportion + std::min(rest, kPersonProportion);
    case Table::kAuction:
      return blocks * kAuctionProportion +
             std::clamp<int64_t>(rest - kPersonProportion, 0, kAuctionProportion);
    case Table::kBid:
      return blocks * kBidProportion +
             std::max<int64_t>(rest - kPersonProportion - kAuctionProportion, 0);
  }
  return 0;
}

int64_t LastBase0AuctionId(int64_t n) {
  int64_t epoch = n / kProportionDenominator;
  int64_t offset = n % kProportionDenominator;
  if (offset < kPersonProportion) {
    // A person: the last auction is the last one of the previous block.
    --epoch;
    offset = kAuctionProportion - 1;
  } else if (offset >= kPersonProportion + kAuctionProportion) {
    // A bid: the last auction of this block.
    offset = kAuctionProportion - 1;
  } else {
    offset -= kPersonProportion;
  }
  return epoch * kAuctionProportion + offset;
}

std::string_view ChannelName(int index) {
  const ChannelTable& t = Channels();
  auto i = static_cast<size_t>(index);
  return {t.bytes.data() + t.name_off[i], t.name_len[i]};
}

std::string_view ChannelUrl(int index) {
  const ChannelTable& t = Channels();
  auto i = static_cast<size_t>(index);
  return {t.bytes.data() + t.url_off[i], t.url_len[i]};
}

int64_t EventDelayMicros(uint64_t seed, int64_t n) {
  EventRng rng(SeedKey(seed), n);
  return DelayFromDraw(rng.Next());
}

// ---- ReleaseOrder -------------------------------------------------------------------------------
ReleaseOrder::ReleaseOrder(Table table, uint64_t seed)
    : table_(table),
      seed_key_(SeedKey(seed)),
      share_(table == Table::kPerson    ? kPersonProportion
             : table == Table::kAuction ? kAuctionProportion
                                        : kBidProportion),
      next_event_(EventOfRow(table, 0)),
      heads_(static_cast<size_t>(kSlots), -1) {
  // Worst case: every event of this table in a kSlots window parked at once.
  const int64_t nodes = RowsOfTable(table, kSlots) + kProportionDenominator;
  nodes_.resize(static_cast<size_t>(nodes));
  for (int64_t i = 0; i < nodes; ++i)
    nodes_[static_cast<size_t>(i)].next = i + 1 < nodes ? static_cast<int32_t>(i + 1) : -1;
  free_ = 0;
}

void ReleaseOrder::SaveState(StateWriter* w) const {
  w->Begin("nexmark_release_order");
  w->I64(next_row_);
  w->I64(release_slot_);
  w->I64(held_);
  int64_t written = 0;
  for (int64_t slot = release_slot_; written < held_ && slot < release_slot_ + kSlots; ++slot) {
    for (int32_t i = heads_[static_cast<size_t>(slot & (kSlots - 1))]; i >= 0;
         i = nodes_[static_cast<size_t>(i)].next) {
      w->I64(nodes_[static_cast<size_t>(i)].event);
      ++written;
    }
  }
  WEIR_CHECK(written == held_);
  w->End();
}

Status ReleaseOrder::RestoreState(StateReader* r) {
  if (next_row_ != 0 || held_ != 0) return Internal("ReleaseOrder::RestoreState on a used order");
  r->Begin("nexmark_release_order");
  const int64_t next_row = r->I64();
  const int64_t release_slot = r->I64();
  const int64_t held = r->I64();
  if (r->ok() && (next_row < 0 || release_slot < 0 || held < 0 ||
                  held > static_cast<int64_t>(nodes_.size()) ||
                  static_cast<uint64_t>(held) > r->remaining() / 8))
    r->Fail("nexmark release order: invalid position");
  if (!r->ok()) return r->status();
  next_row_ = next_row;
  next_event_ = EventOfRow(table_, next_row);
  within_ = next_row % share_;
  release_slot_ = release_slot;
  for (int64_t k = 0; k < held && r->ok(); ++k) {
    const int64_t n = r->I64();
    if (!r->ok()) break;
    if (n < 0 || n >= next_event_ || EventKind(n) != table_) {
      r->Fail("nexmark release order: parked event is not a scanned event of this table");
      break;
    }
    EventRng rng(seed_key_, n);
    const int64_t delay = DelayFromDraw(rng.Next());
    const int64_t slot = n + delay / kInterEventMicros;
    if (delay <= 0 || slot < release_slot_ || slot - release_slot_ >= kSlots || slot <= n ||
        free_ < 0) {
      r->Fail("nexmark release order: parked event does not fit this seed");
      break;
    }
    const int32_t node = free_;
    free_ = nodes_[static_cast<size_t>(node)].next;
    nodes_[static_cast<size_t>(node)] = {n, -1};
    int32_t* link = &heads_[static_cast<size_t>(slot & (kSlots - 1))];
    while (*link >= 0) link = &nodes_[static_cast<size_t>(*link)].next;
    *link = node;
    ++held_;
  }
  r->End();
  return r->status();
}

bool ReleaseOrder::ReleaseBefore(int64_t slot_end, int64_t rows_max, int64_t* out, int64_t* count) {
  if (held_ == 0) {
    release_slot_ = std::max(release_slot_, slot_end);
    return true;
  }
  while (release_slot_ < slot_end) {
    int32_t& head = heads_[static_cast<size_t>(release_slot_ & (kSlots - 1))];
    while (head >= 0) {
      if (*count == rows_max) return false;
      Node& node = nodes_[static_cast<size_t>(head)];
      out[(*count)++] = node.event;
      int32_t next = node.next;
      node.next = free_;
      free_ = head;
      head = next;
      if (--held_ == 0) {
        release_slot_ = std::max(release_slot_ + 1, slot_end);
        return true;
      }
    }
    ++release_slot_;
  }
  return true;
}

int64_t ReleaseOrder::Next(int64_t scan_end_row, bool stream_end, int64_t rows_max,
                           int64_t* events_out) {
  int64_t count = 0;
  while (count < rows_max && next_row_ < scan_end_row) {
    const int64_t n = next_event_;
    // Everything parked with release <= n's date_time precedes n and all later events.
    if (!ReleaseBefore(n + 1, rows_max, events_out, &count)) return count;
    if (count == rows_max) return count;
    EventRng rng(seed_key_, n);
    const int64_t delay = DelayFromDraw(rng.Next());
    if (delay > 0) {
      const int64_t slot = n + delay / kInterEventMicros;
      WEIR_DCHECK(slot > n && slot - n < kSlots && free_ >= 0);
      const int32_t node = free_;
      free_ = nodes_[static_cast<size_t>(node)].next;
      nodes_[static_cast<size_t>(node)] = {n, -1};
      int32_t* link = &heads_[static_cast<size_t>(slot & (kSlots - 1))];
      while (*link >= 0) link = &nodes_[static_cast<size_t>(*link)].next;  // keep event order
      *link = node;
      ++held_;
    } else {
      events_out[count++] = n;
    }
    ++next_row_;
    if (++within_ == share_) {
      within_ = 0;
      next_event_ += kProportionDenominator - share_ + 1;
    } else {
      ++next_event_;
    }
  }
  if (stream_end && next_row_ >= scan_end_row && count < rows_max)
    ReleaseBefore(std::numeric_limits<int64_t>::max(), rows_max, events_out, &count);
  return count;
}

// ---- Generator ----------------------------------------------------------------------------------
Generator::Generator(Table table, uint64_t seed, int64_t base_time_us)
    : table_(table), seed_(seed), seed_key_(SeedKey(seed)), base_time_us_(base_time_us) {
  letters_.resize(static_cast<size_t>(kPoolBytes + kPoolSlack));
  text_.resize(static_cast<size_t>(kPoolBytes + kPoolSlack));
  // Pool bytes come from "events" -1 and -2, which no real event uses.
  EventRng letters_rng(seed_key_, -1);
  for (char& ch : letters_) ch = static_cast<char>('a' + Below(Hi(letters_rng.Next()), 26));
  EventRng text_rng(seed_key_, -2);
  for (size_t i = 0; i < text_.size(); ++i) {
    uint64_t r = text_rng.Next();
    text_[i] = Below(Lo(r), 13) == 0 ? ' ' : static_cast<char>('a' + Below(Hi(r), 26));
  }
  (void)Channels();  // build the dictionary now rather than inside the first batch
}

void Generator::Fill(const int64_t* events, int64_t rows, const int* columns, int num_columns,
                     Column* const* out) {
  WEIR_CHECK(rows >= 0 && rows <= (int64_t{1} << 24));
  size_t need = static_cast<size_t>(rows);
  for (auto& v : i64_)
    if (v.size() < need) v.resize(need);
  for (auto& v : u32_)
    if (v.size() < need) v.resize(need);
  if (s0_.size() < need) s0_.resize(need);
  switch (table_) {
    case Table::kPerson:
      FillPersons(events, rows, columns, num_columns, out);
      break;
    case Table::kAuction:
      FillAuctions(events, rows, columns, num_columns, out);
      break;
    case Table::kBid:
      FillBids(events, rows, columns, num_columns, out);
      break;
  }
}

// Draws of a bid (draw k of event n is Draw(s0(n), k), so each column is computed on its own
// and unprojected columns cost nothing): 0 release delay, 1 auction (hot?, pick), 2 bidder
// (hot?, pick), 3 price, 4 channel (hot?, pick), 5 extra (length, offset).
void Generator::FillBids(const int64_t* events, int64_t rows, const int* columns, int num_columns,
                         Column* const* out) {
  uint64_t* s0 = s0_.data();
  for (int64_t i = 0; i < rows; ++i) {
    WEIR_DCHECK(EventKind(events[i]) == Table::kBid);
    s0[i] = StartState(seed_key_, events[i]);
  }
  const ChannelTable& chan = Channels();
  for (int j = 0; j < num_columns; ++j) {
    Column* c = out[j];
    switch (columns[j]) {
      case kBidAuction: {
        // The hot auction (first of the last block of 100 auctions) or one of the last
        // kNumInFlightAuctions, plus kAuctionIdLead not yet created.
        c->ResizeFixed(rows);
        int64_t* d = c->data<int64_t>();
        for (int64_t i = 0; i < rows; ++i) {
          const uint64_t r = Draw(s0[i], 1);
          const int64_t last =
              events[i] / kProportionDenominator * kAuctionProportion + kAuctionProportion - 1;
          const int64_t hot = last / kHotIdBlock * kHotIdBlock;
          const int64_t low = std::max<int64_t>(last - kNumInFlightAuctions, 0);
          const int64_t any = low + Below(Hi(r), last - low + 1 + kAuctionIdLead);
          d[i] = kFirstAuctionId + (Below(Lo(r), kHotAuctionRatio) > 0 ? hot : any);
        }
        break;
      }
      case kBidBidder: {
        // The hot bidder (second of the last block of 100 people) or an active person.
        c->ResizeFixed(rows);
        int64_t* d = c->data<int64_t>();
        for (int64_t i = 0; i < rows; ++i) {
          const uint64_t r = Draw(s0[i], 2);
          const int64_t last = events[i] / kProportionDenominator;  // LastBase0PersonId
          const int64_t hot = last / kHotIdBlock * kHotIdBlock + 1;
          const int64_t active = std::min(last + 1, kNumActivePeople);
          const int64_t any = last + 1 - active + Below(Hi(r), active + kPersonIdLead);
          d[i] = kFirstPersonId + (Below(Lo(r), kHotBiddersRatio) > 0 ? hot : any);
        }
        break;
      }
      case kBidPrice: {
        c->ResizeFixed(rows);
        int64_t* d = c->data<int64_t>();
        for (int64_t i = 0; i < rows; ++i) d[i] = PriceFromDraw(Draw(s0[i], 3));
        break;
      }
      case kBidDateTime: {
        c->ResizeFixed(rows);
        int64_t* d = c->data<int64_t>();
        for (int64_t i = 0; i < rows; ++i) d[i] = NominalTimestamp(base_time_us_, events[i]);
        break;
      }
      case kBidChannel:
      case kBidUrl: {
        // Half the bids use one of the 4 hot channels, the rest one of kNumChannels.
        const bool url = columns[j] == kBidUrl;
        const uint32_t* off = url ? chan.url_off.data() : chan.name_off.data();
        const uint8_t* len = url ? chan.url_len.data() : chan.name_len.data();
        const char* bytes = chan.bytes.data();
        uint32_t* k = u32_[0].data();
        for (int64_t i = 0; i < rows; ++i) {
          const uint64_t r = Draw(s0[i], 4);
          k[i] = static_cast<uint32_t>(Below(Lo(r), kHotChannelRatio) > 0
                                           ? Below(Hi(r), kNumHotChannels)
                                           : kNumHotChannels + Below(Hi(r), kNumChannels));
        }
        // The dictionary (~1 MB) is read at random: prefetch a few rows ahead.
        constexpr int64_t kAhead = 16;
        for (int64_t i = 0; i < std::min(rows, kAhead); ++i) __builtin_prefetch(bytes + off[k[i]]);
        VarcharOut v = BeginVarchar(c, rows, rows * (url ? kChannelUrlCopy : kChannelNameCopy));
        int64_t pos = 0;
        for (int64_t i = 0; i < rows; ++i) {
          if (i + kAhead < rows) __builtin_prefetch(bytes + off[k[i + kAhead]]);
          if (url) {
            std::memcpy(v.chars + pos, bytes + off[k[i]], kChannelUrlCopy);
          } else {
            std::memcpy(v.chars + pos, bytes + off[k[i]], kChannelNameCopy);
          }
          pos += len[k[i]];
          v.offsets[i + 1] = static_cast<int32_t>(pos);
        }
        EndVarchar(v, pos);
        break;
      }
      case kBidExtra: {
        // 54..81 bytes (average size 100 with the 32 bytes of numbers): one 96-byte over-copy.
        constexpr int64_t kMaxLen = 82, kCopy = 96;
        const char* letters = letters_.data();
        VarcharOut v = BeginVarchar(c, rows, rows * kMaxLen);
        int64_t pos = 0;
        for (int64_t i = 0; i < rows; ++i) {
          const uint64_t r = Draw(s0[i], 5);
          std::memcpy(v.chars + pos, letters + PoolOffset(Hi(r)), kCopy);
          pos += ExtraLength(4 * 8, kAvgBidBytes, Lo(r));
          v.offsets[i + 1] = static_cast<int32_t>(pos);
        }
        EndVarchar(v, pos);
        break;
      }
      default:
        WEIR_CHECK(false);
    }
  }
}

// Draw order of an auction: 0 release delay, 1 item_name (length, offset), 2 description (length,
// offset), 3 initial_bid, 4 reserve increment, 5 expiry, 6 seller (hot?, pick),
// 7 (category, extra length), 8 extra offset.
void Generator::FillAuctions(const int64_t* events, int64_t rows, const int* columns,
                             int num_columns, Column* const* out) {
  int64_t* id = i64_[0].data();
  int64_t* initial = i64_[1].data();
  int64_t* reserve = i64_[2].data();
  int64_t* ts = i64_[3].data();
  int64_t* expires = i64_[4].data();
  int64_t* seller_category = i64_[5].data();  // seller; category is derived per column below
  uint32_t* name_off = u32_[0].data();
  uint32_t* name_len = u32_[1].data();
  uint32_t* desc_off = u32_[2].data();
  uint32_t* desc_len = u32_[3].data();
  uint32_t* category = u32_[4].data();
  uint32_t* extra_off = u32_[5].data();
  uint32_t* extra_len = u32_[6].data();
  const char* text = text_.data();

  // A slice of the text pool of length 3 + uniform[0, span), trimmed of spaces at both ends
  // (the spec's nextString).
  auto text_slice = [text](uint64_t r, int64_t span, uint32_t* off, uint32_t* len) {
    int64_t o = PoolOffset(Hi(r));
    int64_t l = 3 + Below(Lo(r), span);
    while (l > 0 && text[o] == ' ') ++o, --l;
    while (l > 0 && text[o + l - 1] == ' ') --l;
    *off = static_cast<uint32_t>(o);
    *len = static_cast<uint32_t>(l);
  };

  for (int64_t i = 0; i < rows; ++i) {
    const int64_t n = events[i];
    WEIR_DCHECK(EventKind(n) == Table::kAuction);
    EventRng rng(seed_key_, n);
    (void)rng.Next();  // draw 0 decides the release order (ReleaseOrder)
    ts[i] = NominalTimestamp(base_time_us_, n);
    id[i] = kFirstAuctionId + LastBase0AuctionId(n);
    text_slice(rng.Next(), 17, &name_off[i], &name_len[i]);  // nextString(20): 3..19
    text_slice(rng.Next(), 97, &desc_off[i], &desc_len[i]);  // nextString(100): 3..99
    initial[i] = PriceFromDraw(rng.Next());
    reserve[i] = initial[i] + PriceFromDraw(rng.Next());
    expires[i] = ts[i] + 1000 + Below(Lo(rng.Next()), 2 * kAuctionHorizonMicros);

    uint64_t r = rng.Next();
    const int64_t last_person = LastBase0PersonId(n);
    const int64_t hot_seller = (last_person / kHotIdBlock) * kHotIdBlock;
    const int64_t num_people = last_person + 1;
    const int64_t active = std::min(num_people, kNumActivePeople);
    const int64_t any_seller = num_people - active + Below(Hi(r), active + kPersonIdLead);
    seller_category[i] =
        kFirstPersonId + (Below(Lo(r), kHotSellersRatio) > 0 ? hot_seller : any_seller);

    r = rng.Next();
    category[i] = static_cast<uint32_t>(Below(Lo(r), kNumCategories));
    const int64_t current = 8 + name_len[i] + desc_len[i] + 5 * 8;
    extra_len[i] = static_cast<uint32_t>(ExtraLength(current, kAvgAuctionBytes, Hi(r)));
    extra_off[i] = static_cast<uint32_t>(PoolOffset(Lo(rng.Next())));
  }

  for (int j = 0; j < num_columns; ++j) {
    Column* c = out[j];
    switch (columns[j]) {
      case kAuctionId:
        WriteFixed(c, id, rows);
        break;
      case kAuctionItemName:
        WriteSlices<32>(c, text, name_off, name_len, rows, 19);
        break;
      case kAuctionDescription:
        WriteSlices<0>(c, text, desc_off, desc_len, rows, 99);
        break;
      case kAuctionInitialBid:
        WriteFixed(c, initial, rows);
        break;
      case kAuctionReserve:
        WriteFixed(c, reserve, rows);
        break;
      case kAuctionDateTime:
        WriteFixed(c, ts, rows);
        break;
      case kAuctionExpires:
        WriteFixed(c, expires, rows);
        break;
      case kAuctionSeller:
        WriteFixed(c, seller_category, rows);
        break;
      case kAuctionCategory: {
        c->ResizeFixed(rows);
        int64_t* d = c->data<int64_t>();
        for (int64_t i = 0; i < rows; ++i) d[i] = kFirstCategoryId + category[i];
        break;
      }
      case kAuctionExtra:
        WriteSlices<0>(c, letters_.data(), extra_off, extra_len, rows, kAvgAuctionBytes + 100);
        break;
      default:
        WEIR_CHECK(false);
    }
  }
}

// Draw order of a person: 0 release delay, 1 name (first, last), 2 email user (length, offset),
// 3 email domain (length, offset), 4 card groups 1-2, 5 card groups 3-4, 6 (city, state),
// 7 extra (length, offset).
void Generator::FillPersons(const int64_t* events, int64_t rows, const int* columns,
                            int num_columns, Column* const* out) {
  int64_t* id = i64_[0].data();
  int64_t* ts = i64_[1].data();
  int64_t* card12 = i64_[2].data();
  int64_t* card34 = i64_[3].data();
  int64_t* extra_len = i64_[4].data();
  int64_t* extra_off = i64_[5].data();
  uint32_t* first = u32_[0].data();
  uint32_t* last = u32_[1].data();
  uint32_t* user_off = u32_[2].data();
  uint32_t* user_len = u32_[3].data();
  uint32_t* domain_off = u32_[4].data();
  uint32_t* domain_len = u32_[5].data();
  uint32_t* city = u32_[6].data();
  uint32_t* state = u32_[7].data();

  for (int64_t i = 0; i < rows; ++i) {
    const int64_t n = events[i];
    WEIR_DCHECK(EventKind(n) == Table::kPerson);
    EventRng rng(seed_key_, n);
    (void)rng.Next();  // draw 0 decides the release order (ReleaseOrder)
    ts[i] = NominalTimestamp(base_time_us_, n);
    id[i] = kFirstPersonId + LastBase0PersonId(n);
    uint64_t r = rng.Next();
    first[i] = static_cast<uint32_t>(Below(Lo(r), kFirstNames.size()));
    last[i] = static_cast<uint32_t>(Below(Hi(r), kLastNames.size()));
    r = rng.Next();
    user_len[i] = static_cast<uint32_t>(3 + Below(Lo(r), 4));  // nextString(7): 3..6
    user_off[i] = static_cast<uint32_t>(PoolOffset(Hi(r)));
    r = rng.Next();
    domain_len[i] = static_cast<uint32_t>(3 + Below(Lo(r), 2));  // nextString(5): 3..4
    domain_off[i] = static_cast<uint32_t>(PoolOffset(Hi(r)));
    r = rng.Next();
    card12[i] = Below(Lo(r), 10000) * 10000 + Below(Hi(r), 10000);
    r = rng.Next();
    card34[i] = Below(Lo(r), 10000) * 10000 + Below(Hi(r), 10000);
    r = rng.Next();
    city[i] = static_cast<uint32_t>(Below(Lo(r), kCities.size()));
    state[i] = static_cast<uint32_t>(Below(Hi(r), kStates.size()));
    const int64_t current =
        8 + static_cast<int64_t>(kFirstNames[first[i]].size() + 1 + kLastNames[last[i]].size()) +
        user_len[i] + 1 + domain_len[i] + 4 + kCreditCardBytes +
        static_cast<int64_t>(kCities[city[i]].size() + kStates[state[i]].size());
    r = rng.Next();
    extra_len[i] = ExtraLength(current, kAvgPersonBytes, Lo(r));
    extra_off[i] = PoolOffset(Hi(r));
  }

  for (int j = 0; j < num_columns; ++j) {
    Column* c = out[j];
    switch (columns[j]) {
      case kPersonId:
        WriteFixed(c, id, rows);
        break;
      case kPersonDateTime:
        WriteFixed(c, ts, rows);
        break;
      case kPersonName: {
        VarcharOut v = BeginVarchar(c, rows, rows * 16);
        int64_t pos = 0;
        for (int64_t i = 0; i < rows; ++i) {
          std::string_view f = kFirstNames[first[i]], l = kLastNames[last[i]];
          std::memcpy(v.chars + pos, f.data(), f.size());
          pos += static_cast<int64_t>(f.size());
          v.chars[pos++] = ' ';
          std::memcpy(v.chars + pos, l.data(), l.size());
          pos += static_cast<int64_t>(l.size());
          v.offsets[i + 1] = static_cast<int32_t>(pos);
        }
        EndVarchar(v, pos);
        break;
      }
      case kPersonEmail: {
        VarcharOut v = BeginVarchar(c, rows, rows * 16);
        int64_t pos = 0;
        const char* letters = letters_.data();
        for (int64_t i = 0; i < rows; ++i) {
          std::memcpy(v.chars + pos, letters + user_off[i], 8);  // over-copy, length <= 6
          pos += user_len[i];
          v.chars[pos++] = '@';
          std::memcpy(v.chars + pos, letters + domain_off[i], 8);  // over-copy, length <= 4
          pos += domain_len[i];
          std::memcpy(v.chars + pos, ".com", 4);
          pos += 4;
          v.offsets[i + 1] = static_cast<int32_t>(pos);
        }
        EndVarchar(v, pos);
        break;
      }
      case kPersonCreditCard: {
        VarcharOut v = BeginVarchar(c, rows, rows * kCreditCardBytes);
        char* d = v.chars;
        for (int64_t i = 0; i < rows; ++i) {
          WriteFourDigits(d, static_cast<uint32_t>(card12[i] / 10000));
          d[4] = ' ';
          WriteFourDigits(d + 5, static_cast<uint32_t>(card12[i] % 10000));
          d[9] = ' ';
          WriteFourDigits(d + 10, static_cast<uint32_t>(card34[i] / 10000));
          d[14] = ' ';
          WriteFourDigits(d + 15, static_cast<uint32_t>(card34[i] % 10000));
          d += kCreditCardBytes;
          v.offsets[i + 1] = static_cast<int32_t>((i + 1) * kCreditCardBytes);
        }
        EndVarchar(v, rows * kCreditCardBytes);
        break;
      }
      case kPersonCity:
        WriteDictionary(c, kCities, city, rows);
        break;
      case kPersonState:
        WriteDictionary(c, kStates, state, rows);
        break;
      case kPersonExtra: {
        VarcharOut v = BeginVarchar(c, rows, rows * kAvgPersonBytes);
        int64_t pos = 0;
        const char* letters = letters_.data();
        for (int64_t i = 0; i < rows; ++i) {
          std::memcpy(v.chars + pos, letters + extra_off[i], static_cast<size_t>(extra_len[i]));
          pos += extra_len[i];
          v.offsets[i + 1] = static_cast<int32_t>(pos);
        }
        EndVarchar(v, pos);
        break;
      }
      default:
        WEIR_CHECK(false);
    }
  }
}

}  // namespace weir::nexmark
