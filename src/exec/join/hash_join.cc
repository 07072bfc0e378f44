#include "exec/join/hash_join.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <functional>

#include "common/coding.h"
#include "state/hash.h"

namespace weir {

namespace {

// Record header fields (RowArena::kHeaderBytes = 40).
constexpr size_t kNextOff = 0;     // ref + 1 of the next record in the key's list, 0 = end
constexpr size_t kMultOff = 8;     // multiplicity (> 0 while linked)
constexpr size_t kDegreeOff = 16;  // matching other-side rows, with multiplicity
constexpr size_t kLenOff = 24;     // row bytes
constexpr size_t kClassOff = 28;   // size class
constexpr size_t kExpiryOff = 32;  // expiry time (µs; INT64_MAX = never), sides with an expiry

inline uint64_t NextRef(const uint8_t* rec) { return LoadU64(rec + kNextOff) - 1; }
inline int64_t Mult(const uint8_t* rec) { return LoadI64(rec + kMultOff); }
inline int64_t Degree(const uint8_t* rec) { return LoadI64(rec + kDegreeOff); }
inline uint32_t RowLen(const uint8_t* rec) { return LoadU32(rec + kLenOff); }
inline int64_t Expiry(const uint8_t* rec) { return LoadI64(rec + kExpiryOff); }
inline const uint8_t* RowBytes(const uint8_t* rec) { return rec + RowArena::kHeaderBytes; }

constexpr uint32_t kSmallClasses = 128;  // records of 8..1024 bytes, 8-byte steps
constexpr uint32_t kClassesMax = kSmallClasses + 24;

}  // namespace

// ---- RowArena -------------------------------------------------------------------------------

uint32_t RowArena::ClassOf(size_t record_bytes) {
  if (record_bytes <= 1024) return static_cast<uint32_t>((record_bytes + 7) / 8 - 1);
  return kSmallClasses + static_cast<uint32_t>(std::bit_width(record_bytes - 1)) - 11;
}

size_t RowArena::ClassBytes(uint32_t cls) {
  return cls < kSmallClasses ? size_t{cls + 1} * 8 : size_t{1} << (cls - kSmallClasses + 11);
}

uint64_t RowArena::Allocate(uint32_t len) {
  const uint32_t cls = ClassOf(size_t{kHeaderBytes} + len);
  WEIR_CHECK(cls < kClassesMax);
  if (free_heads_.empty()) free_heads_.assign(kClassesMax, 0);
  uint64_t ref;
  if (free_heads_[cls] != 0) {
    ref = free_heads_[cls] - 1;
    free_heads_[cls] = LoadU64(At(ref) + kNextOff);
  } else {
    const size_t bytes = ClassBytes(cls);
    if (chunks_.empty() || used_in_last_ + bytes > chunks_.back().bytes) {
      size_t size = chunks_.empty() ? kFirstChunkBytes
                                    : std::min(chunks_.back().bytes * 2, kChunkBytesMax);
      size = std::max(size, bytes);
      WEIR_CHECK(chunks_.size() < (size_t{1} << 31));
      // Zeroed: slack after records is written to checkpoints, which must be deterministic.
      chunks_.push_back(Chunk{std::make_unique<uint8_t[]>(size), size});
      chunk_bytes_ += size;
      used_in_last_ = 0;
    }
    ref = (uint64_t{chunks_.size() - 1} << 32) | used_in_last_;
    used_in_last_ += bytes;
  }
  uint8_t* p = At(ref);
  StoreU64(p + kNextOff, 0);
  StoreI64(p + kMultOff, 0);
  StoreI64(p + kDegreeOff, 0);
  StoreU32(p + kLenOff, len);
  StoreU32(p + kClassOff, cls);
  ++live_records_;
  return ref;
}

void RowArena::Free(uint64_t ref) {
  uint8_t* p = At(ref);
  const uint32_t cls = LoadU32(p + kClassOff);
  StoreU64(p + kNextOff, free_heads_[cls]);
  StoreI64(p + kMultOff, 0);
  free_heads_[cls] = ref + 1;
  --live_records_;
}

void RowArena::Snapshot(StateWriter* w) const {
  w->Begin("row_arena");
  w->U64(chunks_.size());
  for (size_t c = 0; c < chunks_.size(); ++c) {
    const bool last = c + 1 == chunks_.size();
    w->U64(chunks_[c].bytes);
    w->Bytes(chunks_[c].data.get(), last ? used_in_last_ : chunks_[c].bytes);
  }
  w->U64(used_in_last_);
  w->U64(live_records_);
  w->PodVector(free_heads_);
  w->End();
}

bool RowArena::ValidRecord(uint64_t ref) const {
  const uint64_t c = ref >> 32, off = static_cast<uint32_t>(ref);
  if (c >= chunks_.size()) return false;
  const size_t limit = c + 1 == chunks_.size() ? used_in_last_ : chunks_[c].bytes;
  if (off + kHeaderBytes > limit) return false;
  const uint8_t* p = At(ref);
  const uint32_t cls = LoadU32(p + kClassOff);
  return cls < kClassesMax && cls == ClassOf(size_t{kHeaderBytes} + LoadU32(p + kLenOff)) &&
         off + ClassBytes(cls) <= limit;
}

Status RowArena::Restore(StateReader* r) {
  if (!chunks_.empty()) return Internal("RowArena::Restore into a non-empty arena");
  r->Begin("row_arena");
  const uint64_t n = r->U64();
  if (!r->ok()) return r->status();
  if (n > r->remaining() / 16) {
    r->Fail("row arena: chunk count exceeds the snapshot");
    return r->status();
  }
  for (uint64_t c = 0; c < n && r->ok(); ++c) {
    const uint64_t bytes = r->U64();
    std::string_view data = r->Bytes();
    if (!r->ok()) break;
    if (bytes == 0 || bytes > (uint64_t{1} << 32) || data.size() > bytes ||
        (c + 1 < n && data.size() != bytes)) {
      r->Fail("row arena: invalid chunk size");
      break;
    }
    // Allocate only what the snapshot holds bytes for, plus the tail of the last chunk
    // (bounded: a chunk is at most 4 MiB unless one record needed more, which it then holds).
    if (bytes > std::max<uint64_t>(kChunkBytesMax, data.size())) {
      r->Fail("row arena: chunk larger than its records");
      break;
    }
    chunks_.push_back(Chunk{std::make_unique_for_overwrite<uint8_t[]>(bytes), bytes});
    if (!data.empty()) std::memcpy(chunks_.back().data.get(), data.data(), data.size());
    chunk_bytes_ += bytes;
    used_in_last_ = data.size();
  }
  const uint64_t used = r->U64();
  const uint64_t live = r->U64();
  free_heads_ = r->PodVector<uint64_t>();
  r->End();
  if (r->ok() && (used != used_in_last_ || (!free_heads_.empty() && free_heads_.size() != kClassesMax))) {
    r->Fail("row arena: invalid cursor or free lists");
  }
  live_records_ = live;
  // Free lists: in-bounds records of their class, acyclic (bounded by the bytes present).
  const uint64_t steps_max = chunk_bytes_ / 8 + 1;
  uint64_t steps = 0;
  for (uint32_t cls = 0; r->ok() && cls < free_heads_.size(); ++cls) {
    for (uint64_t next = free_heads_[cls]; next != 0; next = LoadU64(At(next - 1) + kNextOff)) {
      if (!ValidRecord(next - 1) || LoadU32(At(next - 1) + kClassOff) != cls || ++steps > steps_max) {
        r->Fail("row arena: invalid free list");
        break;
      }
    }
  }
  if (!r->ok()) {
    chunks_.clear();
    free_heads_.clear();
    chunk_bytes_ = used_in_last_ = live_records_ = 0;
    return r->status();
  }
  return Status::OK();
}

// ---- ports and sides ------------------------------------------------------------------------

struct HashJoinOperator::Side {
  Side(SchemaPtr s, std::vector<int> k, bool preserved, bool degree, bool null_keys,
       bool append_only_input, HashJoinOptions::Expiry exp, std::vector<DataType> key_types,
       std::vector<DataType> row_types)
      : schema(std::move(s)),
        keys(std::move(k)),
        outer(preserved),
        track_degree(degree),
        keep_null_keys(null_keys),
        append_only(append_only_input),
        expiry(exp),
        key_enc(std::move(key_types)),
        row_enc(row_types),
        table(8, key_enc.fixed_key_bytes()),
        key_cols(keys.size()),
        all_cols(schema->num_fields()),
        decode_out(schema->num_fields()) {
    // The encoding of an all-NULL row: what the other side's unmatched rows are padded with.
    std::vector<Column> nulls;
    nulls.reserve(row_types.size());
    std::vector<const Column*> ptrs;
    for (const DataType& t : row_types) {
      nulls.emplace_back(t);
      nulls.back().AppendNull();
    }
    for (const Column& c : nulls) ptrs.push_back(&c);
    KeyEncoder enc(row_types);
    enc.Encode(ptrs, 1);
    null_row.assign(enc.key(0), enc.key(0) + enc.key_len(0));
  }

