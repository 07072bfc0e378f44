// Nexmark generator source: determinism, proportions, referential integrity, event-time bound,
// projection, pacing, options, and allocation-free steady state.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <new>
#include <set>
#include <string>
#include <vector>

#include "connectors/nexmark/nexmark_generator.h"
#include "connectors/nexmark/nexmark_source.h"
#include "types/datetime.h"

// Counts operator-new calls so a test can assert that the steady state allocates nothing.
// (Buffer memory comes from aligned_alloc; its stability is checked through capacities.)
static std::atomic<int64_t> g_news{0};
// noinline keeps GCC from pairing the inlined malloc/free with new/delete expressions
// (-Wmismatched-new-delete).
[[gnu::noinline]] void* operator new(size_t n) {
  g_news.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void* operator new[](size_t n) { return operator new(n); }
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace weir {
namespace {

using nexmark::Table;

Options MakeOptions(const std::map<std::string, std::string>& kv) {
  Options o;
  for (const auto& [k, v] : kv) EXPECT_TRUE(o.Set(k, v).ok());
  return o;
}

std::vector<int> AllColumns(Table t) {
  int n = t == Table::kPerson    ? int{nexmark::kPersonColumns}
          : t == Table::kAuction ? int{nexmark::kAuctionColumns}
                                 : int{nexmark::kBidColumns};
  std::vector<int> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<size_t>(i)] = i;
  return v;
}

std::unique_ptr<Source> Make(std::map<std::string, std::string> kv, std::vector<int> projection) {
  kv.emplace("connector", "nexmark");
  Options o = MakeOptions(kv);
  auto r = MakeNexmarkSource(o, nullptr, projection);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(o.CheckAllUsed("connector 'nexmark'").ok());
  return std::move(r).value();
}

/// Every column of every row, as typed values: int64 for fixed-width, strings for VARCHAR.
struct Table_ {
  SchemaPtr schema;
  std::vector<std::vector<int64_t>> ints;
  std::vector<std::vector<std::string>> strs;
  int64_t rows = 0;
  int64_t batches = 0;
  bool operator==(const Table_& o) const {
    return rows == o.rows && ints == o.ints && strs == o.strs;
  }
};

Table_ ReadAll(Source& src, int64_t rows_max) {
  Table_ t;
  t.schema = src.output_schema();
  size_t ncols = t.schema->num_fields();
  t.ints.resize(ncols);
  t.strs.resize(ncols);
  RecordBatch batch;
  for (;;) {
    auto r = src.Next(&batch, rows_max);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || *r == PollResult::kEnd) break;
    if (*r == PollResult::kIdle) continue;
    EXPECT_GE(batch.num_rows(), 1);
    EXPECT_LE(batch.num_rows(), rows_max);
    EXPECT_EQ(batch.num_columns(), ncols);
    EXPECT_EQ(batch.schema(), t.schema);
    for (size_t c = 0; c < ncols; ++c) {
      const Column& col = *batch.column(c);
      EXPECT_EQ(col.length(), batch.num_rows());
      EXPECT_EQ(col.type(), t.schema->field(c).type);
      for (int64_t i = 0; i < batch.num_rows(); ++i) {
        if (col.type().id == TypeId::kVarchar)
          t.strs[c].emplace_back(col.GetString(i));
        else
          t.ints[c].push_back(col.Get<int64_t>(i));
      }
    }
    t.rows += batch.num_rows();
    ++t.batches;
  }
  return t;
}

int64_t DefaultBase() {
  int64_t base = 0;
  EXPECT_TRUE(ParseTimestamp("2015-07-15 00:00:00", &base));
  return base;
}

size_t DateTimeColumn(Table t) {
  return t == Table::kPerson    ? size_t{nexmark::kPersonDateTime}
         : t == Table::kAuction ? size_t{nexmark::kAuctionDateTime}
                                : size_t{nexmark::kBidDateTime};
}

/// Event numbers of a full-schema table's rows: date_time is exactly base + n * 100 µs.
std::vector<int64_t> EventNumbers(const struct Table_& t, Table table);

Table_ ReadTable(Table table, int64_t events, int64_t seed, int64_t rows_max = 4096,
                 std::vector<int> projection = {}) {
  if (projection.empty()) projection = AllColumns(table);
  auto src = Make({{"table", std::string(nexmark::TableName(table))},
                   {"events", std::to_string(events)},
                   {"seed", std::to_string(seed)}},
                  projection);
  return ReadAll(*src, rows_max);
}

std::vector<int64_t> EventNumbers(const Table_& t, Table table) {
  std::vector<int64_t> n;
  const int64_t base = DefaultBase();
  for (int64_t ts : t.ints[DateTimeColumn(table)]) {
    EXPECT_EQ((ts - base) % nexmark::kInterEventMicros, 0);
    n.push_back((ts - base) / nexmark::kInterEventMicros);
  }
  return n;
}

TEST(NexmarkTest, Schemas) {
  auto bid = NexmarkTableSchema("BID");
  ASSERT_TRUE(bid.ok());
  EXPECT_EQ((*bid)->ToString(),
            "auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, "
            "date_time TIMESTAMP, extra VARCHAR");
  auto person = NexmarkTableSchema("person");
  ASSERT_TRUE(person.ok());
  EXPECT_EQ((*person)->ToString(),
            "id BIGINT, name VARCHAR, email_address VARCHAR, credit_card VARCHAR, city VARCHAR, "
            "state VARCHAR, date_time TIMESTAMP, extra VARCHAR");
  auto auction = NexmarkTableSchema("Auction");
  ASSERT_TRUE(auction.ok());
  EXPECT_EQ((*auction)->ToString(),
            "id BIGINT, item_name VARCHAR, description VARCHAR, initial_bid BIGINT, "
            "reserve BIGINT, date_time TIMESTAMP, expires TIMESTAMP, seller BIGINT, "
            "category BIGINT, extra VARCHAR");
  auto bad = NexmarkTableSchema("bids");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "unknown nexmark table 'bids' (expected 'person', 'auction' or 'bid')");
}

