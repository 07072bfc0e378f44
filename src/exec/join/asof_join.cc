#include "exec/join/asof_join.h"

#include <algorithm>
#include <cstring>

#include "state/hash.h"

namespace weir {

namespace {

bool OrderedType(const DataType& t) {
  return t.id == TypeId::kTimestamp || t.id == TypeId::kInt64 || t.id == TypeId::kInt32;
}

// Row i of an ordered column as int64; *null when NULL.
void ReadTimes(const Column& c, int64_t n, int64_t* out, uint8_t* null) {
  for (int64_t i = 0; i < n; ++i) null[i] = c.IsNull(i) ? 1 : 0;
  if (c.is_constant()) {
    const int64_t v = c.IsValid(0) ? (c.type().id == TypeId::kInt32 ? c.Get<int32_t>(0) : c.Get<int64_t>(0)) : 0;
    std::fill(out, out + n, v);
    return;
  }
  if (c.type().id == TypeId::kInt32) {
    const int32_t* v = c.data<int32_t>();
    for (int64_t i = 0; i < n; ++i) out[i] = v[i];
  } else {
    std::memcpy(out, c.data<int64_t>(), static_cast<size_t>(n) * 8);
  }
}

std::vector<DataType> TypesOf(const Schema& s, const std::vector<int>& cols) {
  std::vector<DataType> t;
  for (int c : cols) t.push_back(s.field(static_cast<size_t>(c)).type);
  return t;
}

std::vector<DataType> AllTypes(const Schema& s) {
  std::vector<DataType> t;
  for (const Field& f : s.fields()) t.push_back(f.type);
  return t;
}

// Key encoding for keyless joins: every row maps to one series.
constexpr uint8_t kEmptyKey = 0;

}  // namespace

Result<std::unique_ptr<AsofJoinOperator>> AsofJoinOperator::Make(AsofJoinOptions o) {
  if (!o.left_schema || !o.right_schema) return InvalidArgument("asof join: missing input schema");
  if (o.left_keys.size() != o.right_keys.size()) return InvalidArgument("asof join: key count mismatch");
  for (size_t k = 0; k < o.left_keys.size(); ++k) {
    const int l = o.left_keys[k], r = o.right_keys[k];
    if (l < 0 || static_cast<size_t>(l) >= o.left_schema->num_fields() || r < 0 ||
        static_cast<size_t>(r) >= o.right_schema->num_fields())
      return InvalidArgument("asof join: key {} column index out of range", k);
    if (!(o.left_schema->field(static_cast<size_t>(l)).type == o.right_schema->field(static_cast<size_t>(r)).type))
      return InvalidArgument("asof join: key {} types differ", k);
  }
  if (o.left_time < 0 || static_cast<size_t>(o.left_time) >= o.left_schema->num_fields() || o.right_time < 0 ||
      static_cast<size_t>(o.right_time) >= o.right_schema->num_fields())
    return InvalidArgument("asof join: time column index out of range");
  const DataType lt = o.left_schema->field(static_cast<size_t>(o.left_time)).type;
  const DataType rt = o.right_schema->field(static_cast<size_t>(o.right_time)).type;
  if (!(lt == rt) || !OrderedType(lt))
    return InvalidArgument("asof join: the compared columns must both be TIMESTAMP, BIGINT or INT (got {} and {})",
                           lt.ToString(), rt.ToString());
  return std::unique_ptr<AsofJoinOperator>(new AsofJoinOperator(std::move(o)));
}

AsofJoinOperator::AsofJoinOperator(AsofJoinOptions o)
    : opt_(std::move(o)),
      left_key_enc_(TypesOf(*opt_.left_schema, opt_.left_keys)),
      right_key_enc_(TypesOf(*opt_.right_schema, opt_.right_keys)),
      left_row_enc_(AllTypes(*opt_.left_schema)),
      right_row_enc_(AllTypes(*opt_.right_schema)),
      series_index_(8, 0) {
  std::vector<Field> fields = opt_.left_schema->fields();
  for (const Field& f : opt_.right_schema->fields())
    fields.push_back(Field{f.name, f.type, f.nullable || opt_.left_outer});
  out_schema_ = std::make_shared<Schema>(std::move(fields));
  out_.set_schema(out_schema_);
  ports_[0] = std::make_unique<JoinSideInput<AsofJoinOperator>>(this, 0, "AsofJoin");
  ports_[1] = std::make_unique<JoinSideInput<AsofJoinOperator>>(this, 1, "AsofJoin");
  // The encoding of an all-NULL right row (ASOF LEFT JOIN padding).
  std::vector<Column> nulls;
  std::vector<const Column*> ptrs;
  nulls.reserve(opt_.right_schema->num_fields());
  for (const Field& f : opt_.right_schema->fields()) {
    nulls.emplace_back(f.type);
    nulls.back().AppendNull();
  }
  for (const Column& c : nulls) ptrs.push_back(&c);
  KeyEncoder enc(AllTypes(*opt_.right_schema));
  enc.Encode(ptrs, 1);
  right_null_row_.assign(enc.key(0), enc.key(0) + enc.key_len(0));
}

AsofJoinOperator::~AsofJoinOperator() = default;

Status AsofJoinOperator::Push(const RecordBatch&) {
  return Internal("AsofJoinOperator: push into left_input() or right_input()");
}

std::string AsofJoinOperator::Describe() const {
  std::string s = fmt::format("AsofJoin {} on", opt_.left_outer ? "left" : "inner");
  for (size_t k = 0; k < opt_.left_keys.size(); ++k)
    s += fmt::format("{} left.{} = right.{}", k ? "," : "",
                     opt_.left_schema->field(static_cast<size_t>(opt_.left_keys[k])).name,
                     opt_.right_schema->field(static_cast<size_t>(opt_.right_keys[k])).name);
  s += fmt::format("{} left.{} {} right.{}", opt_.left_keys.empty() ? "" : ",",
                   opt_.left_schema->field(static_cast<size_t>(opt_.left_time)).name, opt_.strict ? ">" : ">=",
                   opt_.right_schema->field(static_cast<size_t>(opt_.right_time)).name);
  return s;
}

size_t AsofJoinOperator::state_bytes() const {
  size_t b = series_index_.MemoryBytes() + arena_.MemoryBytes() + pending_bytes_.capacity() +
             pending_.capacity() * sizeof(Pending);
  for (const Series& s : series_) b += s.times.capacity() * 16;
  return b;
}

int64_t AsofJoinOperator::LeftTimeFloor() const {
  if (finished_[0]) return INT64_MAX;
  if (!opt_.left_time_bounded) return INT64_MIN;
  const int64_t wm = ports_[0]->watermark_us();
  if (wm == kNoWatermark) return INT64_MIN;
  return wm + opt_.left_time_offset_us;
}

void AsofJoinOperator::Trim(Series* s, int64_t before) {
  // Keep the latest row at or before `before` and everything after it.
  const auto begin = s->times.begin() + static_cast<std::ptrdiff_t>(s->head);
  const auto it = std::upper_bound(begin, s->times.end(), before);
  if (it - begin < 2) return;
  const size_t keep_from = static_cast<size_t>(it - s->times.begin()) - 1;
  for (size_t i = s->head; i < keep_from; ++i) arena_.Free(s->refs[i]);
  s->head = keep_from;
  if (s->head * 2 > s->times.size()) {  // compact
    s->times.erase(s->times.begin(), s->times.begin() + static_cast<std::ptrdiff_t>(s->head));
    s->refs.erase(s->refs.begin(), s->refs.begin() + static_cast<std::ptrdiff_t>(s->head));
    s->head = 0;
  }
}

Status AsofJoinOperator::PushSide(int side, const RecordBatch& batch) {
  const int64_t n = batch.num_rows();
  if (n == 0) return Status::OK();
  if (const Op* ops = batch.ops()) {
    for (int64_t i = 0; i < n; ++i)
      if (ops[i] == Op::kDelete)
        return InvalidArgument("asof join: the {} input must be append-only", side == 0 ? "left" : "right");
  }
  const size_t un = static_cast<size_t>(n);
  if (hashes_.size() < un) {
    hashes_.resize(un);
    times_.resize(un);
    time_null_.resize(un);
  }
  const std::vector<int>& keys = side == 0 ? opt_.left_keys : opt_.right_keys;
  KeyEncoder& key_enc = side == 0 ? left_key_enc_ : right_key_enc_;
  KeyEncoder& row_enc = side == 0 ? left_row_enc_ : right_row_enc_;
  key_cols_.resize(keys.size());
  std::fill(hashes_.begin(), hashes_.begin() + n, uint64_t{0});
  for (size_t k = 0; k < keys.size(); ++k) {
    const Column& c = *batch.column(static_cast<size_t>(keys[k]));
    key_cols_[k] = &c;
    HashColumn(c, n, k > 0, hashes_.data());
  }
  // time_null_ marks rows that cannot match: NULL time or NULL key.
  ReadTimes(*batch.column(static_cast<size_t>(side == 0 ? opt_.left_time : opt_.right_time)), n, times_.data(),
            time_null_.data());
  for (const Column* c : key_cols_)
    if (c->has_validity() || c->is_constant())
      for (int64_t i = 0; i < n; ++i) time_null_[static_cast<size_t>(i)] |= c->IsNull(i) ? 1 : 0;
  if (!keys.empty()) key_enc.Encode(key_cols_, n);
  row_cols_.resize(batch.num_columns());
  for (size_t c = 0; c < batch.num_columns(); ++c) row_cols_[c] = batch.column(c).get();
  row_enc.Encode(row_cols_, n);

  if (side == 1) {
    // Left rows still to answer have times >= floor (pending rows are in arrival order).
    int64_t floor = LeftTimeFloor();
    for (const Pending& p : pending_) floor = std::min(floor, p.t);
    for (int64_t i = 0; i < n; ++i) {
      if (time_null_[static_cast<size_t>(i)]) continue;  // can never be matched
      const uint8_t* key = keys.empty() ? &kEmptyKey : key_enc.key(i);
      const uint32_t key_len = keys.empty() ? 1 : key_enc.key_len(i);
      bool inserted = false;
      uint8_t* payload = series_index_.FindOrInsert(key, key_len, hashes_[static_cast<size_t>(i)], &inserted);
      uint64_t idx;
      if (inserted) {
        series_.emplace_back();
        idx = series_.size() - 1;
        std::memcpy(payload, &idx, 8);
      } else {
        std::memcpy(&idx, payload, 8);
      }
      Series& s = series_[idx];
      const uint32_t len = row_enc.key_len(i);
      const uint64_t ref = arena_.Allocate(len);
      std::memcpy(arena_.RowData(ref), row_enc.key(i), len);
      const int64_t t = times_[static_cast<size_t>(i)];
      if (s.times.size() == s.head || s.times.back() <= t) {
        s.times.push_back(t);
        s.refs.push_back(ref);
      } else {  // out of order: after every equal time (the last arrival wins)
        const auto pos = std::upper_bound(s.times.begin() + static_cast<std::ptrdiff_t>(s.head), s.times.end(), t);
        const auto at = pos - s.times.begin();
        s.times.insert(pos, t);
        s.refs.insert(s.refs.begin() + at, ref);
      }
      if (floor != INT64_MIN && s.times.size() - s.head > 2) Trim(&s, floor);
    }
    // Processing-time mode: pending rows wait for nothing, but none are pending then.
    return Status::OK();
  }
  // Left rows: queue; answered when the right side has caught up.
  for (int64_t i = 0; i < n; ++i) {
    Pending p;
    p.t = times_[static_cast<size_t>(i)];
    p.hash = hashes_[static_cast<size_t>(i)];
    p.no_match = time_null_[static_cast<size_t>(i)] != 0;
    if (p.no_match) p.t = INT64_MIN;  // ready at once
    const uint32_t key_len = keys.empty() ? 1 : key_enc.key_len(i);
    p.key_off = static_cast<uint32_t>(pending_bytes_.size());
    p.key_len = key_len;
    const uint8_t* key = keys.empty() ? &kEmptyKey : key_enc.key(i);
    pending_bytes_.insert(pending_bytes_.end(), key, key + key_len);
    p.row_off = static_cast<uint32_t>(pending_bytes_.size());
    p.row_len = row_enc.key_len(i);
    pending_bytes_.insert(pending_bytes_.end(), row_enc.key(i), row_enc.key(i) + p.row_len);
    pending_.push_back(p);
  }
  return EmitReady(false);
}

Status AsofJoinOperator::EmitReady(bool all) {
  if (pending_.empty()) return Status::OK();
  // Right rows at or before `limit` can still arrive for no pending row at time t when ready(t).
  bool processing_time = !opt_.right_time_bounded;
  int64_t right_floor = INT64_MIN;  // future right rows have time >= right_floor
  if (finished_[1] || all) {
    processing_time = true;
  } else if (!processing_time) {
    const int64_t wm = ports_[1]->watermark_us();
    if (wm == kNoWatermark) return Status::OK();
    right_floor = wm + opt_.right_time_offset_us;
  }
  auto ready = [&](const Pending& p) {
    if (processing_time || p.no_match) return true;
    return opt_.strict ? right_floor >= p.t : right_floor > p.t;
  };
  still_pending_.clear();
  still_pending_bytes_.clear();
  for (const Pending& p : pending_) {
    if (!ready(p)) {
      Pending q = p;
      q.key_off = static_cast<uint32_t>(still_pending_bytes_.size());
      still_pending_bytes_.insert(still_pending_bytes_.end(), pending_bytes_.begin() + p.key_off,
                                  pending_bytes_.begin() + p.row_off + p.row_len);
      q.row_off = q.key_off + p.key_len;
      still_pending_.push_back(q);
      continue;
    }
    const uint8_t* match = nullptr;
    uint32_t match_len = 0;
    if (!p.no_match) {
      const uint8_t* payload = series_index_.Find(pending_bytes_.data() + p.key_off, p.key_len, p.hash);
      if (payload) {
        uint64_t idx;
        std::memcpy(&idx, payload, 8);
        const Series& s = series_[idx];
        const auto begin = s.times.begin() + static_cast<std::ptrdiff_t>(s.head);
        const auto it = opt_.strict ? std::lower_bound(begin, s.times.end(), p.t)
                                    : std::upper_bound(begin, s.times.end(), p.t);
        if (it != begin) {
          const uint64_t ref = s.refs[static_cast<size_t>(it - s.times.begin()) - 1];
          match = arena_.RowData(ref);
          match_len = arena_.RowLength(ref);
        }
      }
    }
    if (!match && !opt_.left_outer) continue;
    out_left_.push_back(pending_bytes_.data() + p.row_off);
    out_left_len_.push_back(p.row_len);
    out_right_.push_back(match ? match : right_null_row_.data());
    out_right_len_.push_back(match ? match_len : static_cast<uint32_t>(right_null_row_.size()));
    if (static_cast<int64_t>(out_left_.size()) >= kOutputBatchRows) WEIR_RETURN_IF_ERROR(Flush());
  }
  WEIR_RETURN_IF_ERROR(Flush());
  pending_.swap(still_pending_);
  pending_bytes_.swap(still_pending_bytes_);
  return Status::OK();
}

Status AsofJoinOperator::Flush() {
  const int64_t m = static_cast<int64_t>(out_left_.size());
  if (m == 0) return Status::OK();
  auto& cols = out_.columns();
  cols.resize(out_schema_->num_fields());
  const size_t lw = opt_.left_schema->num_fields();
  for (int s = 0; s < 2; ++s) {
    const Schema& schema = s == 0 ? *opt_.left_schema : *opt_.right_schema;
    decode_cols_.resize(schema.num_fields());
    for (size_t c = 0; c < schema.num_fields(); ++c)
      decode_cols_[c] = ReuseColumn(&cols[(s == 0 ? 0 : lw) + c], schema.field(c).type);
    (s == 0 ? left_row_enc_ : right_row_enc_)
        .DecodeBatch(s == 0 ? out_left_.data() : out_right_.data(),
                     s == 0 ? out_left_len_.data() : out_right_len_.data(), m, decode_cols_);
  }
  out_.set_num_rows(m);
  out_.DisableOps();
  out_left_.clear();
  out_right_.clear();
  out_left_len_.clear();
  out_right_len_.clear();
  return output_ ? output_->Push(out_) : Status::OK();
}

Status AsofJoinOperator::SideWatermark() {
  WEIR_RETURN_IF_ERROR(EmitReady(false));
  int64_t wm = kFinalWatermark;
  for (int s = 0; s < 2; ++s) wm = std::min(wm, finished_[s] ? kFinalWatermark : ports_[s]->watermark_us());
  for (const Pending& p : pending_) wm = std::min(wm, p.t);
  if (wm == kNoWatermark) return Status::OK();
  return PushWatermark(wm);
}

Status AsofJoinOperator::SideFinish(int side) {
  if (finished_[side]) return Status::OK();
  finished_[side] = true;
  if (!(finished_[0] && finished_[1])) return SideWatermark();
  return Finish();
}

Status AsofJoinOperator::Finish() {
  if (output_finished_) return Status::OK();
  output_finished_ = true;
  WEIR_RETURN_IF_ERROR(EmitReady(true));
  WEIR_RETURN_IF_ERROR(PushWatermark(kFinalWatermark));
  return output_ ? output_->Finish() : Status::OK();
}

// ---- checkpoints --------------------------------------------------------------------------------

Status AsofJoinOperator::SnapshotState(StateWriter* w) const {
  w->Begin("asof_join");
  for (int s = 0; s < 2; ++s) {
    w->Bool(finished_[s]);
    w->I64(ports_[s]->watermark_us());
  }
  w->Bool(output_finished_);
  series_index_.Snapshot(w);
  arena_.Snapshot(w);
  w->U64(series_.size());
  for (const Series& s : series_) {
    w->U64(s.head);
    w->PodVector(s.times);
    w->PodVector(s.refs);
  }
  w->U64(pending_.size());
  for (const Pending& p : pending_) {
    w->I64(p.t);
    w->U64(p.hash);
    w->U32(p.key_off);
    w->U32(p.key_len);
    w->U32(p.row_off);
    w->U32(p.row_len);
    w->Bool(p.no_match);
  }
  w->PodVector(pending_bytes_);
  w->End();
  return Status::OK();
}

Status AsofJoinOperator::RestoreState(StateReader* r) {
  if (!series_.empty() || !pending_.empty()) return Internal("asof join: RestoreState on an operator that has state");
  r->Begin("asof_join");
  int64_t wm[2];
  for (int s = 0; s < 2; ++s) {
    finished_[s] = r->Bool();
    wm[s] = r->I64();
  }
  output_finished_ = r->Bool();
  if (!r->ok()) return r->status();
  for (int s = 0; s < 2; ++s) ports_[s]->RestoreWatermark(wm[s]);
  WEIR_RETURN_IF_ERROR(series_index_.Restore(r));
  WEIR_RETURN_IF_ERROR(arena_.Restore(r));
  const uint64_t nseries = r->U64();
  if (!r->ok()) return r->status();
  if (nseries > r->remaining() / 24 || nseries != series_index_.size()) {
    r->Fail("asof join: series count differs from the index");
    return r->status();
  }
  series_.resize(nseries);
  size_t live = 0;
  for (Series& s : series_) {
    s.head = r->U64();
    s.times = r->PodVector<int64_t>();
    s.refs = r->PodVector<uint64_t>();
    if (!r->ok()) return r->status();
    if (s.times.size() != s.refs.size() || s.head > s.times.size() ||
        !std::is_sorted(s.times.begin() + static_cast<std::ptrdiff_t>(s.head), s.times.end())) {
      r->Fail("asof join: invalid series");
      return r->status();
    }
    for (size_t i = s.head; i < s.refs.size(); ++i) {
      if (!arena_.ValidRecord(s.refs[i])) {
        r->Fail("asof join: series refers to an invalid row record");
        return r->status();
      }
    }
    live += s.refs.size() - s.head;
  }
  bool bad_index = false;
  std::vector<uint8_t> seen(nseries, 0);
  series_index_.ForEach([&](const uint8_t*, uint32_t, uint8_t* payload) {
    uint64_t idx;
    std::memcpy(&idx, payload, 8);
    if (idx >= nseries || seen[idx]) {
      bad_index = true;
      return;
    }
    seen[idx] = 1;
  });
  if (bad_index || live != arena_.live_records()) {
    r->Fail("asof join: series index or live rows do not match the series");
    return r->status();
  }
  const uint64_t npending = r->U64();
  if (!r->ok()) return r->status();
  if (npending > r->remaining() / 33) {
    r->Fail("asof join: pending count exceeds the snapshot");
    return r->status();
  }
  pending_.resize(npending);
  for (Pending& p : pending_) {
    p.t = r->I64();
    p.hash = r->U64();
    p.key_off = r->U32();
    p.key_len = r->U32();
    p.row_off = r->U32();
    p.row_len = r->U32();
    p.no_match = r->Bool();
  }
  pending_bytes_ = r->PodVector<uint8_t>();
  r->End();
  if (!r->ok()) return r->status();
  for (const Pending& p : pending_) {
    if (uint64_t{p.key_off} + p.key_len > pending_bytes_.size() || uint64_t{p.row_off} + p.row_len > pending_bytes_.size() ||
        p.row_off != p.key_off + p.key_len) {
      r->Fail("asof join: pending row out of bounds");
      return r->status();
    }
  }
  return Status::OK();
}

}  // namespace weir