  // One more copy of `row` under the key list at `head`: merged into an identical record among
  // the first kDedupeScanMax, else a fresh record prepended. `degree` = its current matches.
  void Keep(uint8_t* head, const uint8_t* row, uint32_t len, int64_t degree, int64_t expires) {
    uint64_t ref = LoadU64(head) - 1;
    for (int s = 0; s < kDedupeScanMax && ref != RowArena::kNil; ++s) {
      uint8_t* rec = arena.At(ref);
      if (RowLen(rec) == len && std::memcmp(RowBytes(rec), row, len) == 0) {
        WEIR_DCHECK(!track_degree || Degree(rec) == degree);
        StoreI64(rec + kMultOff, Mult(rec) + 1);
        return;
      }
      ref = NextRef(rec);
    }
    const uint64_t fresh = arena.Allocate(len);
    uint8_t* rec = arena.At(fresh);
    if (len) std::memcpy(rec + RowArena::kHeaderBytes, row, len);
    StoreI64(rec + kMultOff, 1);
    StoreI64(rec + kDegreeOff, degree);
    StoreI64(rec + kExpiryOff, expires);
    StoreU64(rec + kNextOff, LoadU64(head));
    StoreU64(head, fresh + 1);
    if (expiry.column >= 0) {
      expiry_heap.push_back(expires);
      std::push_heap(expiry_heap.begin(), expiry_heap.end(), std::greater<>());
    }
  }

  // The record holding `row` under `head` (kNil if none) and its predecessor (kNil at the head).
  uint64_t Find(const uint8_t* head, const uint8_t* row, uint32_t len, uint64_t* prev) const {
    *prev = RowArena::kNil;
    uint64_t ref = LoadU64(head) - 1;
    while (ref != RowArena::kNil) {
      const uint8_t* rec = arena.At(ref);
      if (RowLen(rec) == len && std::memcmp(RowBytes(rec), row, len) == 0) return ref;
      *prev = ref;
      ref = NextRef(rec);
    }
    return RowArena::kNil;
  }

  // One copy fewer of record `ref` (found by Find); unlinks and frees it at zero.
  void Drop(uint8_t* head, uint64_t ref, uint64_t prev) {
    uint8_t* rec = arena.At(ref);
    const int64_t mult = Mult(rec) - 1;
    StoreI64(rec + kMultOff, mult);
    if (mult != 0) return;
    const uint64_t next_plus1 = LoadU64(rec + kNextOff);
    StoreU64(prev == RowArena::kNil ? head : arena.At(prev) + kNextOff, next_plus1);
    arena.Free(ref);
  }