TEST(NexmarkTest, EventNumbering) {
  // n % 50: 0 person, 1..3 auction, 4..49 bid; rows map to events and back.
  int64_t rows_seen[3] = {0, 0, 0};
  for (int64_t n = 0; n < 5000; ++n) {
    Table k = nexmark::EventKind(n);
    int64_t r = n % 50;
    EXPECT_EQ(k, r == 0 ? Table::kPerson : r <= 3 ? Table::kAuction : Table::kBid);
    int64_t& row = rows_seen[static_cast<int>(k)];
    EXPECT_EQ(nexmark::EventOfRow(k, row), n);
    ++row;
    for (Table t : {Table::kPerson, Table::kAuction, Table::kBid})
      EXPECT_EQ(nexmark::RowsOfTable(t, n + 1), rows_seen[static_cast<int>(t)]);
  }
  EXPECT_EQ(nexmark::LastBase0AuctionId(0), -1);
  EXPECT_EQ(nexmark::LastBase0AuctionId(1), 0);
  EXPECT_EQ(nexmark::LastBase0AuctionId(4), 2);
  EXPECT_EQ(nexmark::LastBase0AuctionId(50), 2);
  EXPECT_EQ(nexmark::LastBase0AuctionId(53), 5);
}

TEST(NexmarkTest, ProportionsExact) {
  for (int64_t k : {1, 7, 200}) {
    int64_t events = 50 * k;
    EXPECT_EQ(ReadTable(Table::kPerson, events, 3).rows, k);
    EXPECT_EQ(ReadTable(Table::kAuction, events, 3).rows, 3 * k);
    EXPECT_EQ(ReadTable(Table::kBid, events, 3).rows, 46 * k);
  }
  // A partial last block: events 0..52 = 2 persons, 5 auctions, 46 bids.
  EXPECT_EQ(ReadTable(Table::kPerson, 53, 3).rows, 2);
  EXPECT_EQ(ReadTable(Table::kAuction, 53, 3).rows, 5);
  EXPECT_EQ(ReadTable(Table::kBid, 53, 3).rows, 46);
}

