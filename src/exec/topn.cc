#include "exec/topn.h"

#include <algorithm>
#include <cstring>

#include "state/hash.h"

namespace weir {

namespace {

/// Node handles kept for reuse (bounds the memory of the pool).
constexpr size_t kNodePoolMax = 4096;
/// Bytes of a map node besides its strings' heap parts: the red-black links and colour, then
/// the two std::string objects.
constexpr size_t kNodeBytes = 4 * sizeof(void*) + 2 * sizeof(std::string);
/// Arrival number appended to every sort key (big-endian, so bytes order like the number).
constexpr uint32_t kSeqBytes = 8;

size_t HeapBytes(const std::string& s) {
  static const size_t sso = std::string().capacity();
  return s.capacity() > sso ? s.capacity() + 1 : 0;
}

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
  op->table_ = HashTable(8, op->part_keys_->fixed_key_bytes());
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

size_t TopNOperator::state_bytes() const {
  size_t bytes = table_.MemoryBytes() + partitions_.capacity() * sizeof(void*) +
                 partitions_.size() * sizeof(Partition) + heap_string_bytes_ +
                 (static_cast<size_t>(rows_) + node_pool_.size()) * kNodeBytes;
  for (const auto& p : partitions_) bytes += HeapBytes(p->key);
  return bytes;
}

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

uint32_t TopNOperator::NewPartition(const uint8_t* key, uint32_t len, uint64_t hash) {
  uint32_t pid;
  if (!free_partitions_.empty()) {
    pid = free_partitions_.back();
    free_partitions_.pop_back();
  } else {
    WEIR_CHECK(partitions_.size() < UINT32_MAX - 1);
    pid = static_cast<uint32_t>(partitions_.size());
    partitions_.push_back(std::make_unique<Partition>());
  }
  Partition& p = *partitions_[pid];
  p.key.assign(reinterpret_cast<const char*>(key), len);
  p.hash = hash;
  p.live = true;
  p.snapshot_batch = 0;
  p.last_top = p.rows.end();
  if (!opt_.input_append_only) created_.push_back(pid);
  return pid;
}

void TopNOperator::Snapshot(uint32_t pid) {
  Partition& p = *partitions_[pid];
  if (p.snapshot_batch == batch_no_) return;
  p.snapshot_batch = batch_no_;
  const uint32_t first = static_cast<uint32_t>(snap_.size());
  int64_t k = 0;
  for (auto it = p.rows.begin(); it != p.rows.end() && k < opt_.limit; ++it, ++k) {
    SnapRow s;
    s.key_offset = static_cast<uint32_t>(snap_bytes_.size());
    s.key_len = static_cast<uint32_t>(it->first.size());
    snap_bytes_.insert(snap_bytes_.end(), it->first.begin(), it->first.end());
    s.row_offset = static_cast<uint32_t>(snap_bytes_.size());
    s.row_len = static_cast<uint32_t>(it->second.size());
    snap_bytes_.insert(snap_bytes_.end(), it->second.begin(), it->second.end());
    snap_.push_back(s);
  }
  touched_.push_back({pid, first, static_cast<uint32_t>(snap_.size())});
}

TopNOperator::RowMap::iterator TopNOperator::Emplace(Partition& p, std::string_view key, std::string_view row) {
  ++rows_;
  if (!node_pool_.empty()) {
    RowMap::node_type nh = std::move(node_pool_.back());
    node_pool_.pop_back();
    heap_string_bytes_ -= HeapBytes(nh.key()) + HeapBytes(nh.mapped());
    nh.key().assign(key);
    nh.mapped().assign(row);
    heap_string_bytes_ += HeapBytes(nh.key()) + HeapBytes(nh.mapped());
    auto r = p.rows.insert(std::move(nh));
    WEIR_DCHECK(r.inserted);
    return r.position;
  }
  auto r = p.rows.emplace(std::string(key), std::string(row));
  WEIR_DCHECK(r.second);
  heap_string_bytes_ += HeapBytes(r.first->first) + HeapBytes(r.first->second);
  return r.first;
}

void TopNOperator::Recycle(Partition& p, RowMap::iterator it) {
  --rows_;
  RowMap::node_type nh = p.rows.extract(it);
  if (node_pool_.size() < kNodePoolMax) {
    node_pool_.push_back(std::move(nh));
  } else {
    heap_string_bytes_ -= HeapBytes(nh.key()) + HeapBytes(nh.mapped());
  }
}

void TopNOperator::InsertRow(uint32_t pid, std::string_view key, std::string_view row) {
  Partition& p = *partitions_[pid];
  const size_t size = p.rows.size();
  const size_t limit = static_cast<size_t>(opt_.limit);
  if (opt_.input_append_only) {
    // The map is exactly the top N (at most `limit` rows).
    if (size >= limit) {
      auto last = std::prev(p.rows.end());
      if (!(key < std::string_view(last->first))) return;  // can never enter: dropped
      Snapshot(pid);
      Recycle(p, last);
    } else {
      Snapshot(pid);
    }
    Emplace(p, key, row);
    return;
  }
  const bool affects = size < limit || key < std::string_view(p.last_top->first);
  if (affects) Snapshot(pid);
  Emplace(p, key, row);
  if (size < limit) {
    if (size + 1 == limit) p.last_top = std::prev(p.rows.end());
  } else if (affects) {
    p.last_top = std::prev(p.last_top);  // the old N-th row moved to N + 1
  }
}

void TopNOperator::RetractRow(uint32_t pid, std::string_view key, std::string_view row) {
  Partition& p = *partitions_[pid];
  // Rows with the same order key are contiguous (they differ only in the arrival suffix); the
  // last byte-identical one is the most recent instance.
  const std::string_view prefix = key.substr(0, key.size() - kSeqBytes);
  auto found = p.rows.end();
  for (auto it = p.rows.lower_bound(prefix); it != p.rows.end() && it->first.starts_with(prefix); ++it)
    if (it->second == row) found = it;
  if (found == p.rows.end()) {
    ++retractions_ignored_;
    return;
  }
  const size_t limit = static_cast<size_t>(opt_.limit);
  if (p.rows.size() <= limit) {
    Snapshot(pid);
    Recycle(p, found);
    p.last_top = p.rows.end();  // fewer than N rows now
    return;
  }
  if (std::string_view(found->first) <= std::string_view(p.last_top->first)) {
    Snapshot(pid);
    auto next = std::next(p.last_top);  // row N + 1 moves up
    Recycle(p, found);
    p.last_top = next;
  } else {
    Recycle(p, found);
  }
}

// Appends to out_rows_ the content-level difference between the partition's snapshot (old top
// N) and its current top N: `-` rows, then `+` rows.
void TopNOperator::Diff(const Touched& t) {
  const Partition& p = *partitions_[t.partition];
  olds_.clear();
  news_.clear();
  for (uint32_t s = t.snap_begin; s < t.snap_end; ++s) {
    const SnapRow& r = snap_[s];
    olds_.push_back({snap_bytes_.data() + r.key_offset, r.key_len, snap_bytes_.data() + r.row_offset, r.row_len});
  }
  int64_t k = 0;
  for (auto it = p.rows.begin(); it != p.rows.end() && k < opt_.limit; ++it, ++k) {
    news_.push_back({reinterpret_cast<const uint8_t*>(it->first.data()), static_cast<uint32_t>(it->first.size()),
                     reinterpret_cast<const uint8_t*>(it->second.data()), static_cast<uint32_t>(it->second.size())});
  }
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
  ++batch_no_;

  // 1. Partition of each row: encode and hash the partition columns, then one batch lookup.
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
  row_pid_.resize(sn);
  for (size_t i = 0; i < sn; ++i) {
    uint32_t v;
    std::memcpy(&v, payloads_[i], 4);
    if (v == 0) {
      v = NewPartition(part_keys_->key(static_cast<int64_t>(i)), part_keys_->key_len(static_cast<int64_t>(i)),
                       hashes_[i]) + 1;
      std::memcpy(payloads_[i], &v, 4);
    }
    row_pid_[i] = v - 1;
  }

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
    const std::string_view key = View(sort_bytes_.data() + sort_begin_[static_cast<size_t>(i)],
                                      sort_len_[static_cast<size_t>(i)]);
    const std::string_view row = View(row_keys_->key(i), row_keys_->key_len(i));
    if (ops && ops[i] == Op::kDelete) {
      RetractRow(row_pid_[static_cast<size_t>(i)], key, row);
    } else {
      InsertRow(row_pid_[static_cast<size_t>(i)], key, row);
    }
  }

  // 4. The changelog: per changed partition, old top N vs new top N.
  out_rows_.clear();
  for (const Touched& t : touched_) Diff(t);
  Status st = Emit();

  // 5. Partitions emptied by retractions (or created by an unmatched one) are freed.
  if (!opt_.input_append_only) {
    auto release = [&](uint32_t pid) {
      Partition& p = *partitions_[pid];
      if (!p.live || !p.rows.empty()) return;
      table_.Erase(reinterpret_cast<const uint8_t*>(p.key.data()), static_cast<uint32_t>(p.key.size()), p.hash);
      p.live = false;
      p.last_top = p.rows.end();
      free_partitions_.push_back(pid);
    };
    for (const Touched& t : touched_) release(t.partition);
    for (uint32_t pid : created_) release(pid);
    created_.clear();
  }
  return st;
}

}  // namespace weir