  SchemaPtr schema;
  std::vector<int> keys;
  bool outer;           // preserved side of an outer join: unmatched rows padded with NULLs
  bool track_degree;    // records keep `degree` up to date (outer sides, semi / anti left)
  bool keep_null_keys;  // rows with a NULL key are kept (they can be output)
  bool append_only;
  HashJoinOptions::Expiry expiry;
  std::vector<int64_t> expiry_heap;  // min-heap: expiry of every kept record (expiry sides)
  int64_t expired_pending = 0;       // records known expired, not yet swept
  KeyEncoder key_enc;  // equi-key columns of this side's input batches
  KeyEncoder row_enc;  // whole rows of this side (encode input, decode state rows)
  HashTable table;     // key -> payload u64: ref + 1 of the list head (0 = empty)
  RowArena arena;
  std::vector<uint8_t> null_row;
  std::vector<const Column*> key_cols;
  std::vector<const Column*> all_cols;
  std::vector<Column*> decode_out;
};

std::string_view JoinTypeName(JoinType t) {
  switch (t) {
    case JoinType::kInner: return "inner";
    case JoinType::kLeft: return "left";
    case JoinType::kRight: return "right";
    case JoinType::kFull: return "full";
    case JoinType::kLeftSemi: return "semi";
    case JoinType::kLeftAnti: return "anti";
  }
  return "?";
}

// ---- construction -----------------------------------------------------------------------------

Result<std::unique_ptr<HashJoinOperator>> HashJoinOperator::Make(HashJoinOptions o) {
  if (!o.left_schema || !o.right_schema) return InvalidArgument("hash join: missing input schema");
  if (o.left_keys.empty() || o.left_keys.size() != o.right_keys.size()) {
    return InvalidArgument("hash join: {} left and {} right key columns", o.left_keys.size(),
                           o.right_keys.size());
  }
  for (size_t k = 0; k < o.left_keys.size(); ++k) {
    const int l = o.left_keys[k], r = o.right_keys[k];
    if (l < 0 || static_cast<size_t>(l) >= o.left_schema->num_fields() || r < 0 ||
        static_cast<size_t>(r) >= o.right_schema->num_fields()) {
      return InvalidArgument("hash join: key {} column index out of range", k);
    }
    const DataType lt = o.left_schema->field(static_cast<size_t>(l)).type;
    const DataType rt = o.right_schema->field(static_cast<size_t>(r)).type;
    if (!(lt == rt)) {
      return InvalidArgument("hash join: key {} types differ ({} vs {})", k, lt.ToString(),
                             rt.ToString());
    }
  }
  for (int s = 0; s < 2; ++s) {
    const HashJoinOptions::Expiry& e = s == 0 ? o.left_expiry : o.right_expiry;
    if (e.column < 0) continue;
    const SchemaPtr& schema = s == 0 ? o.left_schema : o.right_schema;
    if (static_cast<size_t>(e.column) >= schema->num_fields() ||
        schema->field(static_cast<size_t>(e.column)).type.id != TypeId::kTimestamp) {
      return InvalidArgument("hash join: {} expiry column must be a TIMESTAMP column", s == 0 ? "left" : "right");
    }
    if (!(s == 0 ? o.left_append_only : o.right_append_only)) {
      return InvalidArgument("hash join: state expiry needs an append-only {} input", s == 0 ? "left" : "right");
    }
  }
  if (o.lookup && o.type != JoinType::kInner && o.type != JoinType::kLeft) {
    return InvalidArgument("hash join: a lookup join must be inner or left");
  }
  if (o.lookup && (o.left_expiry.column >= 0 || o.right_expiry.column >= 0)) {
    return InvalidArgument("hash join: a lookup join has no state expiry");
  }
  if (o.residual && o.residual->type.id != TypeId::kBoolean) {
    return InvalidArgument("hash join: residual predicate must be BOOLEAN, not {}",
                           o.residual->type.ToString());
  }
  return std::unique_ptr<HashJoinOperator>(new HashJoinOperator(std::move(o)));
}

HashJoinOperator::HashJoinOperator(HashJoinOptions options) : opt_(std::move(options)) {
  const bool left_outer = opt_.type == JoinType::kLeft || opt_.type == JoinType::kFull;
  const bool right_outer = opt_.type == JoinType::kRight || opt_.type == JoinType::kFull;
  const bool anti = opt_.type == JoinType::kLeftAnti;
  semi_anti_ = opt_.type == JoinType::kLeftSemi || anti;
  std::vector<Field> fields;
  std::vector<DataType> key_types, left_types, right_types;
  for (const Field& f : opt_.left_schema->fields()) {
    fields.push_back(Field{f.name, f.type, f.nullable || right_outer});
    left_types.push_back(f.type);
  }
  for (const Field& f : opt_.right_schema->fields()) {
    fields.push_back(Field{f.name, f.type, f.nullable || left_outer});
    right_types.push_back(f.type);
  }
  for (int k : opt_.left_keys) key_types.push_back(opt_.left_schema->field(static_cast<size_t>(k)).type);
  pair_schema_ = std::make_shared<Schema>(std::move(fields));
  out_schema_ = semi_anti_ ? opt_.left_schema : pair_schema_;
  output_append_only_ = (opt_.type == JoinType::kInner || opt_.type == JoinType::kLeftSemi) &&
                        opt_.left_append_only && opt_.right_append_only;
  if (opt_.lookup) {
    output_append_only_ = opt_.left_append_only;
    opt_.right_watermark_ignored = true;  // the looked-up side is read as of processing time
  }
  // Degrees: outer sides (NULL rows) and the semi / anti left side (visibility). NULL-key rows
  // are kept where they can be output: outer sides and the anti left side.
  sides_[0] = std::make_unique<Side>(opt_.left_schema, opt_.left_keys, left_outer,
                                     left_outer || semi_anti_, left_outer || anti,
                                     opt_.left_append_only, opt_.left_expiry, key_types, left_types);
  sides_[1] = std::make_unique<Side>(opt_.right_schema, opt_.right_keys, right_outer, right_outer,
                                     right_outer, opt_.right_append_only, opt_.right_expiry, key_types,
                                     right_types);
  ports_[0] = std::make_unique<JoinSideInput<HashJoinOperator>>(this, 0, "HashJoin");
  ports_[1] = std::make_unique<JoinSideInput<HashJoinOperator>>(this, 1, "HashJoin");
  if (opt_.residual) residual_ = std::make_unique<ExprEvaluator>(opt_.residual);
  out_.set_schema(out_schema_);
  candidates_.set_schema(pair_schema_);
}

HashJoinOperator::~HashJoinOperator() = default;

size_t HashJoinOperator::state_bytes() const {
  size_t b = 0;
  for (const auto& s : sides_) b += s->table.MemoryBytes() + s->arena.MemoryBytes();
  return b;
}

size_t HashJoinOperator::state_rows() const {
  return sides_[0]->arena.live_records() + sides_[1]->arena.live_records();
}

Status HashJoinOperator::Push(const RecordBatch&) {
  return Internal("HashJoinOperator: push into left_input() or right_input()");
}

std::string HashJoinOperator::Describe() const {
  std::string s = fmt::format("{} {} on", opt_.lookup ? "LookupJoin" : "HashJoin", JoinTypeName(opt_.type));
  for (size_t k = 0; k < opt_.left_keys.size(); ++k) {
    s += fmt::format("{} left.{} = right.{}", k ? "," : "",
                     opt_.left_schema->field(static_cast<size_t>(opt_.left_keys[k])).name,
                     opt_.right_schema->field(static_cast<size_t>(opt_.right_keys[k])).name);
  }
  if (opt_.residual) s += " residual " + opt_.residual->ToString();
  for (int side = 0; side < 2; ++side) {
    const HashJoinOptions::Expiry& e = side == 0 ? opt_.left_expiry : opt_.right_expiry;
    if (e.column < 0) continue;
    const SchemaPtr& schema = side == 0 ? opt_.left_schema : opt_.right_schema;
    s += fmt::format(" {}_state_expires=[{}.{}{}{}us < {} watermark]", side == 0 ? "left" : "right",
                     side == 0 ? "left" : "right", schema->field(static_cast<size_t>(e.column)).name,
                     e.offset_us < 0 ? "-" : "+", e.offset_us < 0 ? -e.offset_us : e.offset_us,
                     side == 0 ? "right" : "left");
  }
  return s;
}

// ---- checkpoints --------------------------------------------------------------------------------

Status HashJoinOperator::SnapshotState(StateWriter* w) const {
  w->Begin("hash_join");
  for (int s = 0; s < 2; ++s) {
    w->Bool(finished_[s]);
    w->I64(ports_[s]->watermark_us());
  }
  w->I64(deletes_unmatched_);
  w->I64(rows_expired_);
  for (int s = 0; s < 2; ++s) {
    const Side& S = *sides_[s];
    w->Begin(s == 0 ? "left" : "right");
    S.table.Snapshot(w);
    S.arena.Snapshot(w);
    w->PodVector(S.expiry_heap);
    w->I64(S.expired_pending);
    w->End();
  }
  w->End();
  return Status::OK();
}

Status HashJoinOperator::RestoreState(StateReader* r) {
  if (state_rows() != 0) return Internal("hash join: RestoreState on an operator that has state");
  r->Begin("hash_join");
  int64_t wm[2];
  for (int s = 0; s < 2; ++s) {
    finished_[s] = r->Bool();
    wm[s] = r->I64();
  }
  deletes_unmatched_ = r->I64();
  rows_expired_ = r->I64();
  if (!r->ok()) return r->status();
  for (int s = 0; s < 2; ++s) {
    ports_[s]->RestoreWatermark(wm[s]);
    Side& S = *sides_[s];
    r->Begin(s == 0 ? "left" : "right");
    WEIR_RETURN_IF_ERROR(S.table.Restore(r));
    WEIR_RETURN_IF_ERROR(S.arena.Restore(r));
    S.expiry_heap = r->PodVector<int64_t>();
    S.expired_pending = r->I64();
    r->End();
    if (!r->ok()) return r->status();
    if (!std::is_heap(S.expiry_heap.begin(), S.expiry_heap.end(), std::greater<>()) || S.expired_pending < 0 ||
        (S.expiry.column < 0 && !S.expiry_heap.empty())) {
      r->Fail("hash join: invalid expiry heap");
      return r->status();
    }
    // Every key list: in-bounds records with a positive multiplicity, acyclic, and together
    // exactly the arena's live records.
    size_t linked = 0;
    const size_t live = S.arena.live_records();
    bool bad = false;
    S.table.ForEach([&](const uint8_t*, uint32_t, uint8_t* payload) {
      if (bad) return;
      uint64_t next = LoadU64(payload);
      if (next == 0) bad = true;
      while (next != 0) {
        // Validate before reading the record (a corrupt reference must not be dereferenced).
        if (!S.arena.ValidRecord(next - 1) || Mult(S.arena.At(next - 1)) <= 0 || ++linked > live) {
          bad = true;
          break;
        }
        next = LoadU64(S.arena.At(next - 1) + kNextOff);
      }
    });
    if (bad || linked != live) {
      r->Fail(fmt::format("hash join: {} side key lists do not match the row arena", s == 0 ? "left" : "right"));
      return r->status();
    }
  }
  r->End();
  return r->status();
}

// ---- watermarks and finish --------------------------------------------------------------------

int64_t HashJoinOperator::SideWatermarkOf(int s) const {
  return finished_[s] ? kFinalWatermark : ports_[s]->watermark_us();
}

void HashJoinOperator::KeepRow(int a, uint8_t* head, const uint8_t* row, uint32_t len,
                               int64_t degree, int64_t i) {
  Side& A = *sides_[a];
  if (A.expiry.column < 0) {
    A.Keep(head, row, len, degree, INT64_MAX);
    return;
  }
  const int64_t expires = expiry_[static_cast<size_t>(i)];
  if (expires < SideWatermarkOf(1 - a)) {  // no later row of the other side can match it
    ++rows_expired_;
    return;
  }
  A.Keep(head, row, len, degree, expires);
}

void HashJoinOperator::ExpireSide(int s) {
  Side& S = *sides_[s];
  if (S.expiry.column < 0) return;
  const int64_t wm = SideWatermarkOf(1 - s);
  if (wm == kNoWatermark) return;
  auto& heap = S.expiry_heap;
  while (!heap.empty() && heap.front() < wm) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<>());
    heap.pop_back();
    ++S.expired_pending;
  }
  if (S.expired_pending == 0) return;
  const int64_t live = static_cast<int64_t>(S.arena.live_records());
  if (S.expired_pending * 2 < live && wm != kFinalWatermark) return;
  // One sweep: unlink and free every expired record; erase keys left without records.
  int64_t freed = 0;
  S.table.EraseIf([&](const uint8_t*, uint32_t, uint8_t* payload) {
    uint64_t prev = RowArena::kNil;
    uint64_t ref = LoadU64(payload) - 1;
    while (ref != RowArena::kNil) {
      uint8_t* rec = S.arena.At(ref);
      const uint64_t next = NextRef(rec);
      if (Expiry(rec) < wm) {
        StoreU64(prev == RowArena::kNil ? payload : S.arena.At(prev) + kNextOff, next + 1);
        S.arena.Free(ref);
        ++freed;
      } else {
        prev = ref;
      }
      ref = next;
    }
    return LoadU64(payload) == 0;
  });
  WEIR_DCHECK(freed == S.expired_pending);
  rows_expired_ += freed;
  S.expired_pending = 0;
}