TEST(NexmarkTest, DeterministicPerSeedAndBatchSize) {
  for (Table t : {Table::kPerson, Table::kAuction, Table::kBid}) {
    SCOPED_TRACE(nexmark::TableName(t));
    Table_ a = ReadTable(t, 20000, 42);
    Table_ b = ReadTable(t, 20000, 42);
    EXPECT_TRUE(a == b);
    // Batch size does not change the rows.
    EXPECT_TRUE(ReadTable(t, 20000, 42, 1) == a);
    EXPECT_TRUE(ReadTable(t, 20000, 42, 333) == a);
    // A shorter stream is the longer one restricted to its events, in the same order.
    Table_ shorter = ReadTable(t, 5000, 42);
    std::vector<int64_t> n_long = EventNumbers(a, t);
    size_t k = 0;
    for (size_t i = 0; i < n_long.size(); ++i) {
      if (n_long[i] >= 5000) continue;
      ASSERT_LT(k, static_cast<size_t>(shorter.rows));
      for (size_t c = 0; c < a.ints.size(); ++c) {
        if (!a.ints[c].empty()) {
          ASSERT_EQ(shorter.ints[c][k], a.ints[c][i]);
        }
        if (!a.strs[c].empty()) {
          ASSERT_EQ(shorter.strs[c][k], a.strs[c][i]);
        }
      }
      ++k;
    }
    EXPECT_EQ(k, static_cast<size_t>(shorter.rows));
    // Another seed gives other content.
    Table_ other = ReadTable(t, 20000, 43);
    EXPECT_EQ(other.rows, a.rows);
    EXPECT_FALSE(other == a);
    size_t extra = a.strs.size() - 1;  // extra is the last column of every table
    int64_t same_extra = 0;
    for (size_t i = 0; i < a.strs[extra].size(); ++i)
      same_extra += a.strs[extra][i] == other.strs[extra][i];
    EXPECT_LT(same_extra, a.rows / 100 + 1);
  }
}

