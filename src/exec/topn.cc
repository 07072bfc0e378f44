#include "exec/topn.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "common/coding.h"
#include "state/hash.h"

namespace weir {

namespace {

/// Arrival number appended to every sort key (big-endian, so bytes order like the number).
constexpr uint32_t kSeqBytes = 8;

// Payload fields (see the contract's state layout).
constexpr size_t kCountOff = 0;   // rows in the partition (u32)
constexpr size_t kSnapOff = 4;    // batch number of the partition's snapshot (u32), 0 = none
constexpr size_t kCapOff = 8;     // append-only, N > 1: block capacity in refs (u32)
constexpr size_t kDedupRefOff = 0;  // append-only, N = 1: the row's record, 0 = none (the whole
                                    // payload; the snapshot mark lives in the record)
constexpr size_t kBlockOff = 16;  // append-only, N > 1: the sorted ref block
constexpr size_t kRootOff = 8;    // retracting: treap root
constexpr size_t kNthOff = 16;    // retracting: the N-th row, 0 if fewer than N rows

constexpr uint32_t kSmallClasses = 128;  // records of 8..1024 bytes, 8-byte steps
constexpr uint32_t kClassesMax = kSmallClasses + 22;  // then powers of two up to 2^31

std::string_view View(const uint8_t* p, uint32_t n) {
  return {reinterpret_cast<const char*>(p), n};
}

void StoreBigEndian64(uint8_t* p, uint64_t v) {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}

/// Bytes of the order-preserving image of one non-NULL value of `type` (VARCHAR: variable).
int SortWidth(TypeId id) {
  switch (id) {
    case TypeId::kNull: return 0;
    case TypeId::kBoolean: return 1;
    case TypeId::kInt32: return 4;
    case TypeId::kInt64:
    case TypeId::kDecimal:
    case TypeId::kTimestamp:
    case TypeId::kDouble:
    case TypeId::kInterval: return 8;
    case TypeId::kVarchar: return -1;
  }
  return 0;
}

/// Writes, for each row, the NULL flag and the order-preserving big-endian image of `get(i)`
/// (the low kWidth bytes), inverted when `invert` is 0xFF; NULLs get zero value bytes.
template <int kWidth, typename Get>
void EncodeFixed(const Column& c, int64_t n, uint8_t null_flag, uint8_t valid_flag, uint8_t invert,
                 uint8_t* base, const uint32_t* begin, uint32_t* len, Get get) {
  const uint64_t inv = invert ? ~uint64_t{0} : 0;
  for (int64_t i = 0; i < n; ++i) {
    uint8_t* p = base + begin[i] + len[i];
    const bool valid = c.IsValid(i);
    p[0] = valid ? valid_flag : null_flag;
    uint64_t v = valid ? (get(i) ^ inv) : 0;
    if constexpr (kWidth == 8) {
      v = __builtin_bswap64(v);
      std::memcpy(p + 1, &v, 8);
    } else if constexpr (kWidth == 4) {
      const uint32_t w = __builtin_bswap32(static_cast<uint32_t>(v));
      std::memcpy(p + 1, &w, 4);
    } else {
      p[1] = static_cast<uint8_t>(v);
    }
    len[i] += 1 + kWidth;
  }
}

}  // namespace

// ---- RecordArena ----------------------------------------------------------------------------

uint32_t RecordArena::ClassOf(uint32_t bytes) {
  if (bytes <= 1024) return (bytes + 7) / 8 - 1;
  return kSmallClasses + static_cast<uint32_t>(std::bit_width(bytes - 1)) - 11;
}

size_t RecordArena::ClassBytes(uint32_t cls) {
  return cls < kSmallClasses ? size_t{cls + 1} * 8 : size_t{1} << (cls - kSmallClasses + 11);
}

uint64_t RecordArena::Allocate(uint32_t bytes) {
  WEIR_CHECK(bytes >= 1 && bytes <= kRecordBytesMax);
  const uint32_t cls = ClassOf(bytes);
  if (free_heads_.empty()) free_heads_.assign(kClassesMax, 0);
  if (free_heads_[cls] != 0) {
    const uint64_t ref = free_heads_[cls];
    free_heads_[cls] = LoadU64(At(ref));
    return ref;
  }
  const size_t size = ClassBytes(cls);
  if (chunks_.empty() || used_in_last_ + size > last_chunk_bytes_) {
    size_t chunk = chunks_.empty() ? kFirstChunkBytes : std::min(last_chunk_bytes_ * 2, kChunkBytesMax);
    chunk = std::max(chunk, size + 8);
    WEIR_CHECK(chunks_.size() < (size_t{1} << 31));
    // Zeroed: slack after records is written to checkpoints, which must be deterministic.
    chunks_.push_back(std::make_unique<uint8_t[]>(chunk));
    chunk_sizes_.push_back(chunk);
    last_chunk_bytes_ = chunk;
    chunk_bytes_ += chunk;
    used_in_last_ = 8;  // offset 0 is never handed out, so no reference is 0
  }
  const uint64_t ref = (uint64_t{chunks_.size() - 1} << 32) | used_in_last_;
  used_in_last_ += size;
  return ref;
}

void RecordArena::Free(uint64_t ref, uint32_t bytes) {
  const uint32_t cls = ClassOf(bytes);
  StoreU64(At(ref), free_heads_[cls]);
  free_heads_[cls] = ref;
}

void RecordArena::Snapshot(StateWriter* w) const {
  w->Begin("record_arena");
  w->U64(chunks_.size());
  for (size_t c = 0; c < chunks_.size(); ++c) {
    w->U64(chunk_sizes_[c]);
    w->Bytes(chunks_[c].get(), c + 1 == chunks_.size() ? used_in_last_ : chunk_sizes_[c]);
  }
  w->U64(used_in_last_);
  w->PodVector(free_heads_);
  w->End();
}

bool RecordArena::ValidRef(uint64_t ref, uint64_t bytes) const {
  const uint64_t c = ref >> 32, off = static_cast<uint32_t>(ref);
  if (c >= chunks_.size() || off < 8 || off % 8 != 0) return false;
  const size_t limit = c + 1 == chunks_.size() ? used_in_last_ : chunk_sizes_[c];
  return bytes <= limit && off <= limit - bytes;
}

Status RecordArena::Restore(StateReader* r) {
  if (!chunks_.empty()) return Internal("RecordArena::Restore into a non-empty arena");
  r->Begin("record_arena");
  const uint64_t n = r->U64();
  if (!r->ok()) return r->status();
  if (n > r->remaining() / 16) {
    r->Fail("record arena: chunk count exceeds the snapshot");
    return r->status();
  }
  for (uint64_t c = 0; c < n && r->ok(); ++c) {
    const uint64_t bytes = r->U64();
    std::string_view data = r->Bytes();
    if (!r->ok()) break;
    if (bytes < 8 || bytes > (uint64_t{1} << 32) || data.size() > bytes || (c + 1 < n && data.size() != bytes) ||
        bytes > std::max<uint64_t>(kChunkBytesMax, data.size() + 8)) {
      r->Fail("record arena: invalid chunk size");
      break;
    }
    chunks_.push_back(std::make_unique_for_overwrite<uint8_t[]>(bytes));
    chunk_sizes_.push_back(bytes);
    if (!data.empty()) std::memcpy(chunks_.back().get(), data.data(), data.size());
    chunk_bytes_ += bytes;
    last_chunk_bytes_ = bytes;
    used_in_last_ = data.size();
  }
  const uint64_t used = r->U64();
  free_heads_ = r->PodVector<uint64_t>();
  r->End();
  if (r->ok() && (used != used_in_last_ || (!chunks_.empty() && used < 8) ||
                  (!free_heads_.empty() && free_heads_.size() != kClassesMax))) {
    r->Fail("record arena: invalid cursor or free lists");
  }
  const uint64_t steps_max = chunk_bytes_ / 8 + 1;
  uint64_t steps = 0;
  for (uint32_t cls = 0; r->ok() && cls < free_heads_.size(); ++cls) {
    for (uint64_t ref = free_heads_[cls]; ref != 0; ref = LoadU64(At(ref))) {
      if (!ValidRef(ref, ClassBytes(cls)) || ++steps > steps_max) {
        r->Fail("record arena: invalid free list");
        break;
      }
    }
  }
  if (!r->ok()) {
    chunks_.clear();
    chunk_sizes_.clear();
    free_heads_.clear();
    chunk_bytes_ = last_chunk_bytes_ = used_in_last_ = 0;
    return r->status();
  }
  return Status::OK();
}

// ---- TopNOperator -----------------------------------------------------------------------------

TopNOperator::~TopNOperator() = default;

Result<std::unique_ptr<TopNOperator>> TopNOperator::Make(TopNOptions options) {
  if (!options.input_schema) return InvalidArgument("TopN: no input schema");
  const Schema& in = *options.input_schema;
  const int ncols = static_cast<int>(in.num_fields());
  if (options.limit < 1) return InvalidArgument("TopN: limit must be >= 1, got {}", options.limit);
  if (options.order.empty()) return InvalidArgument("TopN: at least one ORDER BY key is required");
  for (int c : options.partition_columns)
    if (c < 0 || c >= ncols) return InvalidArgument("TopN: partition column {} out of range", c);
  for (const auto& k : options.order)
    if (k.column < 0 || k.column >= ncols) return InvalidArgument("TopN: order column {} out of range", k.column);

  std::unique_ptr<TopNOperator> op(new TopNOperator(std::move(options)));
  const TopNOptions& o = op->opt_;
  std::vector<Field> fields = in.fields();
  if (o.with_row_number) fields.push_back(Field{"row_number", DataType::Int64(), false});
  op->out_schema_ = std::make_shared<Schema>(std::move(fields));
  op->out_.set_schema(op->out_schema_);

  std::vector<DataType> part_types;
  for (int c : o.partition_columns) part_types.push_back(in.field(static_cast<size_t>(c)).type);
  if (part_types.empty()) {
    op->constant_key_ = std::make_shared<Column>(DataType::Boolean());
    op->constant_key_->Append<uint8_t>(1);
    op->constant_key_->MakeConstant(1);
    part_types.push_back(DataType::Boolean());
  }
  op->part_keys_ = std::make_unique<KeyEncoder>(part_types);
  op->dedup_ = o.input_append_only && o.limit == 1;
  op->table_ = HashTable(op->dedup_ ? 8 : 24, op->part_keys_->fixed_key_bytes());
  op->header_bytes_ = !o.input_append_only ? 16 : op->dedup_ ? 4 : 0;
  op->walk_stack_.reserve(256);
  std::vector<DataType> row_types;
  for (const Field& f : in.fields()) row_types.push_back(f.type);
  op->row_keys_ = std::make_unique<KeyEncoder>(row_types);

  std::string d = fmt::format("TopN limit={}", o.limit);
  if (!o.partition_columns.empty()) {
    d += " partition=[";
    for (size_t i = 0; i < o.partition_columns.size(); ++i)
      d += (i ? ", " : "") + in.field(static_cast<size_t>(o.partition_columns[i])).name;
    d += "]";
  }
  d += " order=[";
  for (size_t i = 0; i < o.order.size(); ++i) {
    const auto& k = o.order[i];
    d += (i ? ", " : "") + in.field(static_cast<size_t>(k.column)).name + (k.descending ? " DESC" : "") +
         (k.nulls_first ? " NULLS FIRST" : " NULLS LAST");
  }
  d += "]";
  if (o.with_row_number) d += " row_number";
  d += o.input_append_only ? " append_only" : " retract";
  op->description_ = std::move(d);
  return op;
}

std::string TopNOperator::Describe() const { return description_; }

size_t TopNOperator::state_bytes() const { return table_.MemoryBytes() + arena_.MemoryBytes(); }

// Normalized sort keys, column at a time: row i's key is written at sort_bytes_[sort_begin_[i]]
// and is sort_len_[i] bytes long (room is reserved for the worst case, so keys may have gaps).
void TopNOperator::EncodeSortKeys(const RecordBatch& batch, int64_t n) {
  const size_t sn = static_cast<size_t>(n);
  sort_begin_.resize(sn);
  sort_len_.assign(sn, 0);
  uint32_t fixed = kSeqBytes;
  std::vector<const Column*>& varchars = varchar_cols_;
  varchars.clear();
  for (const auto& k : opt_.order) {
    const Column* c = batch.column(static_cast<size_t>(k.column)).get();
    const int w = SortWidth(c->type().id);
    if (w < 0) {
      fixed += 3;  // flag + terminator
      varchars.push_back(c);
    } else {
      fixed += 1 + static_cast<uint32_t>(w);
    }
  }
  uint64_t total = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint64_t room = fixed;
    for (const Column* c : varchars) room += 2 * c->GetString(i).size();  // every byte escaped
    sort_begin_[static_cast<size_t>(i)] = static_cast<uint32_t>(total);
    total += room;
  }
  WEIR_CHECK(total < (uint64_t{1} << 32));
  if (sort_bytes_.size() < total) sort_bytes_.resize(static_cast<size_t>(total));
  uint8_t* base = sort_bytes_.data();
  const uint32_t* begin = sort_begin_.data();
  uint32_t* len = sort_len_.data();