Status HashJoinOperator::SideWatermark() {
  ExpireSide(0);
  ExpireSide(1);
  int64_t wm = kFinalWatermark;
  bool any = false;
  for (int s = 0; s < 2; ++s) {
    const bool ignored = s == 0 ? opt_.left_watermark_ignored : opt_.right_watermark_ignored;
    if (ignored && !finished_[s]) continue;
    any = true;
    wm = std::min(wm, finished_[s] ? kFinalWatermark : ports_[s]->watermark_us());
  }
  if (!any || wm == kNoWatermark) return Status::OK();
  return PushWatermark(wm);  // ignores values that do not advance
}

Status HashJoinOperator::SideFinish(int side) {
  if (finished_[side]) return Status::OK();
  finished_[side] = true;
  if (opt_.lookup ? !finished_[0] : !(finished_[0] && finished_[1])) return SideWatermark();
  return Finish();
}

Status HashJoinOperator::Finish() {
  WEIR_RETURN_IF_ERROR(FlushOutput());
  WEIR_RETURN_IF_ERROR(SideWatermark());
  return output_ ? output_->Finish() : Status::OK();
}

// ---- the hot path -----------------------------------------------------------------------------

Status HashJoinOperator::PushSide(int a, const RecordBatch& batch) {
  Side& A = *sides_[a];
  Side& B = *sides_[1 - a];
  const int64_t n = batch.num_rows();
  if (n == 0) return Status::OK();
  const Op* ops = batch.ops();
  if (ops && A.append_only) {
    for (int64_t i = 0; i < n; ++i) {
      if (ops[i] == Op::kDelete) {
        return InvalidArgument("hash join: {} input declared append-only carried a delete",
                               a == 0 ? "left" : "right");
      }
    }
  }
  const size_t un = static_cast<size_t>(n);
  if (hashes_.size() < un) {
    hashes_.resize(un);
    key_null_.resize(un);
    probe_payloads_.resize(un);
    own_payloads_.resize(un);
    row_pair_end_.resize(un);
  }

  // Keys: encode and hash column-wise; flag rows with a NULL key (they match nothing).
  std::fill(key_null_.begin(), key_null_.begin() + n, uint8_t{0});
  for (size_t k = 0; k < A.keys.size(); ++k) {
    const Column& c = *batch.column(static_cast<size_t>(A.keys[k]));
    A.key_cols[k] = &c;
    HashColumn(c, n, k > 0, hashes_.data());
    if (c.has_validity()) {
      for (int64_t i = 0; i < n; ++i) key_null_[static_cast<size_t>(i)] |= c.IsNull(i) ? 1 : 0;
    }
  }
  A.key_enc.Encode(A.key_cols, n);
  for (size_t c = 0; c < A.all_cols.size(); ++c) A.all_cols[c] = batch.column(c).get();
  A.row_enc.Encode(A.all_cols, n);

  // Probe the other side (its state does not change during this batch, so the pointers stay
  // valid), then find-or-insert every key on this side (one reservation: pointers valid together).
  B.table.FindBatch(A.key_enc, hashes_.data(), n, probe_payloads_.data());
  for (int64_t i = 0; i < n; ++i) {
    if (key_null_[static_cast<size_t>(i)]) probe_payloads_[static_cast<size_t>(i)] = nullptr;
  }
  const bool lookup_probe = opt_.lookup && a == 0;  // probe only: the row is not kept
  if (!lookup_probe) A.table.FindOrInsertBatch(A.key_enc, hashes_.data(), n, own_payloads_.data(), nullptr);

  // Expiry time of each row (sides with trimming); a row already expired is not kept.
  if (A.expiry.column >= 0) {
    if (expiry_.size() < un) expiry_.resize(un);
    const Column& t = *batch.column(static_cast<size_t>(A.expiry.column));
    if (t.is_constant()) {
      const int64_t v = t.IsValid(0) ? t.Get<int64_t>(0) + A.expiry.offset_us : INT64_MAX;
      std::fill(expiry_.begin(), expiry_.begin() + n, v);
    } else {
      const int64_t* tv = t.data<int64_t>();
      for (int64_t i = 0; i < n; ++i) expiry_[static_cast<size_t>(i)] = tv[i] + A.expiry.offset_us;
      if (t.has_validity()) {
        for (int64_t i = 0; i < n; ++i)
          if (t.IsNull(i)) expiry_[static_cast<size_t>(i)] = INT64_MAX;
      }
    }
  }

  for (int64_t i0 = 0; i0 < n;) {
    // Candidate pairs for rows [i0, i1): at least one row, about kPairsChunkRows pairs.
    pair_row_.clear();
    pair_ref_.clear();
    int64_t i1 = i0;
    while (i1 < n && (i1 == i0 || static_cast<int64_t>(pair_row_.size()) < kPairsChunkRows)) {
      const uint8_t* payload = probe_payloads_[static_cast<size_t>(i1)];
      if (payload) {
        for (uint64_t ref = LoadU64(payload) - 1; ref != RowArena::kNil;
             ref = NextRef(B.arena.At(ref))) {
          pair_row_.push_back(static_cast<uint32_t>(i1));
          pair_ref_.push_back(ref);
        }
      }
      row_pair_end_[static_cast<size_t>(i1)] = static_cast<int64_t>(pair_row_.size());
      ++i1;
    }
    WEIR_RETURN_IF_ERROR(EvaluateResidual(a, batch));
    WEIR_RETURN_IF_ERROR(ProcessChunk(a, batch, i0, i1));
    i0 = i1;
  }

  // Erase the keys whose lists are now empty (deletes, or rows that were not kept). Collect
  // first: an erase moves entries and invalidates the payload pointers.
  emptied_rows_.clear();
  for (int64_t i = 0; i < (lookup_probe ? 0 : n); ++i) {
    if (LoadU64(own_payloads_[static_cast<size_t>(i)]) == 0) emptied_rows_.push_back(i);
  }
  for (int64_t i : emptied_rows_) {
    A.table.Erase(A.key_enc.key(i), A.key_enc.key_len(i), hashes_[static_cast<size_t>(i)]);
  }

  WEIR_RETURN_IF_ERROR(FlushOutput());
  if (opt_.state_size_max_bytes != 0 && state_bytes() > opt_.state_size_max_bytes) {
    return ResourceExhausted("join state exceeds state_size_max_bytes ({} bytes)",
                             opt_.state_size_max_bytes);
  }
  return Status::OK();
}