TEST(NexmarkTest, ReferencedIdsExist) {
  const int64_t events = 200'000;
  Table_ persons = ReadTable(Table::kPerson, events, 7);
  Table_ auctions = ReadTable(Table::kAuction, events, 7);
  Table_ bids = ReadTable(Table::kBid, events, 7);
  // Ids follow the event number: consecutive from 1000 in event order.
  std::vector<int64_t> person_events = EventNumbers(persons, Table::kPerson);
  std::vector<int64_t> auction_events = EventNumbers(auctions, Table::kAuction);
  std::vector<int64_t> bid_events = EventNumbers(bids, Table::kBid);
  for (int64_t i = 0; i < persons.rows; ++i)
    ASSERT_EQ(persons.ints[nexmark::kPersonId][i], 1000 + person_events[i] / 50);
  for (int64_t i = 0; i < auctions.rows; ++i)
    ASSERT_EQ(auctions.ints[nexmark::kAuctionId][i],
              1000 + nexmark::LastBase0AuctionId(auction_events[i]));
  const int64_t max_person = 1000 + persons.rows - 1;
  const int64_t max_auction = 1000 + auctions.rows - 1;
  std::set<int64_t> person_ids(persons.ints[0].begin(), persons.ints[0].end());
  std::set<int64_t> auction_ids(auctions.ints[0].begin(), auctions.ints[0].end());
  ASSERT_EQ(person_ids.size(), 4000u);
  ASSERT_EQ(*person_ids.rbegin(), max_person);
  ASSERT_EQ(auction_ids.size(), 12000u);
  ASSERT_EQ(*auction_ids.rbegin(), max_auction);

  // A reference is to an id created earlier in the stream, or (the spec's "lead") to one of the
  // next 10 ids, which exist later in the stream unless the bounded stream ends first.
  auto check_ref = [](int64_t id, const std::set<int64_t>& ids, int64_t max_id, int64_t last_base0,
                      int64_t lead, int64_t* earlier) {
    EXPECT_GE(id, 1000);
    EXPECT_LE(id, 1000 + last_base0 + lead);
    if (id <= max_id) {
      EXPECT_TRUE(ids.count(id));
    }
    *earlier += id <= 1000 + last_base0;
  };

  int64_t auction_earlier = 0, bidder_earlier = 0, hot_auction = 0, hot_bidder = 0, hot_channel = 0;
  for (int64_t i = 0; i < bids.rows; ++i) {
    int64_t n = bid_events[i];
    ASSERT_EQ(nexmark::EventKind(n), Table::kBid);
    int64_t last_a = nexmark::LastBase0AuctionId(n), last_p = nexmark::LastBase0PersonId(n);
    int64_t a = bids.ints[nexmark::kBidAuction][i], b = bids.ints[nexmark::kBidBidder][i];
    check_ref(a, auction_ids, max_auction, last_a, nexmark::kAuctionIdLead, &auction_earlier);
    check_ref(b, person_ids, max_person, last_p, nexmark::kPersonIdLead, &bidder_earlier);
    // Cold picks stay in the in-flight / active windows.
    EXPECT_GE(a, 1000 + std::max<int64_t>(last_a - nexmark::kNumInFlightAuctions, 0));
    hot_auction += a == 1000 + last_a / 100 * 100;
    hot_bidder += b == 1000 + last_p / 100 * 100 + 1;
    const std::string& ch = bids.strs[nexmark::kBidChannel][i];
    bool hot = ch == "Google" || ch == "Facebook" || ch == "Baidu" || ch == "Apple";
    hot_channel += hot;
    if (!hot) {
      EXPECT_EQ(ch.rfind("channel-", 0), 0u) << ch;
    }
    const std::string& url = bids.strs[nexmark::kBidUrl][i];
    EXPECT_EQ(url.rfind("https://www.nexmark.com/", 0), 0u) << url;
    EXPECT_NE(url.find("/item.htm?query=1"), std::string::npos) << url;
    int64_t price = bids.ints[nexmark::kBidPrice][i];
    EXPECT_GE(price, 100);
    EXPECT_LE(price, 100'000'000);
    size_t extra = bids.strs[nexmark::kBidExtra][i].size();
    EXPECT_GE(extra, 54u);
    EXPECT_LT(extra, 82u);
  }
  // Nearly all references point backwards; hot shares follow the ratios (1/2, 3/4, 1/2 plus
  // the cold picks that land on the hot id).
  EXPECT_GT(auction_earlier, bids.rows * 95 / 100);
  EXPECT_GT(bidder_earlier, bids.rows * 95 / 100);
  EXPECT_NEAR(static_cast<double>(hot_auction) / bids.rows, 0.5, 0.02);
  EXPECT_NEAR(static_cast<double>(hot_bidder) / bids.rows, 0.75, 0.02);
  EXPECT_NEAR(static_cast<double>(hot_channel) / bids.rows, 0.5, 0.02);

  int64_t seller_earlier = 0;
  std::set<int64_t> categories;
  for (int64_t i = 0; i < auctions.rows; ++i) {
    int64_t n = auction_events[i];
    check_ref(auctions.ints[nexmark::kAuctionSeller][i], person_ids, max_person,
              nexmark::LastBase0PersonId(n), nexmark::kPersonIdLead, &seller_earlier);
    int64_t cat = auctions.ints[nexmark::kAuctionCategory][i];
    EXPECT_GE(cat, 10);
    EXPECT_LE(cat, 14);
    categories.insert(cat);
    int64_t initial = auctions.ints[nexmark::kAuctionInitialBid][i];
    EXPECT_GE(initial, 100);
    EXPECT_GT(auctions.ints[nexmark::kAuctionReserve][i], initial);
    int64_t life =
        auctions.ints[nexmark::kAuctionExpires][i] - auctions.ints[nexmark::kAuctionDateTime][i];
    EXPECT_GE(life, 1000);
    EXPECT_LT(life, 1000 + 2 * nexmark::kAuctionHorizonMicros);
    size_t name_len = auctions.strs[nexmark::kAuctionItemName][i].size();
    EXPECT_LE(name_len, 19u);
    EXPECT_LE(auctions.strs[nexmark::kAuctionDescription][i].size(), 99u);
  }
  EXPECT_GT(seller_earlier, auctions.rows * 95 / 100);
  EXPECT_EQ(categories.size(), 5u);

  const std::set<std::string> states = {"AZ", "CA", "ID", "OR", "WA", "WY"};
  for (int64_t i = 0; i < persons.rows; ++i) {
    EXPECT_TRUE(states.count(persons.strs[nexmark::kPersonState][i]));
    const std::string& card = persons.strs[nexmark::kPersonCreditCard][i];
    ASSERT_EQ(card.size(), 19u);
    for (size_t k = 0; k < 19; ++k) EXPECT_TRUE(k % 5 == 4 ? card[k] == ' ' : isdigit(card[k]));
    const std::string& email = persons.strs[nexmark::kPersonEmail][i];
    EXPECT_NE(email.find('@'), std::string::npos);
    EXPECT_EQ(email.substr(email.size() - 4), ".com");
    EXPECT_NE(persons.strs[nexmark::kPersonName][i].find(' '), std::string::npos);
  }
}

