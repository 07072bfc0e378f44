// Tests for src/common/crc32c and src/storage/wal: CRC32C against RFC 3720 vectors (both
// implementations), WAL round trips across segment rolls, torn tails cut at every byte, garbled
// bytes reported as file:offset, crashes at every sync point under FaultInjectionEnv (dropped,
// torn and garbled unsynced data), fsync failure as a fatal error, and segment removal.
//
// Randomized tests print their seed; rerun one with WEIR_TEST_SEED=<seed> to reproduce it.
// Files live in /dev/shm when it exists (fsync is free there; FaultInjectionEnv models
// durability), else in the system temp directory.
#include <gtest/gtest.h>

#include "test_util.h"
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/crc32c.h"
#include "common/env.h"
#include "storage/wal.h"

namespace weir {
namespace {

uint64_t BaseSeed() { return weir_test::TestSeed(); }

#define WEIR_SEED_TRACE() SCOPED_TRACE(::testing::Message() << "WEIR_TEST_SEED=" << BaseSeed())


// A fresh directory per test (weir_wal_test.XXXXXX).
struct TempDir : weir_test::TempDir {
  TempDir() : weir_test::TempDir("weir_wal_test") {}
};

// ---- CRC32C ------------------------------------------------------------------------------------

uint32_t CrcOf(const std::vector<uint8_t>& v) { return crc32c::Value(v.data(), v.size()); }

TEST(Crc32c, Rfc3720Vectors) {
  // RFC 3720 (iSCSI) appendix B.4.
  std::vector<uint8_t> zeros(32, 0), ones(32, 0xff), inc(32), dec(32);
  for (int i = 0; i < 32; ++i) {
    inc[i] = static_cast<uint8_t>(i);
    dec[i] = static_cast<uint8_t>(31 - i);
  }
  EXPECT_EQ(CrcOf(zeros), 0x8A9136AAu);
  EXPECT_EQ(CrcOf(ones), 0x62A8AB43u);
  EXPECT_EQ(CrcOf(inc), 0x46DD794Eu);
  EXPECT_EQ(CrcOf(dec), 0x113FDB5Cu);
  std::vector<uint8_t> iscsi_read_pdu = {
      0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
      0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  EXPECT_EQ(CrcOf(iscsi_read_pdu), 0xD9963A56u);
  EXPECT_EQ(crc32c::Value("123456789", 9), 0xE3069283u);  // the usual check value
  for (const std::vector<uint8_t>* v : {&zeros, &ones, &inc, &dec, &iscsi_read_pdu}) {
    EXPECT_EQ(crc32c::ExtendPortable(0, v->data(), v->size()), CrcOf(*v));
  }
}

TEST(Crc32c, HardwareMatchesPortableAtEveryLengthAndAlignment) {
  WEIR_SEED_TRACE();
  std::mt19937_64 rng(BaseSeed());
  std::vector<uint8_t> buf(600);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  std::printf("wal_test: crc32c hardware path %s\n",
              crc32c::HardwareAvailable() ? "available" : "not available");
  for (size_t off = 0; off < 9; ++off) {
    for (size_t n = 0; n + off <= 520; ++n) {
      uint32_t portable = crc32c::ExtendPortable(0, buf.data() + off, n);
      if (crc32c::HardwareAvailable()) {
        ASSERT_EQ(crc32c::ExtendHardware(0, buf.data() + off, n), portable) << off << " " << n;
      }
      ASSERT_EQ(crc32c::Value(buf.data() + off, n), portable);
    }
  }
  // Extend composes.
  uint32_t whole = crc32c::Value(buf.data(), buf.size());
  for (size_t cut : {0, 1, 7, 8, 300, 599, 600}) {
    uint32_t a = crc32c::Value(buf.data(), cut);
    EXPECT_EQ(crc32c::Extend(a, buf.data() + cut, buf.size() - cut), whole);
  }
}

TEST(Crc32c, MaskRoundTrips) {
  for (uint32_t c : {0u, 1u, 0x8A9136AAu, 0xffffffffu}) {
    EXPECT_EQ(crc32c::Unmask(crc32c::Mask(c)), c);
    EXPECT_NE(crc32c::Mask(c), c);
  }
}

// ---- WAL helpers -------------------------------------------------------------------------------

struct Rec {
  uint64_t lsn;
  uint8_t type;
  std::string payload;
  bool operator==(const Rec&) const = default;
};

struct Recovered {
  Status status;
  WalRecoveryReport report;
  std::vector<Rec> records;
};

Recovered Recover(Env* env, const std::string& dir, bool repair = true) {
  Recovered out;
  WalReader::Options options;
  options.repair = repair;
  auto reader = WalReader::Open(env, dir, options);
  if (!reader.ok()) {
    out.status = reader.status();
    return out;
  }
  out.report = (*reader)->report();
  WalRecord r;
  while (true) {
    Result<bool> more = (*reader)->Next(&r);
    if (!more.ok()) {
      out.status = more.status();
      return out;
    }
    if (!*more) break;
    out.records.push_back(Rec{r.lsn, r.type, std::string(r.payload)});
  }
  return out;
}

std::string RandomPayload(std::mt19937_64& rng, size_t max_bytes) {
  std::string s(rng() % (max_bytes + 1), '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

std::vector<std::string> SegmentNames(Env* env, const std::string& dir) {
  std::vector<std::string> out;
  auto children = env->GetChildren(dir);
  if (!children.ok()) return out;
  for (const auto& name : *children) {
    uint64_t lsn;
    if (ParseWalSegmentName(name, &lsn)) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Slurp(Env* env, const std::string& path) {
  auto r = ReadFileToString(env, path);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : "";
}

// ---- basics ------------------------------------------------------------------------------------

TEST(Wal, SegmentNames) {
  EXPECT_EQ(WalSegmentName(1), "wal-00000000000000000001.log");
  EXPECT_EQ(WalSegmentName(UINT64_MAX), "wal-18446744073709551615.log");
  uint64_t lsn = 0;
  EXPECT_TRUE(ParseWalSegmentName("wal-00000000000000012345.log", &lsn));
  EXPECT_EQ(lsn, 12345u);
  EXPECT_FALSE(ParseWalSegmentName("wal-0000000000000001234.log", &lsn));
  EXPECT_FALSE(ParseWalSegmentName("wal-0000000000000001234x.log", &lsn));
  EXPECT_FALSE(ParseWalSegmentName("wal-99999999999999999999.log", &lsn));  // > 2^64
  EXPECT_FALSE(ParseWalSegmentName("MANIFEST", &lsn));
}

TEST(Wal, EmptyOrMissingDirectoryIsAnEmptyLog) {
  TempDir dir;
  Recovered r = Recover(Env::Default(), dir.Join("nothing"));
  ASSERT_OK(r.status);
  EXPECT_TRUE(r.records.empty());
  EXPECT_EQ(r.report.last_lsn, 0u);
  EXPECT_FALSE(r.report.tail_truncated);
}

TEST(Wal, RoundTripAcrossSegmentRolls) {
  WEIR_SEED_TRACE();
  std::mt19937_64 rng(BaseSeed() + 1);
  TempDir dir;
  Env* env = Env::Default();
  WalOptions options;
  options.segment_size_bytes = 4096;
  options.write_buffer_bytes = 1000;
  std::vector<Rec> expected;
  {
    auto w = WalWriter::Open(env, dir.path(), 1, options);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    for (int i = 0; i < 2000; ++i) {
      uint8_t type = static_cast<uint8_t>(1 + rng() % kWalTypeMax);
      std::string payload = RandomPayload(rng, 500);
      auto lsn = (*w)->Append(type, payload);
      ASSERT_TRUE(lsn.ok()) << lsn.status().ToString();
      ASSERT_EQ(*lsn, expected.size() + 1);
      expected.push_back(Rec{*lsn, type, payload});
      if (rng() % 5 == 0) ASSERT_OK((*w)->Commit());
    }
    // A maximum-size payload fills a segment on its own.
    std::string big(WalPayloadMaxBytes(options.segment_size_bytes), 'B');
    auto lsn = (*w)->Append(7, big);
    ASSERT_TRUE(lsn.ok()) << lsn.status().ToString();
    expected.push_back(Rec{*lsn, 7, big});
    ASSERT_OK((*w)->Close());
    EXPECT_EQ((*w)->committed_lsn(), expected.size());
  }
  std::vector<std::string> segments = SegmentNames(env, dir.path());
  EXPECT_GT(segments.size(), 100u);
  for (const auto& name : segments) {
    auto size = env->GetFileSize(dir.Join(name));
    ASSERT_TRUE(size.ok());
    EXPECT_LE(*size, options.segment_size_bytes) << name;
  }
  Recovered r = Recover(env, dir.path());
  ASSERT_OK(r.status);
  EXPECT_FALSE(r.report.tail_truncated) << r.report.ToString();
  EXPECT_EQ(r.report.segments, segments.size());
  EXPECT_EQ(r.report.first_lsn, 1u);
  EXPECT_EQ(r.report.last_lsn, expected.size());
  ASSERT_EQ(r.records.size(), expected.size());
  EXPECT_TRUE(r.records == expected);

  // Continue the log after recovery.
  {
    auto w = WalWriter::Open(env, dir.path(), r.report.last_lsn + 1, options);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    auto lsn = (*w)->Append(1, "after restart");
    ASSERT_TRUE(lsn.ok());
    expected.push_back(Rec{*lsn, 1, "after restart"});
    ASSERT_OK((*w)->Close());
  }
  r = Recover(env, dir.path());
  ASSERT_OK(r.status);
  EXPECT_TRUE(r.records == expected);
}

TEST(Wal, AppendRejectsReservedTypesAndOversizedPayloads) {
  TempDir dir;
  WalOptions options;
  options.segment_size_bytes = 1024;
  auto w = WalWriter::Open(Env::Default(), dir.path(), 1, options);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ((*w)->Append(0, "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*w)->Append(255, "x").status().code(), StatusCode::kInvalidArgument);
  std::string big(WalPayloadMaxBytes(1024) + 1, 'x');
  EXPECT_EQ((*w)->Append(1, big).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE((*w)->fatal_status().ok());  // bad input is not fatal
  EXPECT_TRUE((*w)->Append(1, "fine").ok());
  ASSERT_OK((*w)->Close());
  EXPECT_EQ(WalWriter::Open(Env::Default(), dir.path(), 1, options).status().code(),
            StatusCode::kInvalidArgument);  // would overwrite segment 1
  options.segment_size_bytes = 100;
  EXPECT_EQ(WalWriter::Open(Env::Default(), dir.Join("x"), 1, options).status().code(),
            StatusCode::kInvalidArgument);
}

/// Writes `n` records of `payload_bytes` each, one commit per record; returns them.
std::vector<Rec> WriteCommittedRecords(Env* env, const std::string& dir, int n,
                                       size_t payload_bytes, WalOptions options = {}) {
  std::vector<Rec> out;
  auto w = WalWriter::Open(env, dir, 1, options);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  for (int i = 0; i < n; ++i) {
    std::string payload = fmt::format("{:0{}}", i, payload_bytes);
    auto lsn = (*w)->Append(3, payload);
    EXPECT_TRUE(lsn.ok());
    EXPECT_TRUE((*w)->Commit().ok());
    out.push_back(Rec{*lsn, 3, payload});
  }
  EXPECT_TRUE((*w)->Close().ok());
  return out;
}

// ---- torn tails and corruption -----------------------------------------------------------------

TEST(Wal, TornTailIsTruncatedAtEveryCutPointOfTheLastRecord) {
  TempDir dir;
  Env* env = Env::Default();
  std::vector<Rec> expected = WriteCommittedRecords(env, dir.path(), 20, 40);
  const std::string seg = dir.Join(WalSegmentName(1));
  const std::string pristine = Slurp(env, seg);
  const uint64_t record_group_bytes = 2 * kWalRecordHeaderBytes + 40;  // record + commit marker
  const uint64_t last_start = pristine.size() - record_group_bytes;
  int cuts = 0;
  for (uint64_t cut = last_start; cut < pristine.size(); ++cut) {
    SCOPED_TRACE(::testing::Message() << "cut at byte " << cut);
    ASSERT_OK(WriteStringToFileSync(env, seg, std::string_view(pristine).substr(0, cut)));
    Recovered r = Recover(env, dir.path());
    ASSERT_OK(r.status);
    ASSERT_EQ(r.records.size(), 19u);
    EXPECT_TRUE(std::equal(r.records.begin(), r.records.end(), expected.begin()));
    EXPECT_EQ(r.report.tail_truncated, cut > last_start) << r.report.ToString();
    if (cut > last_start) {
      EXPECT_EQ(r.report.tail_offset, last_start);
      EXPECT_EQ(r.report.tail_bytes_dropped, cut - last_start);
      EXPECT_EQ(r.report.uncommitted_records_dropped,
                cut >= last_start + kWalRecordHeaderBytes + 40 ? 1u : 0u);
    }
    auto size = env->GetFileSize(seg);
    ASSERT_TRUE(size.ok());
    EXPECT_EQ(*size, last_start);  // repaired on disk
    // The log continues cleanly after the repair.
    auto w = WalWriter::Open(env, dir.path(), r.report.last_lsn + 1);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    ASSERT_TRUE((*w)->Append(9, "next").ok());
    ASSERT_OK((*w)->Close());
    Recovered again = Recover(env, dir.path());
    ASSERT_OK(again.status);
    ASSERT_EQ(again.records.size(), 20u);
    EXPECT_EQ(again.records.back(), (Rec{20, 9, "next"}));
    ASSERT_OK(env->DeleteFile(dir.Join(WalSegmentName(20))));
    ++cuts;
  }
  std::printf("wal_test: %d torn-tail cut points checked\n", cuts);
}

TEST(Wal, GarbledByteInTheMiddleIsAnErrorNamingFileAndOffset) {
  TempDir dir;
  Env* env = Env::Default();
  WriteCommittedRecords(env, dir.path(), 100, 50);
  const std::string seg = dir.Join(WalSegmentName(1));
  const std::string pristine = Slurp(env, seg);
  const uint64_t group = 2 * kWalRecordHeaderBytes + 50;
  const uint64_t rec50 = kWalSegmentHeaderBytes + 50 * group;
  // A payload byte, a CRC byte, an LSN byte and a length byte of record 50.
  for (uint64_t delta : {uint64_t{17 + 10}, uint64_t{5}, uint64_t{9}, uint64_t{0}, uint64_t{2}}) {
    SCOPED_TRACE(::testing::Message() << "byte " << rec50 + delta);
    std::string bad = pristine;
    bad[rec50 + delta] = static_cast<char>(bad[rec50 + delta] ^ 0x40);
    ASSERT_OK(WriteStringToFileSync(env, seg, bad));
    Recovered r = Recover(env, dir.path());
    ASSERT_FALSE(r.status.ok());
    EXPECT_EQ(r.status.code(), StatusCode::kDataError);
    const std::string where = fmt::format("wal-00000000000000000001.log:{}: ", rec50);
    EXPECT_EQ(r.status.message().rfind(where, 0), 0u) << r.status.message();
    EXPECT_NE(r.status.message().find("and valid records follow"), std::string::npos)
        << r.status.message();
    if (delta == 17 + 10) {
      EXPECT_NE(r.status.message().find("checksum mismatch"), std::string::npos);
    }
    EXPECT_EQ(Slurp(env, seg), bad);  // nothing repaired
  }
}

TEST(Wal, GarbledLastCommitMarkerIsATornTail) {
  TempDir dir;
  Env* env = Env::Default();
  std::vector<Rec> expected = WriteCommittedRecords(env, dir.path(), 100, 50);
  const std::string seg = dir.Join(WalSegmentName(1));
  const std::string pristine = Slurp(env, seg);
  const uint64_t last = pristine.size() - (2 * kWalRecordHeaderBytes + 50);
  const uint64_t marker = last + kWalRecordHeaderBytes + 50;

  // The last data record damaged while its commit marker is intact: the group was committed,
  // so this is lost committed data, not a torn write.
  std::string bad = pristine;
  bad[last + 30] = static_cast<char>(bad[last + 30] ^ 1);
  ASSERT_OK(WriteStringToFileSync(env, seg, bad));
  Recovered r = Recover(env, dir.path());
  ASSERT_FALSE(r.status.ok());
  EXPECT_EQ(r.status.message().rfind(fmt::format("wal-00000000000000000001.log:{}: checksum "
                                                 "mismatch, and valid records follow",
                                                 last),
                                     0),
            0u)
      << r.status.message();

  // The commit marker itself damaged: the last group is unfinished, a torn tail.
  bad = pristine;
  bad[marker + 5] = static_cast<char>(bad[marker + 5] ^ 1);
  ASSERT_OK(WriteStringToFileSync(env, seg, bad));
  Recovered dry = Recover(env, dir.path(), /*repair=*/false);
  ASSERT_OK(dry.status);
  EXPECT_TRUE(dry.report.tail_truncated);
  EXPECT_EQ(Slurp(env, seg), bad);  // repair = false leaves the file alone

  r = Recover(env, dir.path());
  ASSERT_OK(r.status);
  EXPECT_EQ(r.records.size(), 99u);
  EXPECT_TRUE(std::equal(r.records.begin(), r.records.end(), expected.begin()));
  EXPECT_TRUE(r.report.tail_truncated);
  EXPECT_EQ(r.report.tail_reason,
            fmt::format("checksum mismatch at wal-00000000000000000001.log:{}", marker))
      << r.report.ToString();
  EXPECT_EQ(r.report.uncommitted_records_dropped, 1u);
  EXPECT_EQ(r.report.tail_offset, last);
  EXPECT_EQ(Slurp(env, seg), pristine.substr(0, last));
}

TEST(Wal, CorruptionInAnEarlierSegmentIsAnError) {
  TempDir dir;
  Env* env = Env::Default();
  WalOptions options;
  options.segment_size_bytes = 1024;
  WriteCommittedRecords(env, dir.path(), 100, 50, options);
  std::vector<std::string> segments = SegmentNames(env, dir.path());
  ASSERT_GT(segments.size(), 3u);
  const std::string victim = dir.Join(segments[1]);
  std::string data = Slurp(env, victim);
  const uint64_t offset = data.size() - 10;  // inside the last commit marker's ... or record
  data[offset] = static_cast<char>(data[offset] ^ 0xff);
  ASSERT_OK(WriteStringToFileSync(env, victim, data));
  Recovered r = Recover(env, dir.path());
  ASSERT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find(segments[1]), std::string::npos) << r.status.message();
  EXPECT_NE(r.status.message().find("valid records follow"), std::string::npos);
  EXPECT_NE(r.status.message().find(segments[2]), std::string::npos) << r.status.message();

  // A missing middle segment is an LSN gap, also an error.
  ASSERT_OK(WriteStringToFileSync(env, victim, ""));
  ASSERT_OK(env->DeleteFile(victim));
  r = Recover(env, dir.path());
  ASSERT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find("LSN gap"), std::string::npos) << r.status.message();
}

TEST(Wal, UnfinishedCommitGroupIsDropped) {
  TempDir dir;
  Env* env = Env::Default();
  WalOptions options;
  options.write_buffer_bytes = 1;  // every record reaches the file at once
  {
    auto w = WalWriter::Open(env, dir.path(), 1, options);
    ASSERT_TRUE(w.ok());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE((*w)->Append(1, "committed").ok());
    ASSERT_OK((*w)->Commit());
    for (int i = 0; i < 2; ++i) ASSERT_TRUE((*w)->Append(1, "in flight").ok());
    // destroyed without Commit: the process "died"
  }
  Recovered r = Recover(env, dir.path());
  ASSERT_OK(r.status);
  EXPECT_EQ(r.records.size(), 3u);
  EXPECT_TRUE(r.report.tail_truncated);
  EXPECT_EQ(r.report.tail_reason, "unfinished commit group");
  EXPECT_EQ(r.report.uncommitted_records_dropped, 2u);
  EXPECT_EQ(r.report.last_lsn, 3u);
}

TEST(Wal, RandomDamageNeverYieldsAWrongRecord) {
  WEIR_SEED_TRACE();
  std::mt19937_64 rng(BaseSeed() + 7);
  TempDir dir;
  Env* env = Env::Default();
  WalOptions options;
  options.segment_size_bytes = 2048;
  std::vector<Rec> expected = WriteCommittedRecords(env, dir.path(), 120, 30, options);
  std::vector<std::string> segments = SegmentNames(env, dir.path());
  std::vector<std::string> pristine;
  for (const auto& name : segments) pristine.push_back(Slurp(env, dir.Join(name)));
  int errors = 0, prefixes = 0;
  for (int iter = 0; iter < 300; ++iter) {
    size_t victim = rng() % segments.size();
    std::string bad = pristine[victim];
    int flips = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < flips; ++f) bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
    if (rng() % 4 == 0) bad.resize(rng() % bad.size());
    ASSERT_OK(WriteStringToFileSync(env, dir.Join(segments[victim]), bad));
    Recovered r = Recover(env, dir.path(), /*repair=*/false);
    if (!r.status.ok()) {
      ++errors;
      EXPECT_EQ(r.status.code(), StatusCode::kDataError) << r.status.ToString();
      EXPECT_NE(r.status.message().find("wal-"), std::string::npos) << r.status.message();
    } else {
      ++prefixes;
      ASSERT_LE(r.records.size(), expected.size());
      for (size_t i = 0; i < r.records.size(); ++i) ASSERT_EQ(r.records[i], expected[i]);
    }
    ASSERT_OK(WriteStringToFileSync(env, dir.Join(segments[victim]), pristine[victim]));
  }
  std::printf("wal_test: random damage: %d reported as corruption, %d recovered a prefix\n",
              errors, prefixes);
}

// ---- crashes at every sync point ---------------------------------------------------------------

struct WorkloadResult {
  std::vector<Rec> appended;
  std::set<size_t> group_ends;  // record counts at which a Commit was called (all-or-nothing)
  size_t committed = 0;         // records covered by a Commit that returned OK
  Status first_error;
};

/// 30 commit groups of 1..6 records with random payloads, small segments (frequent rolls) and a
/// small write buffer (partial groups reach the file before their commit). Stops at the first
/// error (the simulated power loss).
WorkloadResult RunWorkload(Env* env, const std::string& dir, uint64_t seed) {
  WorkloadResult out;
  out.group_ends.insert(0);
  std::mt19937_64 rng(seed);
  WalOptions options;
  options.segment_size_bytes = 700;
  options.write_buffer_bytes = 128;
  auto w = WalWriter::Open(env, dir, 1, options);
  if (!w.ok()) {
    out.first_error = w.status();
    return out;
  }
  for (int g = 0; g < 30; ++g) {
    int n = 1 + static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) {
      uint8_t type = static_cast<uint8_t>(1 + rng() % kWalTypeMax);
      std::string payload = RandomPayload(rng, 150);
      auto lsn = (*w)->Append(type, payload);
      if (!lsn.ok()) {
        out.first_error = lsn.status();
        return out;
      }
      out.appended.push_back(Rec{*lsn, type, payload});
    }
    out.group_ends.insert(out.appended.size());
    Status s = (*w)->Commit();
    if (!s.ok()) {
      out.first_error = s;
      return out;
    }
    out.committed = out.appended.size();
  }
  return out;
}

TEST(Wal, CrashAtEverySyncPointRecoversAPrefixOfWholeCommitGroups) {
  WEIR_SEED_TRACE();
  int runs = 0, sync_points_total = 0;
  std::map<std::string, int> outcome;  // how often recovery kept more than the committed records
  for (CrashMode mode :
       {CrashMode::kDropUnsynced, CrashMode::kTornWrite, CrashMode::kGarbleUnsynced}) {
    for (uint64_t s = 0; s < 4; ++s) {
      const uint64_t seed = BaseSeed() + 1000 * static_cast<uint64_t>(mode) + s;
      // Count the workload's sync points once, without a crash.
      uint64_t points = 0;
      {
        TempDir dir;
        FaultInjectionEnv env(Env::Default(), seed);
        WorkloadResult full = RunWorkload(&env, dir.Join("wal"), seed);
        ASSERT_OK(full.first_error);
        points = env.sync_points();
      }
      ASSERT_GT(points, 40u);
      sync_points_total += static_cast<int>(points);
      for (uint64_t k = 0; k <= points; ++k) {
        SCOPED_TRACE(::testing::Message() << "mode " << static_cast<int>(mode) << " seed "
                                          << seed << " crash after sync point " << k);
        TempDir dir;
        const std::string wal_dir = dir.Join("wal");
        FaultInjectionEnv env(Env::Default(), seed * 31 + k);
        env.CrashAfterSyncPoints(static_cast<int64_t>(k));
        WorkloadResult w = RunWorkload(&env, wal_dir, seed);
        ASSERT_EQ(w.first_error.ok(), k == points) << w.first_error.ToString();
        ASSERT_OK(env.SimulateCrash(mode));

        Recovered r = Recover(&env, wal_dir);
        ASSERT_OK(r.status);
        // Exactly a prefix of what was appended: never a wrong or reordered record ...
        ASSERT_LE(r.records.size(), w.appended.size());
        for (size_t i = 0; i < r.records.size(); ++i) {
          ASSERT_EQ(r.records[i], w.appended[i]) << "record " << i;
        }
        // ... holding every committed record ...
        ASSERT_GE(r.records.size(), w.committed) << r.report.ToString();
        // ... and whole commit groups only.
        ASSERT_TRUE(w.group_ends.count(r.records.size())) << r.records.size();
        outcome[r.records.size() > w.committed ? "more than committed" : "exactly committed"]++;

        // The repaired log continues: a writer starting after it appends and recovers cleanly.
        auto writer = WalWriter::Open(&env, wal_dir, r.report.last_lsn + 1);
        ASSERT_TRUE(writer.ok()) << writer.status().ToString();
        ASSERT_TRUE((*writer)->Append(1, "after crash").ok());
        ASSERT_OK((*writer)->Close());
        Recovered again = Recover(&env, wal_dir);
        ASSERT_OK(again.status);
        ASSERT_EQ(again.records.size(), r.records.size() + 1);
        EXPECT_FALSE(again.report.tail_truncated);
        ++runs;
      }
    }
  }
  std::printf("wal_test: %d crash runs over %d sync points (3 modes x 4 seeds); outcomes:",
              runs, sync_points_total);
  for (const auto& [k, v] : outcome) std::printf(" %s=%d", k.c_str(), v);
  std::printf("\n");
}

// ---- fatal errors and segment removal ----------------------------------------------------------

TEST(Wal, FsyncFailureIsFatal) {
  TempDir dir;
  FaultInjectionEnv env(Env::Default(), 3);
  auto w = WalWriter::Open(&env, dir.path(), 1);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append(1, "a").ok());
  ASSERT_OK((*w)->Commit());
  env.FailNthSync(1);
  ASSERT_TRUE((*w)->Append(1, "b").ok());
  Status s = (*w)->Commit();
  ASSERT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_NE(s.message().find("fdatasync"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("WAL stopped"), std::string::npos) << s.message();
  // Every later call returns the same fatal error; nothing is retried.
  auto again = (*w)->Append(1, "c");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().message(), s.message());
  EXPECT_EQ((*w)->Commit().message(), s.message());
  EXPECT_FALSE((*w)->Close().ok());
  EXPECT_EQ((*w)->committed_lsn(), 1u);
  w->reset();
  // The failed commit's bytes did reach the OS (only the fdatasync failed), and nothing crashed:
  // recovery may return that group too. Whole groups only, never a partial one.
  Recovered r = Recover(&env, dir.path());
  ASSERT_OK(r.status);
  EXPECT_EQ(r.records, (std::vector<Rec>{{1, 1, "a"}, {2, 1, "b"}}));
}

TEST(Wal, RemoveSegmentsBeforeKeepsEveryRecordAtOrAfterTheLsn) {
  TempDir dir;
  Env* env = Env::Default();
  WalOptions options;
  options.segment_size_bytes = 1024;
  auto w = WalWriter::Open(env, dir.path(), 1, options);
  ASSERT_TRUE(w.ok());
  for (int i = 0; i < 200; ++i) ASSERT_TRUE((*w)->Append(2, std::string(60, 'r')).ok());
  ASSERT_OK((*w)->Commit());
  const size_t before = SegmentNames(env, dir.path()).size();
  ASSERT_GT(before, 5u);
  ASSERT_OK((*w)->RemoveSegmentsBefore(101));
  std::vector<std::string> after = SegmentNames(env, dir.path());
  EXPECT_LT(after.size(), before);
  uint64_t first = 0;
  ASSERT_TRUE(ParseWalSegmentName(after.front(), &first));
  EXPECT_LE(first, 101u);
  // Everything from 101 on is still there; the log still recovers (it now starts mid-way).
  ASSERT_TRUE((*w)->Append(2, "tail").ok());
  ASSERT_OK((*w)->Close());
  Recovered r = Recover(env, dir.path());
  ASSERT_OK(r.status);
  EXPECT_EQ(r.report.first_lsn, first);
  EXPECT_EQ(r.records.back().lsn, 201u);
  EXPECT_EQ(r.records.size(), 201u - first + 1);
  // The newest segment is never removed.
  ASSERT_OK(RemoveWalSegmentsBefore(env, dir.path(), 1000));
  EXPECT_EQ(SegmentNames(env, dir.path()).size(), 1u);
}

}  // namespace
}  // namespace weir