Status HashJoinOperator::EvaluateResidual(int a, const RecordBatch& batch) {
  const size_t pairs = pair_row_.size();
  if (pair_pass_.size() < pairs) pair_pass_.resize(pairs);
  if (!residual_ || pairs == 0) {
    std::fill(pair_pass_.begin(), pair_pass_.begin() + static_cast<int64_t>(pairs), uint8_t{1});
    return Status::OK();
  }
  Side& A = *sides_[a];
  Side& B = *sides_[1 - a];
  const size_t left_cols = sides_[0]->schema->num_fields();
  const size_t a_base = a == 0 ? 0 : left_cols;
  const size_t b_base = a == 0 ? left_cols : 0;
  auto& cols = candidates_.columns();
  cols.resize(pair_schema_->num_fields());
  for (size_t c = 0; c < A.all_cols.size(); ++c) {
    const Column& src = *batch.column(c);
    ReuseColumn(&cols[a_base + c], src.type())->Gather(src, pair_row_.data(),
                                                        static_cast<int64_t>(pairs));
  }
  if (decode_ptrs_.size() < pairs) {
    decode_ptrs_.resize(pairs);
    decode_lens_.resize(pairs);
  }
  for (size_t k = 0; k < pairs; ++k) {
    const uint8_t* rec = B.arena.At(pair_ref_[k]);
    decode_ptrs_[k] = RowBytes(rec);
    decode_lens_[k] = RowLen(rec);
  }
  for (size_t c = 0; c < B.decode_out.size(); ++c) {
    B.decode_out[c] = ReuseColumn(&cols[b_base + c], B.schema->field(c).type);
  }
  B.row_enc.DecodeBatch(decode_ptrs_.data(), decode_lens_.data(), static_cast<int64_t>(pairs),
                        B.decode_out);
  candidates_.set_num_rows(static_cast<int64_t>(pairs));
  WEIR_ASSIGN_OR_RETURN(const ColumnPtr* result, residual_->Evaluate(candidates_));
  const Column& mask = **result;
  if (mask.is_constant()) {
    const uint8_t pass = mask.IsValid(0) && mask.Get<uint8_t>(0) ? 1 : 0;
    std::fill(pair_pass_.begin(), pair_pass_.begin() + static_cast<int64_t>(pairs), pass);
  } else {
    const uint8_t* v = mask.data<uint8_t>();
    const uint8_t* valid = mask.validity();
    for (size_t k = 0; k < pairs; ++k) {
      pair_pass_[k] = (v[k] != 0) & (valid ? GetBit(valid, static_cast<int64_t>(k)) : true);
    }
  }
  return Status::OK();
}