TEST(NexmarkTest, OutOfOrderBoundRespected) {
  const int64_t events = 200'000;
  constexpr uint64_t seed = 11;
  auto release = [](int64_t n) {
    return std::pair<int64_t, int64_t>(
        n * nexmark::kInterEventMicros + nexmark::EventDelayMicros(seed, n), n);
  };
  for (Table t : {Table::kPerson, Table::kAuction, Table::kBid}) {
    SCOPED_TRACE(nexmark::TableName(t));
    Table_ rows = ReadTable(t, events, seed);
    std::vector<int64_t> n = EventNumbers(rows, t);
    // Exactly the table's events, each once, sorted by (release time, event number).
    std::vector<int64_t> sorted = n;
    std::sort(sorted.begin(), sorted.end());
    ASSERT_EQ(static_cast<int64_t>(sorted.size()), nexmark::RowsOfTable(t, events));
    for (size_t i = 0; i < sorted.size(); ++i)
      ASSERT_EQ(sorted[i], nexmark::EventOfRow(t, static_cast<int64_t>(i)));
    for (size_t i = 1; i < n.size(); ++i) ASSERT_LT(release(n[i - 1]), release(n[i])) << i;
    // Lateness behind the largest date_time seen so far is bounded, and the bound is tight.
    const std::vector<int64_t>& ts = rows.ints[DateTimeColumn(t)];
    int64_t max_seen = ts[0], max_late = 0, late_rows = 0;
    for (size_t i = 1; i < ts.size(); ++i) {
      ASSERT_GE(ts[i], max_seen - nexmark::kMaxLatenessMicros);
      max_late = std::max(max_late, max_seen - ts[i]);
      late_rows += ts[i] < max_seen;
      max_seen = std::max(max_seen, ts[i]);
    }
    if (t == Table::kBid) {
      EXPECT_GT(max_late, nexmark::kMaxLatenessMicros * 9 / 10);
      EXPECT_NEAR(static_cast<double>(late_rows) / rows.rows, 0.1, 0.01);
    }
  }
  // Each table is the merged stream (all events by release) restricted to the table, so the
  // merged stream must honour the bound too.
  std::vector<std::pair<int64_t, int64_t>> merged;
  for (int64_t n = 0; n < events; ++n) merged.push_back(release(n));
  std::sort(merged.begin(), merged.end());
  int64_t max_seen = INT64_MIN;
  for (const auto& [rel, n] : merged) {
    int64_t ts = n * nexmark::kInterEventMicros;
    ASSERT_LE(rel - ts, nexmark::kMaxLatenessMicros);
    if (max_seen != INT64_MIN) {
      ASSERT_GE(ts, max_seen - nexmark::kMaxLatenessMicros) << n;
    }
    max_seen = std::max(max_seen, ts);
  }
}