  for (const auto& k : opt_.order) {
    const Column& c = *batch.column(static_cast<size_t>(k.column));
    const uint8_t null_flag = k.nulls_first ? 0 : 1;
    const uint8_t valid_flag = k.nulls_first ? 1 : 0;
    const uint8_t inv = k.descending ? 0xFF : 0;
    constexpr uint64_t kSign64 = uint64_t{1} << 63;
    switch (c.type().id) {
      case TypeId::kNull:
        for (int64_t i = 0; i < n; ++i) base[begin[i] + len[i]++] = null_flag;
        break;
      case TypeId::kBoolean:
        EncodeFixed<1>(c, n, null_flag, valid_flag, inv, base, begin, len,
                       [&](int64_t i) { return uint64_t{c.Get<uint8_t>(i) != 0}; });
        break;
      case TypeId::kInt32:
        EncodeFixed<4>(c, n, null_flag, valid_flag, inv, base, begin, len, [&](int64_t i) {
          return uint64_t{static_cast<uint32_t>(c.Get<int32_t>(i)) ^ 0x80000000u};
        });
        break;
      case TypeId::kInt64:
      case TypeId::kDecimal:
      case TypeId::kTimestamp:
        EncodeFixed<8>(c, n, null_flag, valid_flag, inv, base, begin, len,
                       [&](int64_t i) { return static_cast<uint64_t>(c.Get<int64_t>(i)) ^ kSign64; });
        break;
      case TypeId::kInterval:
        EncodeFixed<8>(c, n, null_flag, valid_flag, inv, base, begin, len, [&](int64_t i) {
          return static_cast<uint64_t>(c.Get<Interval>(i).NominalMicros()) ^ kSign64;
        });
        break;
      case TypeId::kDouble:
        // -0.0 = +0.0, one NaN above +inf (PostgreSQL order); negative numbers have every bit
        // flipped, non-negative ones the sign bit set, so unsigned order = numeric order.
        EncodeFixed<8>(c, n, null_flag, valid_flag, inv, base, begin, len, [&](int64_t i) {
          const uint64_t b = CanonicalDoubleBits(c.Get<double>(i));
          return (b & kSign64) ? ~b : (b | kSign64);
        });
        break;
      case TypeId::kVarchar:
        // Bytes with 0x00 escaped as 00 FF, terminated by 00 00: order-preserving and
        // prefix-free, so the following columns and the arrival number compare correctly.
        for (int64_t i = 0; i < n; ++i) {
          uint8_t* p = base + begin[i] + len[i];
          uint8_t* q = p;
          if (!c.IsValid(i)) {
            *q++ = null_flag;
          } else {
            *q++ = valid_flag;
            const std::string_view s = c.GetString(i);
            for (char ch : s) {
              const uint8_t b = static_cast<uint8_t>(ch);
              *q++ = b ^ inv;
              if (b == 0) *q++ = 0xFF ^ inv;
            }
            *q++ = inv;
            *q++ = inv;
          }
          len[i] += static_cast<uint32_t>(q - p);
        }
        break;
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    StoreBigEndian64(base + begin[i] + len[i], seq_ + static_cast<uint64_t>(i));
    len[i] += kSeqBytes;
  }
  seq_ += static_cast<uint64_t>(n);
}

// ---- records --------------------------------------------------------------------------------

TopNOperator::Ref TopNOperator::Rec(uint64_t ref) const {
  const uint8_t* p = arena_.At(ref) + header_bytes_;
  const uint32_t key_len = LoadU32(p), row_len = LoadU32(p + 4);
  return {p + 8, key_len, p + 8 + key_len, row_len};
}

std::string_view TopNOperator::KeyOf(uint64_t ref) const {
  const uint8_t* p = arena_.At(ref) + header_bytes_;
  return View(p + 8, LoadU32(p));
}

uint64_t TopNOperator::NewRecord(std::string_view key, std::string_view row) {
  WEIR_CHECK(key.size() + row.size() < RecordArena::kRecordBytesMax - 64);
  const uint32_t bytes = header_bytes_ + 8 + static_cast<uint32_t>(key.size() + row.size());
  const uint64_t ref = arena_.Allocate(bytes);
  uint8_t* p = arena_.At(ref);
  if (dedup_) {
    StoreU32(p, batch_no_);  // created in this batch: the partition's snapshot is taken
  } else if (header_bytes_) {
    std::memset(p, 0, header_bytes_);
  }
  p += header_bytes_;
  StoreU32(p, static_cast<uint32_t>(key.size()));
  StoreU32(p + 4, static_cast<uint32_t>(row.size()));
  std::memcpy(p + 8, key.data(), key.size());
  if (!row.empty()) std::memcpy(p + 8 + key.size(), row.data(), row.size());
  ++rows_;
  return ref;
}

void TopNOperator::FreeRecord(uint64_t ref) {
  const Ref r = Rec(ref);
  arena_.Free(ref, header_bytes_ + 8 + r.key_len + r.row_len);
  --rows_;
}

// ---- treap (retracting mode) ----------------------------------------------------------------

uint64_t& TopNOperator::Left(uint64_t ref) const {
  return *reinterpret_cast<uint64_t*>(arena_.At(ref));  // records are 8-aligned
}

uint64_t& TopNOperator::Right(uint64_t ref) const {
  return *reinterpret_cast<uint64_t*>(arena_.At(ref) + 8);
}

// A hash of the arrival number (the key's last 8 bytes; unique per record): the splitmix64
// finalizer is a bijection, so priorities never tie.
uint64_t TopNOperator::Priority(uint64_t ref) const {
  const std::string_view k = KeyOf(ref);
  uint64_t z = LoadU64(reinterpret_cast<const uint8_t*>(k.data()) + k.size() - kSeqBytes);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Recursion depth is the treap's depth: O(log k) expected (≈ 3 log2 k in practice).
uint64_t TopNOperator::TreapInsert(uint64_t t, uint64_t r, std::string_view key) {
  if (t == 0) return r;
  if (key < KeyOf(t)) {
    const uint64_t l = TreapInsert(Left(t), r, key);
    Left(t) = l;
    if (Priority(l) > Priority(t)) {  // rotate right
      Left(t) = Right(l);
      Right(l) = t;
      return l;
    }
  } else {
    const uint64_t g = TreapInsert(Right(t), r, key);
    Right(t) = g;
    if (Priority(g) > Priority(t)) {  // rotate left
      Right(t) = Left(g);
      Left(g) = t;
      return g;
    }
  }
  return t;
}

uint64_t TopNOperator::TreapMerge(uint64_t a, uint64_t b) {
  if (a == 0) return b;
  if (b == 0) return a;
  if (Priority(a) > Priority(b)) {
    const uint64_t m = TreapMerge(Right(a), b);
    Right(a) = m;
    return a;
  }
  const uint64_t m = TreapMerge(a, Left(b));
  Left(b) = m;
  return b;
}

// `key` must be present.
uint64_t TopNOperator::TreapErase(uint64_t t, std::string_view key) {
  WEIR_DCHECK(t != 0);
  const int c = key.compare(KeyOf(t));
  if (c < 0) {
    const uint64_t l = TreapErase(Left(t), key);
    Left(t) = l;
    return t;
  }
  if (c > 0) {
    const uint64_t g = TreapErase(Right(t), key);
    Right(t) = g;
    return t;
  }
  return TreapMerge(Left(t), Right(t));
}

uint64_t TopNOperator::TreapPredecessor(uint64_t t, std::string_view key) const {
  uint64_t best = 0;
  while (t != 0) {
    if (KeyOf(t) < key) {
      best = t;
      t = Right(t);
    } else {
      t = Left(t);
    }
  }
  return best;
}

uint64_t TopNOperator::TreapSuccessor(uint64_t t, std::string_view key) const {
  uint64_t best = 0;
  while (t != 0) {
    if (key < KeyOf(t)) {
      best = t;
      t = Left(t);
    } else {
      t = Right(t);
    }
  }
  return best;
}

template <typename F>
void TopNOperator::TreapWalk(uint64_t root, std::string_view from, F&& f) {
  walk_stack_.clear();
  for (uint64_t t = root; t != 0;) {
    if (KeyOf(t) < from) {
      t = Right(t);
    } else {
      walk_stack_.push_back(t);
      t = Left(t);
    }
  }
  while (!walk_stack_.empty()) {
    const uint64_t t = walk_stack_.back();
    walk_stack_.pop_back();
    if (!f(t)) return;
    for (uint64_t c = Right(t); c != 0; c = Left(c)) walk_stack_.push_back(c);
  }
}

// ---- partitions -----------------------------------------------------------------------------

void TopNOperator::CollectTop(const uint8_t* payload, std::vector<Ref>* out) {
  if (dedup_) {
    const uint64_t ref = LoadU64(payload + kDedupRefOff);
    if (ref != 0) out->push_back(Rec(ref));
    return;
  }
  const uint32_t count = LoadU32(payload + kCountOff);
  if (count == 0) return;
  const uint32_t limit = static_cast<uint32_t>(std::min<int64_t>(opt_.limit, UINT32_MAX));
  if (!opt_.input_append_only) {
    uint32_t k = 0;
    TreapWalk(LoadU64(payload + kRootOff), std::string_view(), [&](uint64_t t) {
      out->push_back(Rec(t));
      return ++k < limit;
    });
  } else {
    const uint8_t* block = arena_.At(LoadU64(payload + kBlockOff));
    for (uint32_t i = 0; i < count; ++i) out->push_back(Rec(LoadU64(block + 8 * size_t{i})));
  }
}

void TopNOperator::Snapshot(uint8_t* payload) {
  if (dedup_) {
    // Dedup takes a snapshot only right before it stores a new record (marked with the batch):
    // a record from this batch means the snapshot is taken.
    const uint64_t ref = LoadU64(payload + kDedupRefOff);
    if (ref != 0 && LoadU32(arena_.At(ref)) == batch_no_) return;
  } else {
    if (LoadU32(payload + kSnapOff) == batch_no_) return;
    StoreU32(payload + kSnapOff, batch_no_);
  }
  const uint32_t first = static_cast<uint32_t>(snap_.size());
  top_.clear();
  CollectTop(payload, &top_);
  for (const Ref& r : top_) {
    SnapRow s;
    s.key_offset = static_cast<uint32_t>(snap_bytes_.size());
    s.key_len = r.key_len;
    snap_bytes_.insert(snap_bytes_.end(), r.key, r.key + r.key_len);
    s.row_offset = static_cast<uint32_t>(snap_bytes_.size());
    s.row_len = r.row_len;
    snap_bytes_.insert(snap_bytes_.end(), r.row, r.row + r.row_len);
    snap_.push_back(s);
  }
  touched_.push_back({payload, first, static_cast<uint32_t>(snap_.size())});
}

// Keeps only the top N: a row that does not beat the N-th is dropped, the N-th row that a new
// row pushes out is freed.
void TopNOperator::InsertAppendOnly(uint8_t* payload, std::string_view key, std::string_view row) {
  if (dedup_) {
    const uint64_t old = LoadU64(payload + kDedupRefOff);
    if (old != 0) {
      if (!(key < KeyOf(old))) return;
      Snapshot(payload);
      FreeRecord(old);
    } else {
      Snapshot(payload);
    }
    StoreU64(payload + kDedupRefOff, NewRecord(key, row));
    return;
  }
  const uint32_t count = LoadU32(payload + kCountOff);
  const uint64_t limit = static_cast<uint64_t>(opt_.limit);
  uint64_t block = LoadU64(payload + kBlockOff);
  uint32_t n = count;
  if (n == limit) {
    const uint64_t last = LoadU64(arena_.At(block) + 8 * size_t{n - 1});
    if (!(key < KeyOf(last))) return;
    Snapshot(payload);
    FreeRecord(last);
    --n;
  } else {
    Snapshot(payload);
    const uint32_t cap = LoadU32(payload + kCapOff);
    if (n == cap) {  // grow the block: double, at most N refs
      const uint32_t new_cap = static_cast<uint32_t>(std::min<uint64_t>(limit, std::max<uint64_t>(2, 2 * uint64_t{cap})));
      const uint64_t grown = arena_.Allocate(8 * new_cap);
      if (cap != 0) {
        std::memcpy(arena_.At(grown), arena_.At(block), 8 * size_t{n});
        arena_.Free(block, 8 * cap);
      }
      block = grown;
      StoreU64(payload + kBlockOff, block);
      StoreU32(payload + kCapOff, new_cap);
    }
  }
  uint8_t* refs = arena_.At(block);
  // Binary search for the first row ordered after the new one (keys are unique).
  uint32_t lo = 0, hi = n;
  while (lo < hi) {
    const uint32_t mid = (lo + hi) / 2;
    if (key < KeyOf(LoadU64(refs + 8 * size_t{mid}))) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  std::memmove(refs + 8 * size_t{lo} + 8, refs + 8 * size_t{lo}, 8 * size_t{n - lo});
  StoreU64(refs + 8 * size_t{lo}, NewRecord(key, row));
  StoreU32(payload + kCountOff, n + 1);
}

void TopNOperator::InsertRetracting(uint8_t* payload, std::string_view key, std::string_view row) {
  const uint32_t size = LoadU32(payload + kCountOff);
  WEIR_CHECK(size < UINT32_MAX);
  const uint64_t limit = static_cast<uint64_t>(opt_.limit);
  const uint64_t nth = LoadU64(payload + kNthOff);
  const bool affects = size < limit || key < KeyOf(nth);
  if (affects) Snapshot(payload);
  const uint64_t r = NewRecord(key, row);
  const uint64_t root = TreapInsert(LoadU64(payload + kRootOff), r, key);
  StoreU64(payload + kRootOff, root);
  StoreU32(payload + kCountOff, size + 1);
  if (size < limit) {
    if (size + 1 == limit) {  // now exactly N rows: the N-th is the last
      uint64_t t = root;
      while (Right(t) != 0) t = Right(t);
      StoreU64(payload + kNthOff, t);
    }
  } else if (affects) {
    // The old N-th row moved to N + 1; its predecessor (possibly the new row) is the N-th.
    StoreU64(payload + kNthOff, TreapPredecessor(root, KeyOf(nth)));
  }
}

void TopNOperator::Retract(uint8_t* payload, std::string_view key, std::string_view row) {
  const uint32_t size = LoadU32(payload + kCountOff);
  // Rows with the same order key are contiguous (they differ only in the arrival suffix); the
  // last byte-identical one is the most recent instance.
  const std::string_view prefix = key.substr(0, key.size() - kSeqBytes);
  uint64_t found = 0;
  if (size != 0) {
    TreapWalk(LoadU64(payload + kRootOff), prefix, [&](uint64_t t) {
      const Ref r = Rec(t);
      const std::string_view k = View(r.key, r.key_len);
      if (!k.starts_with(prefix)) return false;
      if (View(r.row, r.row_len) == row) found = t;
      return true;
    });
  }
  if (found == 0) {
    ++retractions_ignored_;
    return;
  }
  const uint64_t limit = static_cast<uint64_t>(opt_.limit);
  const std::string_view found_key = KeyOf(found);
  uint64_t root = LoadU64(payload + kRootOff);
  if (size <= limit) {
    Snapshot(payload);
    StoreU64(payload + kNthOff, 0);  // fewer than N rows now
  } else {
    const uint64_t nth = LoadU64(payload + kNthOff);
    if (found_key <= KeyOf(nth)) {
      Snapshot(payload);
      StoreU64(payload + kNthOff, TreapSuccessor(root, KeyOf(nth)));  // row N + 1 moves up
    }
  }
  root = TreapErase(root, found_key);
  StoreU64(payload + kRootOff, root);
  StoreU32(payload + kCountOff, size - 1);
  FreeRecord(found);
}

// Appends to out_rows_ the content-level difference between the partition's snapshot (old top
// N) and its current top N: `-` rows, then `+` rows.
void TopNOperator::Diff(const Touched& t) {
  olds_.clear();
  news_.clear();
  for (uint32_t s = t.snap_begin; s < t.snap_end; ++s) {
    const SnapRow& r = snap_[s];
    olds_.push_back({snap_bytes_.data() + r.key_offset, r.key_len, snap_bytes_.data() + r.row_offset, r.row_len});
  }
  CollectTop(t.payload, &news_);
  auto same_row = [](const Ref& a, const Ref& b) {
    return View(a.row, a.row_len) == View(b.row, b.row_len);
  };
  pending_inserts_.clear();
  if (opt_.with_row_number) {
    // Row numbers are positions: rank r changes unless old and new rank-r rows are equal.
    const size_t ranks = std::max(olds_.size(), news_.size());
    for (size_t r = 0; r < ranks; ++r) {
      const bool has_old = r < olds_.size(), has_new = r < news_.size();
      if (has_old && has_new && same_row(olds_[r], news_[r])) continue;
      const int64_t rn = static_cast<int64_t>(r) + 1;
      if (has_old) out_rows_.push_back({olds_[r].row, olds_[r].row_len, Op::kDelete, rn});
      if (has_new) pending_inserts_.push_back({news_[r].row, news_[r].row_len, Op::kInsert, rn});
    }
  } else {
    // Instances that left / entered: a merge over the two key-ordered lists (a key is unique
    // per instance, its arrival number included).
    leaves_.clear();
    enters_.clear();
    size_t i = 0, j = 0;
    while (i < olds_.size() || j < news_.size()) {
      int c;
      if (i == olds_.size()) c = 1;
      else if (j == news_.size()) c = -1;
      else c = View(olds_[i].key, olds_[i].key_len).compare(View(news_[j].key, news_[j].key_len));
      if (c == 0) {
        ++i;
        ++j;
      } else if (c < 0) {
        leaves_.push_back(olds_[i++]);
      } else {
        enters_.push_back(news_[j++]);
      }
    }
    // Equal contents leaving and entering cancel (a retracted row re-inserted, a duplicate
    // instance replacing another). Equal rows have equal order keys, and both lists are
    // ordered by order key, so candidates are found within one run of equal order keys.
    cancelled_.assign(enters_.size(), 0);
    auto order_key = [](const Ref& r) { return View(r.key, r.key_len - kSeqBytes); };
    size_t run = 0;
    for (const Ref& d : leaves_) {
      const std::string_view dk = order_key(d);
      while (run < enters_.size() && order_key(enters_[run]) < dk) ++run;
      bool matched = false;
      for (size_t e = run; e < enters_.size() && order_key(enters_[e]) == dk; ++e) {
        if (!cancelled_[e] && same_row(d, enters_[e])) {
          cancelled_[e] = 1;
          matched = true;
          break;
        }
      }
      if (!matched) out_rows_.push_back({d.row, d.row_len, Op::kDelete, 0});
    }
    for (size_t e = 0; e < enters_.size(); ++e)
      if (!cancelled_[e]) pending_inserts_.push_back({enters_[e].row, enters_[e].row_len, Op::kInsert, 0});
  }
  out_rows_.insert(out_rows_.end(), pending_inserts_.begin(), pending_inserts_.end());
}

Status TopNOperator::Emit() {
  const size_t total = out_rows_.size();
  const size_t ninput = opt_.input_schema->num_fields();
  for (size_t start = 0; start < total; start += static_cast<size_t>(kBatchRowsDefault)) {
    const size_t end = std::min(total, start + static_cast<size_t>(kBatchRowsDefault));
    const int64_t k = static_cast<int64_t>(end - start);
    auto& cols = out_.columns();
    cols.resize(out_schema_->num_fields());
    out_cols_.resize(cols.size());
    for (size_t c = 0; c < cols.size(); ++c) out_cols_[c] = ReuseColumn(&cols[c], out_schema_->field(c).type);
    dec_cols_.assign(out_cols_.begin(), out_cols_.begin() + static_cast<long>(ninput));
    dec_ptrs_.resize(static_cast<size_t>(k));
    dec_lens_.resize(static_cast<size_t>(k));
    for (size_t r = start; r < end; ++r) {
      dec_ptrs_[r - start] = out_rows_[r].row;
      dec_lens_[r - start] = out_rows_[r].len;
    }
    row_keys_->DecodeBatch(dec_ptrs_.data(), dec_lens_.data(), k, dec_cols_);
    if (opt_.with_row_number) {
      Column* rn = out_cols_[ninput];
      rn->Reserve(k);
      for (size_t r = start; r < end; ++r) rn->Append<int64_t>(out_rows_[r].row_number);
    }
    out_.set_num_rows(k);
    Op* ops = out_.EnableOps();
    for (size_t r = start; r < end; ++r) ops[r - start] = out_rows_[r].op;
    if (output_) WEIR_RETURN_IF_ERROR(output_->Push(out_));
  }
  return Status::OK();
}

Status TopNOperator::Push(const RecordBatch& batch) {
  const int64_t n = batch.num_rows();
  if (n == 0) return Status::OK();
  const size_t sn = static_cast<size_t>(n);
  const Op* ops = batch.ops();
  if (ops && opt_.input_append_only) {
    for (int64_t i = 0; i < n; ++i)
      if (ops[i] == Op::kDelete)
        return InvalidArgument("TopN: retraction in input declared append-only ({})", description_);
  }
  if (batch_no_ == UINT32_MAX) {  // snapshot marks wrap: clear them all (once per 2^32 batches)
    table_.ForEach([&](const uint8_t*, uint32_t, uint8_t* payload) {
      if (!dedup_) {
        StoreU32(payload + kSnapOff, 0);
      } else if (const uint64_t ref = LoadU64(payload + kDedupRefOff); ref != 0) {
        StoreU32(arena_.At(ref), 0);
      }
    });
    batch_no_ = 0;
  }
  ++batch_no_;

  // 1. Partition of each row: encode and hash the partition columns, then one batch lookup
  //    (the n payload pointers stay valid together until step 5's erases).
  col_ptrs_.clear();
  if (constant_key_) {
    constant_key_->SetConstantLength(n);
    col_ptrs_.push_back(constant_key_.get());
  } else {
    for (int c : opt_.partition_columns) col_ptrs_.push_back(batch.column(static_cast<size_t>(c)).get());
  }
  part_keys_->Encode(col_ptrs_, n);
  hashes_.resize(sn);
  for (size_t k = 0; k < col_ptrs_.size(); ++k) HashColumn(*col_ptrs_[k], n, k > 0, hashes_.data());
  payloads_.resize(sn);
  table_.FindOrInsertBatch(*part_keys_, hashes_.data(), n, payloads_.data(), nullptr);

  // 2. Sort keys and row images, column-wise.
  EncodeSortKeys(batch, n);
  col_ptrs_.clear();
  for (const ColumnPtr& c : batch.columns()) col_ptrs_.push_back(c.get());
  row_keys_->Encode(col_ptrs_, n);

  // 3. Rows in arrival order.
  touched_.clear();
  snap_.clear();
  snap_bytes_.clear();
  for (int64_t i = 0; i < n; ++i) {
    const size_t si = static_cast<size_t>(i);
    const std::string_view key = View(sort_bytes_.data() + sort_begin_[si], sort_len_[si]);
    const std::string_view row = View(row_keys_->key(i), row_keys_->key_len(i));
    if (opt_.input_append_only) {
      InsertAppendOnly(payloads_[si], key, row);
    } else if (ops && ops[i] == Op::kDelete) {
      Retract(payloads_[si], key, row);
    } else {
      InsertRetracting(payloads_[si], key, row);
    }
  }

  // 4. The changelog: per changed partition, old top N vs new top N.
  out_rows_.clear();
  for (const Touched& t : touched_) Diff(t);
  Status st = Emit();

  // 5. Partitions emptied by retractions (or created by an unmatched one) are erased: first
  //    find them all (an erase moves other entries, so payload pointers die), then erase.
  if (!opt_.input_append_only) {
    emptied_.clear();
    for (int64_t i = 0; i < n; ++i)
      if (LoadU32(payloads_[static_cast<size_t>(i)] + kCountOff) == 0) emptied_.push_back(i);
    for (int64_t i : emptied_)  // a partition with several such rows is erased by the first
      table_.Erase(part_keys_->key(i), part_keys_->key_len(i), hashes_[static_cast<size_t>(i)]);
  }
  return st;
}

// ---- checkpoints --------------------------------------------------------------------------------

Status TopNOperator::SnapshotState(StateWriter* w) const {
  w->Begin("topn");
  w->U64(seq_);
  w->U32(batch_no_);
  w->I64(rows_);
  w->I64(retractions_ignored_);
  table_.Snapshot(w);
  arena_.Snapshot(w);
  w->End();
  return Status::OK();
}

Status TopNOperator::RestoreState(StateReader* r) {
  if (rows_ != 0 || !table_.empty()) return Internal("TopN: RestoreState on an operator that has state");
  r->Begin("topn");
  const uint64_t seq = r->U64();
  const uint32_t batch_no = r->U32();
  const int64_t rows = r->I64();
  const int64_t ignored = r->I64();
  if (!r->ok()) return r->status();
  WEIR_RETURN_IF_ERROR(table_.Restore(r));
  WEIR_RETURN_IF_ERROR(arena_.Restore(r));
  r->End();
  if (!r->ok()) return r->status();
  // Every record a partition reaches: in bounds with its lengths, a sort key ending in an
  // arrival number; blocks within their capacity; treaps acyclic with the partition's count.
  auto valid_record = [&](uint64_t ref) {
    if (!arena_.ValidRef(ref, header_bytes_ + 8)) return false;
    const uint8_t* p = arena_.At(ref) + header_bytes_;
    const uint64_t key_len = LoadU32(p), row_len = LoadU32(p + 4);
    return key_len >= kSeqBytes && arena_.ValidRef(ref, header_bytes_ + 8 + key_len + row_len);
  };
  const uint64_t limit = static_cast<uint64_t>(opt_.limit);
  constexpr size_t kDepthMax = 4096;  // treap operations recurse: a deeper tree is corrupt
  int64_t total = 0;
  bool bad = false;
  table_.ForEach([&](const uint8_t*, uint32_t, uint8_t* payload) {
    if (bad) return;
    if (dedup_) {
      const uint64_t ref = LoadU64(payload + kDedupRefOff);
      bad = !valid_record(ref);
      total += 1;
      return;
    }
    const uint32_t count = LoadU32(payload + kCountOff);
    total += count;
    if (count == 0) {
      bad = true;
      return;
    }
    if (opt_.input_append_only) {
      const uint32_t cap = LoadU32(payload + kCapOff);
      const uint64_t block = LoadU64(payload + kBlockOff);
      if (count > cap || cap > limit || !arena_.ValidRef(block, 8 * uint64_t{cap})) {
        bad = true;
        return;
      }
      for (uint32_t i = 0; i < count && !bad; ++i) bad = !valid_record(LoadU64(arena_.At(block) + 8 * size_t{i}));
      return;
    }
    // Treap: iterative walk, bounded by the count (a cycle or shared node exceeds it).
    const uint64_t nth = LoadU64(payload + kNthOff);
    if ((nth != 0 && !valid_record(nth)) || (count >= limit) != (nth != 0)) {
      bad = true;
      return;
    }
    std::vector<std::pair<uint64_t, size_t>> stack;
    uint64_t nodes = 0;
    if (const uint64_t root = LoadU64(payload + kRootOff); root != 0) stack.push_back({root, 1});
    while (!stack.empty() && !bad) {
      const auto [ref, depth] = stack.back();
      stack.pop_back();
      if (!valid_record(ref) || ++nodes > count || depth > kDepthMax) {
        bad = true;
        break;
      }
      if (Left(ref) != 0) stack.push_back({Left(ref), depth + 1});
      if (Right(ref) != 0) stack.push_back({Right(ref), depth + 1});
    }
    bad |= nodes != count;
  });
  if (bad || total != rows) {
    r->Fail("TopN: partition records do not match the arena or the row count");
    return r->status();
  }
  seq_ = seq;
  batch_no_ = batch_no;
  rows_ = rows;
  retractions_ignored_ = ignored;
  return Status::OK();
}

}  // namespace weir