void HashJoinOperator::EmitRow(int a, Op op, const uint8_t* a_row, uint32_t a_len,
                               const uint8_t* b_row, uint32_t b_len, int64_t times) {
  const Emit e = a == 0 ? Emit{a_row, b_row, a_len, b_len, op} : Emit{b_row, a_row, b_len, a_len, op};
  for (int64_t t = 0; t < times; ++t) emits_.push_back(e);
}

Status HashJoinOperator::ProcessChunk(int a, const RecordBatch& batch, int64_t i0, int64_t i1) {
  if (semi_anti_) return ProcessSemiAntiChunk(a, batch, i0, i1);
  if (opt_.lookup) return ProcessLookupChunk(a, batch, i0, i1);
  Side& A = *sides_[a];
  Side& B = *sides_[1 - a];
  const Op* ops = batch.ops();
  const uint8_t* b_null = B.null_row.data();
  const uint32_t b_null_len = static_cast<uint32_t>(B.null_row.size());
  int64_t k = 0;  // pair index
  for (int64_t i = i0; i < i1; ++i) {
    const size_t ui = static_cast<size_t>(i);
    const int64_t k_end = row_pair_end_[ui];
    if (key_null_[ui] && !A.keep_null_keys) {  // matches nothing, emits nothing, not kept
      k = k_end;
      continue;
    }
    const uint8_t* row = A.row_enc.key(i);
    const uint32_t len = A.row_enc.key_len(i);
    uint8_t* head = own_payloads_[ui];
    if (!ops || ops[i] == Op::kInsert) {
      int64_t matches = 0;
      for (; k < k_end; ++k) {
        if (!pair_pass_[static_cast<size_t>(k)]) continue;
        uint8_t* rec = B.arena.At(pair_ref_[static_cast<size_t>(k)]);
        const int64_t mult = Mult(rec);
        if (B.outer) {
          const int64_t degree = Degree(rec);
          if (degree == 0) EmitRow(a, Op::kDelete, A.null_row.data(),
                                   static_cast<uint32_t>(A.null_row.size()), RowBytes(rec),
                                   RowLen(rec), mult);
          StoreI64(rec + kDegreeOff, degree + 1);
        }
        EmitRow(a, Op::kInsert, row, len, RowBytes(rec), RowLen(rec), mult);
        matches += mult;
      }
      if (A.outer && matches == 0) EmitRow(a, Op::kInsert, row, len, b_null, b_null_len, 1);
      KeepRow(a, head, row, len, matches, i);
    } else {
      // Delete: find the row in this side's state; a delete of an absent row is ignored.
      uint64_t prev;
      const uint64_t ref = A.Find(head, row, len, &prev);
      if (ref == RowArena::kNil) {
        ++deletes_unmatched_;
        k = k_end;
        continue;
      }
      int64_t matches = 0;
      for (; k < k_end; ++k) {
        if (!pair_pass_[static_cast<size_t>(k)]) continue;
        uint8_t* rec = B.arena.At(pair_ref_[static_cast<size_t>(k)]);
        const int64_t mult = Mult(rec);
        EmitRow(a, Op::kDelete, row, len, RowBytes(rec), RowLen(rec), mult);
        if (B.outer) {
          const int64_t degree = Degree(rec) - 1;
          WEIR_DCHECK(degree >= 0);
          StoreI64(rec + kDegreeOff, degree);
          if (degree == 0) EmitRow(a, Op::kInsert, A.null_row.data(),
                                   static_cast<uint32_t>(A.null_row.size()), RowBytes(rec),
                                   RowLen(rec), mult);
        }
        matches += mult;
      }
      if (A.outer && matches == 0) EmitRow(a, Op::kDelete, row, len, b_null, b_null_len, 1);
      WEIR_DCHECK(!A.track_degree || Degree(A.arena.At(ref)) == matches);
      A.Drop(head, ref, prev);
    }
    if (static_cast<int64_t>(emits_.size()) >= kOutputBatchRows) {
      WEIR_RETURN_IF_ERROR(FlushOutput());
    }
  }
  return Status::OK();
}