TEST(NexmarkTest, ReleaseOrderAcrossBatchLimits) {
  // Scanning in small steps (as a paced source does) releases the same sequence.
  nexmark::ReleaseOrder whole(Table::kBid, 3), steps(Table::kBid, 3);
  const int64_t rows = nexmark::RowsOfTable(Table::kBid, 100'000);
  std::vector<int64_t> a(static_cast<size_t>(rows)), b;
  ASSERT_EQ(whole.Next(rows, true, rows, a.data()), rows);
  std::vector<int64_t> buf(64);
  for (int64_t end = 0;; end = std::min(end + 37, rows)) {
    int64_t got = steps.Next(end, end == rows, 64, buf.data());
    b.insert(b.end(), buf.begin(), buf.begin() + got);
    if (end == rows && got == 0) break;
  }
  EXPECT_EQ(a, b);
  EXPECT_EQ(steps.held(), 0);
}

TEST(NexmarkTest, BaseTimeOption) {
  auto a = Make({{"table", "person"}, {"events", "5000"}}, {nexmark::kPersonDateTime});
  auto b = Make({{"table", "person"}, {"events", "5000"}, {"base_time", "2020-01-01 00:00:00"}},
                {nexmark::kPersonDateTime});
  Table_ ta = ReadAll(*a, 4096), tb = ReadAll(*b, 4096);
  int64_t t0 = 0, t1 = 0;
  ASSERT_TRUE(ParseTimestamp("2015-07-15 00:00:00", &t0));
  ASSERT_TRUE(ParseTimestamp("2020-01-01 00:00:00", &t1));
  ASSERT_EQ(ta.rows, 100);
  for (int64_t i = 0; i < ta.rows; ++i) EXPECT_EQ(tb.ints[0][i] - ta.ints[0][i], t1 - t0);
  // 100 µs apart: person i is event 50 i, at base + 5 ms * i.
  std::vector<int64_t> sorted = ta.ints[0];
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 100; ++i) EXPECT_EQ(sorted[i], t0 + i * 50 * nexmark::kInterEventMicros);
}

TEST(NexmarkTest, ProjectionMatchesFullSchema) {
  for (Table t : {Table::kPerson, Table::kAuction, Table::kBid}) {
    SCOPED_TRACE(nexmark::TableName(t));
    Table_ full = ReadTable(t, 30000, 5);
    int ncols = static_cast<int>(full.schema->num_fields());
    std::vector<int> proj = {ncols - 1, 0, ncols / 2, 0};  // reordered, with a duplicate
    Table_ part = ReadTable(t, 30000, 5, 1000, proj);
    ASSERT_EQ(part.rows, full.rows);
    for (size_t j = 0; j < proj.size(); ++j) {
      size_t c = static_cast<size_t>(proj[j]);
      EXPECT_EQ(part.schema->field(j).name, full.schema->field(c).name);
      EXPECT_TRUE(part.ints[j] == full.ints[c]) << j;
      EXPECT_TRUE(part.strs[j] == full.strs[c]) << j;
    }
    // Each column alone.
    for (int c = 0; c < ncols; ++c) {
      Table_ one = ReadTable(t, 30000, 5, 4096, {c});
      EXPECT_TRUE(one.ints[0] == full.ints[static_cast<size_t>(c)]);
      EXPECT_TRUE(one.strs[0] == full.strs[static_cast<size_t>(c)]);
    }
  }
  // No columns at all (e.g. count(*)): batches carry only the row count.
  auto none = Make({{"table", "bid"}, {"events", "1000"}}, {});
  RecordBatch batch;
  int64_t rows = 0;
  for (;;) {
    auto r = none->Next(&batch, 300);
    ASSERT_TRUE(r.ok());
    if (*r == PollResult::kEnd) break;
    EXPECT_EQ(batch.num_columns(), 0u);
    rows += batch.num_rows();
  }
  EXPECT_EQ(rows, 920);
}