// Lookup join: a left row emits its matches against the table now (a left delete retracts what
// the same row would emit now); a right row only updates the table.
Status HashJoinOperator::ProcessLookupChunk(int a, const RecordBatch& batch, int64_t i0, int64_t i1) {
  Side& A = *sides_[a];
  Side& B = *sides_[1 - a];
  const Op* ops = batch.ops();
  int64_t k = 0;  // pair index
  for (int64_t i = i0; i < i1; ++i) {
    const size_t ui = static_cast<size_t>(i);
    const int64_t k_end = row_pair_end_[ui];
    const bool insert = !ops || ops[i] == Op::kInsert;
    const uint8_t* row = A.row_enc.key(i);
    const uint32_t len = A.row_enc.key_len(i);
    if (a == 1) {  // table change
      k = k_end;
      if (key_null_[ui]) continue;  // can never match
      uint8_t* head = own_payloads_[ui];
      if (insert) {
        A.Keep(head, row, len, 0, INT64_MAX);
      } else {
        uint64_t prev;
        const uint64_t ref = A.Find(head, row, len, &prev);
        if (ref == RowArena::kNil) ++deletes_unmatched_;
        else A.Drop(head, ref, prev);
      }
      continue;
    }
    const Op op = insert ? Op::kInsert : Op::kDelete;
    int64_t matches = 0;
    for (; k < k_end; ++k) {
      if (!pair_pass_[static_cast<size_t>(k)]) continue;
      const uint8_t* rec = B.arena.At(pair_ref_[static_cast<size_t>(k)]);
      EmitRow(0, op, row, len, RowBytes(rec), RowLen(rec), Mult(rec));
      matches += Mult(rec);
    }
    if (A.outer && matches == 0) {
      EmitRow(0, op, row, len, B.null_row.data(), static_cast<uint32_t>(B.null_row.size()), 1);
    }
    if (static_cast<int64_t>(emits_.size()) >= kOutputBatchRows) {
      WEIR_RETURN_IF_ERROR(FlushOutput());
    }
  }
  return Status::OK();
}