TEST(NexmarkTest, DeclaredSchemaMatchedByName) {
  // A declared schema in another order / case maps by name.
  auto declared = std::make_shared<const Schema>(
      std::vector<Field>{{"PRICE", DataType::Int64()}, {"Date_Time", DataType::Timestamp()}});
  Options o = MakeOptions({{"table", "bid"}, {"events", "1000"}, {"seed", "9"}});
  auto src = MakeNexmarkSource(o, declared, {1, 0});
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  Table_ got = ReadAll(**src, 4096);
  Table_ want = ReadTable(Table::kBid, 1000, 9, 4096, {nexmark::kBidDateTime, nexmark::kBidPrice});
  EXPECT_EQ(got.schema->ToString(), "Date_Time TIMESTAMP, PRICE BIGINT");
  EXPECT_TRUE(got == want);

  auto wrong_type =
      std::make_shared<const Schema>(std::vector<Field>{{"price", DataType::Double()}});
  auto r = MakeNexmarkSource(o, wrong_type, {0});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "nexmark column bid.price is BIGINT, declared DOUBLE");
  auto unknown = std::make_shared<const Schema>(std::vector<Field>{{"cost", DataType::Int64()}});
  r = MakeNexmarkSource(o, unknown, {0});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("has no column 'cost'"), std::string::npos);
  r = MakeNexmarkSource(o, nullptr, {7});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("projection index 7 out of range"), std::string::npos);
}

TEST(NexmarkTest, BadOptions) {
  auto error = [](std::map<std::string, std::string> kv) {
    Options o = MakeOptions(kv);
    auto r = MakeNexmarkSource(o, nullptr, {0});
    EXPECT_FALSE(r.ok());
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_EQ(error({}), "missing required option 'table'");
  EXPECT_EQ(error({{"table", "bidz"}}),
            "unknown nexmark table 'bidz' (expected 'person', 'auction' or 'bid')");
  EXPECT_EQ(error({{"table", "bid"}, {"events", "x"}}),
            "option 'events' must be an integer, got 'x'");
  EXPECT_EQ(error({{"table", "bid"}, {"events", "-5"}}),
            "option 'events' must be >= 0 (0 = unbounded), got -5");
  EXPECT_EQ(error({{"table", "bid"}, {"seed", "1.5"}}),
            "option 'seed' must be an integer, got '1.5'");
  EXPECT_EQ(error({{"table", "bid"}, {"rate", "0"}}), "option 'rate' must be > 0 events/s, got 0");
  EXPECT_EQ(error({{"table", "bid"}, {"base_time", "yesterday"}}),
            "option 'base_time' must be a timestamp 'YYYY-MM-DD HH:MM:SS', got 'yesterday'");

  // Every option the source knows is marked used; a typo is left for CheckAllUsed to report.
  Options o = MakeOptions({{"connector", "nexmark"},
                           {"table", "bid"},
                           {"events", "10"},
                           {"seed", "1"},
                           {"rate", "5"},
                           {"base_time", "2015-07-15 00:00:00"}});
  ASSERT_TRUE(MakeNexmarkSource(o, nullptr, {0}).ok());
  EXPECT_TRUE(o.CheckAllUsed("connector 'nexmark'").ok());
  Options typo = MakeOptions({{"table", "bid"}, {"evnets", "10"}});
  ASSERT_TRUE(MakeNexmarkSource(typo, nullptr, {0}).ok());
  EXPECT_EQ(typo.CheckAllUsed("connector 'nexmark'").message(),
            "unknown option 'evnets' for connector 'nexmark'");
}

TEST(NexmarkTest, DescribeStatsBounded) {
  auto src = Make({{"table", "bid"}, {"events", "1000"}, {"seed", "42"}}, {0});
  EXPECT_EQ(src->Describe(), "nexmark bid (events=1000, seed=42)");
  EXPECT_TRUE(src->bounded());
  Table_ t = ReadAll(*src, 100);
  EXPECT_EQ(src->stats().rows_read, 920);
  EXPECT_EQ(src->stats().bytes_total, -1);
  EXPECT_EQ(t.batches, 10);
  RecordBatch batch;
  auto again = src->Next(&batch, 100);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, PollResult::kEnd);

  auto unbounded = Make({{"table", "auction"}, {"events", "0"}}, {0});
  EXPECT_FALSE(unbounded->bounded());
  EXPECT_EQ(unbounded->Describe(), "nexmark auction (events=unbounded, seed=0)");
  std::set<int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    auto r = unbounded->Next(&batch, 4096);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(*r, PollResult::kBatch);
    EXPECT_EQ(batch.num_rows(), 4096);
    for (int64_t k = 0; k < batch.num_rows(); ++k) ids.insert(batch.column(0)->Get<int64_t>(k));
  }
  EXPECT_EQ(ids.size(), 5u * 4096);  // distinct auctions, in release order
  EXPECT_EQ(*ids.begin(), 1000);
}