// Semi / anti: only left rows are output, on visibility changes (semi: degree > 0; anti:
// degree == 0). Side A is the pushed side; pair_row_ / pair_ref_ hold (A row, B record) pairs.
Status HashJoinOperator::ProcessSemiAntiChunk(int a, const RecordBatch& batch, int64_t i0,
                                              int64_t i1) {
  Side& A = *sides_[a];
  Side& B = *sides_[1 - a];
  const bool anti = opt_.type == JoinType::kLeftAnti;
  const Op* ops = batch.ops();
  int64_t k = 0;  // pair index
  for (int64_t i = i0; i < i1; ++i) {
    const size_t ui = static_cast<size_t>(i);
    const int64_t k_end = row_pair_end_[ui];
    if (key_null_[ui] && !A.keep_null_keys) {  // never output, matches nothing: not kept
      k = k_end;
      continue;
    }
    const uint8_t* row = A.row_enc.key(i);
    const uint32_t len = A.row_enc.key_len(i);
    uint8_t* head = own_payloads_[ui];
    const bool insert = !ops || ops[i] == Op::kInsert;
    uint64_t prev = RowArena::kNil, ref = RowArena::kNil;
    if (!insert) {
      ref = A.Find(head, row, len, &prev);
      if (ref == RowArena::kNil) {  // delete of a row not in state: ignored
        ++deletes_unmatched_;
        k = k_end;
        continue;
      }
    }
    if (a == 0) {
      // A left row: its degree is the matching right rows' multiplicity; emitted iff visible.
      int64_t matches = 0;
      for (; k < k_end; ++k) {
        if (pair_pass_[static_cast<size_t>(k)]) {
          matches += Mult(B.arena.At(pair_ref_[static_cast<size_t>(k)]));
        }
      }
      if ((matches > 0) != anti) {
        emits_.push_back(Emit{row, nullptr, len, 0, insert ? Op::kInsert : Op::kDelete});
      }
      if (insert) {
        KeepRow(a, head, row, len, matches, i);
      } else {
        WEIR_DCHECK(Degree(A.arena.At(ref)) == matches);
        A.Drop(head, ref, prev);
      }
    } else {
      // A right row: every matching left record's degree moves by one; a 0 <-> 1 step flips
      // its visibility, emitted once per copy (semi: 0 -> 1 is `+`; anti: 0 -> 1 is `-`).
      const int64_t step = insert ? 1 : -1;
      for (; k < k_end; ++k) {
        if (!pair_pass_[static_cast<size_t>(k)]) continue;
        uint8_t* rec = B.arena.At(pair_ref_[static_cast<size_t>(k)]);
        const int64_t before = Degree(rec);
        const int64_t after = before + step;
        WEIR_DCHECK(after >= 0);
        StoreI64(rec + kDegreeOff, after);
        if (before != 0 && after != 0) continue;
        const Emit e{RowBytes(rec), nullptr, RowLen(rec), 0,
                     (after > 0) != anti ? Op::kInsert : Op::kDelete};
        for (int64_t t = Mult(rec); t > 0; --t) emits_.push_back(e);
      }
      if (insert) {
        KeepRow(a, head, row, len, 0, i);
      } else {
        A.Drop(head, ref, prev);
      }
    }
    if (static_cast<int64_t>(emits_.size()) >= kOutputBatchRows) {
      WEIR_RETURN_IF_ERROR(FlushOutput());
    }
  }
  return Status::OK();
}

Status HashJoinOperator::FlushOutput() {
  const int64_t total = static_cast<int64_t>(emits_.size());
  if (total == 0) return Status::OK();
  if (!output_) {
    emits_.clear();
    return Status::OK();
  }
  const size_t left_cols = sides_[0]->schema->num_fields();
  auto& cols = out_.columns();
  for (int64_t start = 0; start < total; start += kOutputBatchRows) {
    const int64_t m = std::min(kOutputBatchRows, total - start);
    const size_t um = static_cast<size_t>(m);
    cols.resize(out_schema_->num_fields());
    if (out_ptrs_.size() < um) {
      out_ptrs_.resize(um);
      out_lens_.resize(um);
    }
    for (int s = 0; s < (semi_anti_ ? 1 : 2); ++s) {  // semi / anti: left columns only
      Side& side = *sides_[s];
      const size_t base = s == 0 ? 0 : left_cols;
      for (size_t j = 0; j < um; ++j) {
        const Emit& e = emits_[static_cast<size_t>(start) + j];
        out_ptrs_[j] = s == 0 ? e.left : e.right;
        out_lens_[j] = s == 0 ? e.left_len : e.right_len;
      }
      for (size_t c = 0; c < side.decode_out.size(); ++c) {
        side.decode_out[c] = ReuseColumn(&cols[base + c], side.schema->field(c).type);
      }
      side.row_enc.DecodeBatch(out_ptrs_.data(), out_lens_.data(), m, side.decode_out);
    }
    out_.set_num_rows(m);
    if (output_append_only_) {
      out_.DisableOps();
    } else {
      Op* ops = out_.EnableOps();
      for (size_t j = 0; j < um; ++j) ops[j] = emits_[static_cast<size_t>(start) + j].op;
    }
    Status st = output_->Push(out_);
    if (!st.ok()) {
      emits_.clear();
      return st;
    }
  }
  emits_.clear();
  return Status::OK();
}

}  // namespace weir