TEST(NexmarkTest, RatePacesWallClock) {
  // 3000 events at 20,000 events/s take 150 ms; the rows are the unpaced ones.
  auto paced = Make({{"table", "bid"}, {"events", "3000"}, {"seed", "4"}, {"rate", "20000"}},
                    AllColumns(Table::kBid));
  auto start = std::chrono::steady_clock::now();
  Table_ got = ReadAll(*paced, 4096);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(secs, 0.13);
  EXPECT_LT(secs, 2.0);
  EXPECT_GT(got.batches, 5);  // released in several ~10 ms batches, not one
  EXPECT_TRUE(got == ReadTable(Table::kBid, 3000, 4));
  // An absurd rate is just "flat out".
  auto fast =
      Make({{"table", "bid"}, {"events", "3000"}, {"seed", "4"}, {"rate", "9223372036854775807"}},
           AllColumns(Table::kBid));
  EXPECT_TRUE(ReadAll(*fast, 4096) == got);
}

TEST(NexmarkTest, SteadyStateAllocatesNothing) {
  for (Table t : {Table::kPerson, Table::kAuction, Table::kBid}) {
    SCOPED_TRACE(nexmark::TableName(t));
    auto src =
        Make({{"table", std::string(nexmark::TableName(t))}, {"events", "0"}}, AllColumns(t));
    RecordBatch batch;
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(src->Next(&batch, 4096).ok());  // warm up
    std::vector<const Column*> cols;
    std::vector<size_t> bytes;
    for (const auto& c : batch.columns()) {
      cols.push_back(c.get());
      bytes.push_back(c->MemoryBytes());
    }
    int64_t before = g_news.load();
    bool ok = true;
    for (int i = 0; i < 50; ++i) ok &= src->Next(&batch, 4096).ok();
    int64_t allocs = g_news.load() - before;
    EXPECT_TRUE(ok);
    EXPECT_EQ(allocs, 0);
    for (size_t c = 0; c < cols.size(); ++c) {
      EXPECT_EQ(batch.column(c).get(), cols[c]);            // column reused in place
      EXPECT_EQ(batch.column(c)->MemoryBytes(), bytes[c]);  // no buffer growth
    }
  }
}

}  // namespace
}  // namespace weir
