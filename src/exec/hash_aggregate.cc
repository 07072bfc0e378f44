#include "exec/hash_aggregate.h"

#include <algorithm>
#include <cstring>

#include "state/hash.h"
#include "state/snapshot.h"

namespace weir {

namespace {

constexpr uint32_t kRowCountOffset = 0;
constexpr uint32_t kFlagsOffset = 8;
constexpr uint64_t kTouched = 1;
constexpr uint64_t kEmitted = 2;
constexpr uint64_t kDirty = 4;  // RocksDB backend: changed since last written back

inline int64_t& RowCount(uint8_t* p) { return *reinterpret_cast<int64_t*>(p + kRowCountOffset); }
inline uint64_t& Flags(uint8_t* p) { return *reinterpret_cast<uint64_t*>(p + kFlagsOffset); }


}  // namespace

Result<std::unique_ptr<HashAggregateOperator>> HashAggregateOperator::Make(const LogicalPlan& node,
                                                                           bool retractable_input,
                                                                           const StateBackendOptions& state) {
  std::unique_ptr<HashAggregateOperator> op(new HashAggregateOperator());
  const Schema& in = *node.inputs[0]->schema;
  op->group_count_ = node.group_count;
  op->windowed_ = node.windowed;
  op->spec_ = node.window;
  op->ws_key_ = node.window_start_key;
  op->we_key_ = node.window_end_key;
  op->emit_ = node.emit;
  op->lateness_us_ = node.allowed_lateness_us;
  op->retractable_ = retractable_input;
  op->out_schema_ = node.schema;
  std::vector<DataType> key_types;
  for (int k = 0; k < node.group_count; ++k) {
    if (op->windowed_ && (k == op->ws_key_ || k == op->we_key_)) continue;
    op->key_cols_.push_back(k);
    op->key_outputs_.push_back(k);
    key_types.push_back(in.field(static_cast<size_t>(k)).type);
  }
  if (key_types.empty()) {
    // A global aggregate: every row has the same (constant) key.
    op->constant_key_ = std::make_shared<Column>(DataType::Boolean());
    op->constant_key_->Append<uint8_t>(1);
    op->constant_key_->MakeConstant(1);
    key_types.push_back(DataType::Boolean());
  }
  op->keys_ = std::make_unique<KeyEncoder>(key_types);
  op->fixed_key_bytes_ = op->keys_->fixed() ? op->keys_->fixed_key_bytes() : 0;
  uint32_t offset = 16;
  int distinct_count = 0;
  for (const AggregateCall& call : node.aggregates) {
    AggSlot slot;
    DataType arg = call.arg >= 0 ? in.field(static_cast<size_t>(call.arg)).type : DataType::Null();
    WEIR_ASSIGN_OR_RETURN(slot.fn, MakeAggregateFunction(call.name, arg, retractable_input));
    slot.arg = call.arg;
    slot.filter = call.filter;
    slot.distinct = call.distinct && call.arg >= 0;
    if (slot.distinct) {
      slot.distinct_index = distinct_count++;
      std::vector<DataType> dtypes = key_types;
      dtypes.push_back(arg);
      op->distinct_keys_.push_back(std::make_unique<KeyEncoder>(dtypes));
    }
    slot.offset = offset;
    op->out_of_line_ |= slot.fn->has_out_of_line_state();
    offset += (slot.fn->state_bytes() + 7) / 8 * 8;
    op->aggs_.push_back(std::move(slot));
  }
  op->payload_bytes_ = op->windowed_ && op->spec_.kind == WindowKind::kSession ? std::max<uint32_t>(offset, 24) : offset;
  op->description_ = node.ToString(0);
  op->description_ = op->description_.substr(0, op->description_.find('\n'));
  op->description_ = "Hash" + op->description_ +
                     (node.emit == AggregateEmit::kOnWindowClose ? " emit=window_close"
                      : node.emit == AggregateEmit::kOnUpdate    ? " emit=update"
                                                                 : " emit=final");
  op->out_.set_schema(node.schema);
  if (state.backend == StateBackend::kRocksDb && !op->windowed_) {
    for (const AggregateCall& call : node.aggregates) {
      if (call.distinct)
        return NotSupported("{}: DISTINCT aggregates are not supported with state_backend = 'rocksdb' "
                            "(use state_backend = 'memory' for this query)", call.display);
    }
    if (state.root.empty()) return Internal("hash aggregate: rocksdb state backend without a directory");
    op->rocks_ = true;
    op->state_ = state;
    op->payload_scratch_.assign(op->payload_bytes_ / 8, 0);
    op->description_ += " state=rocksdb";
  }
  return op;
}

HashAggregateOperator::~HashAggregateOperator() {
  for (auto& [start, w] : windows_) {
    w->groups->ForEach([&](const uint8_t*, uint32_t, uint8_t* payload) {
      if (sessions()) {
        SessionList*& list = *reinterpret_cast<SessionList**>(payload + 16);
        if (list) {
          for (Session& s : *list) DestroySession(s);
          delete list;
          list = nullptr;
        }
      } else {
        DestroyStates(payload);
      }
    });
  }
}

void HashAggregateOperator::DestroySession(Session& s) {
  if (!s.state) return;
  for (const AggSlot& a : aggs_) a.fn->Destroy(s.state.get() + a.offset);
  s.state.reset();
}

Status HashAggregateOperator::AppendSessionRow(const uint8_t* key, uint32_t key_len, const Session& s, Op op) {
  Window w;
  w.start = s.start;
  w.end = s.end;
  return AppendRow(&w, key, key_len, s.state.get(), op);
}

// Sessions: a row at a time. Group payload = [row count][flags][SessionList*].
Status HashAggregateOperator::PushSessions(const RecordBatch& batch) {
  const int64_t n = batch.num_rows();
  const Op* ops = batch.ops();
  if (ops) return NotSupported("SESSION windows over a changelog input are not supported");
  const Column& time = *batch.column(static_cast<size_t>(ws_key_));
  Window* table = GetWindow(0);
  table->groups->Reserve(table->groups->size() + static_cast<size_t>(n));
  payloads_.resize(static_cast<size_t>(n));
  table->groups->FindOrInsertBatch(*keys_, hashes_.data(), n, payloads_.data(), nullptr);
  const int64_t wm = watermark_us();
  const bool changelog = emit_ == AggregateEmit::kOnUpdate;
  touched_.clear();
  row_state_.resize(payload_bytes_);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t ts = time.Get<int64_t>(i);
    if (wm != kNoWatermark && ts + spec_.gap_us + lateness_us_ <= wm) {
      ++rows_late_;
      continue;
    }
    uint8_t* p = payloads_[static_cast<size_t>(i)];
    SessionList*& list = *reinterpret_cast<SessionList**>(p + 16);
    if (!list) list = new SessionList();
    if (changelog && !(Flags(p) & kTouched)) {
      Flags(p) |= kTouched;
      touched_.push_back({i, table});
    }
    // Sessions overlapping [ts, ts + gap): a contiguous run of the sorted list.
    const int64_t lo = ts, hi = ts + spec_.gap_us;
    size_t first = 0;
    while (first < list->size() && (*list)[first].end <= lo) ++first;
    size_t last = first;
    while (last < list->size() && (*list)[last].start < hi) ++last;
    Session merged;
    if (first == last) {
      merged.start = lo;
      merged.end = hi;
      merged.state.reset(new uint8_t[payload_bytes_]());
      for (const AggSlot& a : aggs_) a.fn->Init(merged.state.get() + a.offset);
      list->insert(list->begin() + static_cast<long>(first), std::move(merged));
    } else {
      Session& target = (*list)[first];
      if (changelog && target.emitted && !target.dirty)
        WEIR_RETURN_IF_ERROR(AppendSessionRow(keys_->key(i), keys_->key_len(i), target, Op::kDelete));
      for (size_t k = first + 1; k < last; ++k) {
        Session& other = (*list)[k];
        if (changelog && other.emitted && !other.dirty)
          WEIR_RETURN_IF_ERROR(AppendSessionRow(keys_->key(i), keys_->key_len(i), other, Op::kDelete));
        for (const AggSlot& a : aggs_)
          WEIR_RETURN_IF_ERROR(a.fn->Merge(target.state.get() + a.offset, other.state.get() + a.offset));
        target.end = std::max(target.end, other.end);
        DestroySession(other);
      }
      list->erase(list->begin() + static_cast<long>(first) + 1, list->begin() + static_cast<long>(last));
      target.start = std::min(target.start, lo);
      target.end = std::max(target.end, hi);
    }
    Session& s = (*list)[first];
    if (changelog && s.emitted && !s.dirty) {
      // (a fresh session is not emitted yet; a joined one was retracted above)
    }
    s.dirty = true;
    min_session_end_ = std::min(min_session_end_, s.end);
    // Apply the row to the session's state (per-row path).
    uint8_t* state = s.state.get();
    for (AggSlot& a : aggs_) {
      const Column* arg = a.arg >= 0 ? batch.column(static_cast<size_t>(a.arg)).get() : nullptr;
      uint8_t mask = 1;
      if (a.filter >= 0) {
        const Column& f = *batch.column(static_cast<size_t>(a.filter));
        mask = f.IsValid(i) && f.Get<uint8_t>(i) != 0;
      }
      if (!mask) continue;
      if (arg) {
        // One-row copy of the argument (buffers are reused: no allocation in steady state).
        if (!a.scratch) a.scratch = std::make_unique<Column>(arg->type());
        a.scratch->Reset(arg->type());
        a.scratch->AppendFrom(*arg, i);
        uint8_t* one = state;
        WEIR_RETURN_IF_ERROR(a.fn->Update(&one, a.offset, a.scratch.get(), nullptr, nullptr, 1));
      } else {
        uint8_t* one = state;
        WEIR_RETURN_IF_ERROR(a.fn->Update(&one, a.offset, nullptr, nullptr, nullptr, 1));
      }
    }
    RowCount(p) += 1;
  }
  if (changelog) {
    for (const Touched& t : touched_) {
      uint8_t* p = payloads_[static_cast<size_t>(t.row)];
      Flags(p) &= ~kTouched;
      SessionList* list = *reinterpret_cast<SessionList**>(p + 16);
      for (Session& s : *list) {
        if (!s.dirty) continue;
        s.dirty = false;
        s.emitted = true;
        WEIR_RETURN_IF_ERROR(AppendSessionRow(keys_->key(t.row), keys_->key_len(t.row), s, Op::kInsert));
      }
    }
    WEIR_RETURN_IF_ERROR(FlushOutput());
  } else {
    for (int64_t i = 0; i < n; ++i) {
      SessionList* list = *reinterpret_cast<SessionList**>(payloads_[static_cast<size_t>(i)] + 16);
      if (list)
        for (Session& s : *list) s.dirty = false;
    }
  }
  return Status::OK();
}

Status HashAggregateOperator::CloseSessions(int64_t watermark_us, bool all) {
  if (windows_.empty()) return Status::OK();
  if (!all && (watermark_us == kNoWatermark || min_session_end_ + lateness_us_ > watermark_us)) return Status::OK();
  Window* table = windows_.begin()->second.get();
  const bool emit = emit_ != AggregateEmit::kOnUpdate;
  int64_t next_min = INT64_MAX;
  Status st;
  table->groups->ForEach([&](const uint8_t* key, uint32_t len, uint8_t* payload) {
    SessionList* list = *reinterpret_cast<SessionList**>(payload + 16);
    if (!list) return;
    size_t keep = 0;
    for (size_t k = 0; k < list->size(); ++k) {
      Session& s = (*list)[k];
      if (all || s.end + lateness_us_ <= watermark_us) {
        if (emit && st.ok()) st = AppendSessionRow(key, len, s, Op::kInsert);
        DestroySession(s);
      } else {
        next_min = std::min(next_min, s.end);
        if (keep != k) (*list)[keep] = std::move(s);
        ++keep;
      }
    }
    list->resize(keep);
  });
  min_session_end_ = next_min;
  return st;
}

void HashAggregateOperator::DestroyStates(uint8_t* payload) {
  for (const AggSlot& a : aggs_) a.fn->Destroy(payload + a.offset);
}

HashAggregateOperator::Window* HashAggregateOperator::GetWindow(int64_t start) {
  Window*& cached = cache_[static_cast<size_t>(static_cast<uint64_t>(start) * 0x9E3779B97F4A7C15ULL >> 58)];
  if (cached && cached->start == start) return cached;
  auto it = windows_.find(start);
  if (it == windows_.end()) {
    if (!pool_.empty()) {
      WindowMap::node_type node = std::move(pool_.back());
      pool_.pop_back();
      node.key() = start;
      it = windows_.insert(std::move(node)).position;
    } else {
      auto w = std::make_unique<Window>();
      w->groups = std::make_unique<HashTable>(payload_bytes_, fixed_key_bytes_);
      for (const auto& dk : distinct_keys_)
        w->distinct.push_back(std::make_unique<HashTable>(8, dk->fixed() ? dk->fixed_key_bytes() : 0));
      it = windows_.emplace(start, std::move(w)).first;
    }
    Window* w = it->second.get();
    w->start = start;
    w->end = windowed_ ? WindowEnd(start) : 0;
    w->pending = 0;
  }
  cached = it->second.get();
  return cached;
}

Status HashAggregateOperator::Push(const RecordBatch& batch) {
  const int64_t n = batch.num_rows();
  if (n == 0) return Status::OK();
  const Op* ops = batch.ops();
  const size_t sn = static_cast<size_t>(n);

  // 1. Keys and hashes, column-wise.
  key_ptrs_.clear();
  if (constant_key_) {
    constant_key_->SetConstantLength(n);
    key_ptrs_.push_back(constant_key_.get());
  } else {
    for (int c : key_cols_) key_ptrs_.push_back(batch.column(static_cast<size_t>(c)).get());
  }
  keys_->Encode(key_ptrs_, n);
  hashes_.resize(sn);
  for (size_t k = 0; k < key_ptrs_.size(); ++k) HashColumn(*key_ptrs_[k], n, k > 0, hashes_.data());

  if (sessions()) return PushSessions(batch);

  // 2. The window of each row; rows of closed windows are dropped. Count rows per window so
  //    every table can be reserved up front (then all payload pointers stay valid together).
  row_window_.resize(sn);
  mask_.assign(sn, 1);
  bool any_masked = false;
  const int64_t wm = watermark_us();
  if (windowed_) {
    const Column* start_col = ws_key_ >= 0 ? batch.column(static_cast<size_t>(ws_key_)).get() : nullptr;
    const Column* end_col = we_key_ >= 0 ? batch.column(static_cast<size_t>(we_key_)).get() : nullptr;
    for (int64_t i = 0; i < n; ++i) {
      int64_t start = start_col ? start_col->Get<int64_t>(i) : end_col->Get<int64_t>(i) - spec_.size_us;
      if (wm != kNoWatermark && WindowEnd(start) + lateness_us_ <= wm) {
        row_window_[static_cast<size_t>(i)] = nullptr;
        mask_[static_cast<size_t>(i)] = 0;
        any_masked = true;
        ++rows_late_;
        continue;
      }
      Window* w = GetWindow(start);
      ++w->pending;
      row_window_[static_cast<size_t>(i)] = w;
    }
  } else {
    Window* w = GetWindow(0);
    w->pending = n;
    std::fill(row_window_.begin(), row_window_.end(), w);
  }
  if (rocks_) {
    // Keep the cache within its budget: write it back and empty it before the table would grow
    // past it (the table then keeps its capacity for the next groups).
    WEIR_RETURN_IF_ERROR(EnsureStore());
    Window* w = row_window_[0];
    const HashTable& t = *w->groups;
    const bool grows = (t.size() + sn) * HashTable::kLoadDen > t.capacity() * HashTable::kLoadNum;
    if (t.size() > 0 && (t.MemoryBytes() > state_.cache_bytes || (grows && t.MemoryBytes() * 2 > state_.cache_bytes))) {
      WEIR_RETURN_IF_ERROR(WriteBack(w, /*clear=*/true));
      ++evictions_;
    }
    changed_since_prepare_ = true;
  }
  for (auto& [start, w] : windows_) {
    if (w->pending == 0) continue;
    w->groups->Reserve(w->groups->size() + static_cast<size_t>(w->pending));
    w->pending = 0;
  }
  payloads_.resize(sn);
  inserted_.resize(sn);
  if (!windowed_) {
    row_window_[0]->groups->FindOrInsertBatch(*keys_, hashes_.data(), n, payloads_.data(), inserted_.data());
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const size_t si = static_cast<size_t>(i);
      Window* w = row_window_[si];
      bool inserted = false;
      payloads_[si] = w ? w->groups->FindOrInsert(keys_->key(i), keys_->key_len(i), hashes_[si], &inserted) : nullptr;
      inserted_[si] = inserted;
    }
  }
  if (rocks_) WEIR_RETURN_IF_ERROR(LoadGroups(n));
  for (int64_t i = 0; i < n; ++i) {
    if (!inserted_[static_cast<size_t>(i)]) continue;
    uint8_t* p = payloads_[static_cast<size_t>(i)];
    for (const AggSlot& a : aggs_) a.fn->Init(p + a.offset);
  }

  // 3. EMIT ON UPDATE: each group's previous row, before this batch changes it.
  const bool changelog = emit_ == AggregateEmit::kOnUpdate;
  if (changelog) {
    touched_.clear();
    for (int64_t i = 0; i < n; ++i) {
      uint8_t* p = payloads_[static_cast<size_t>(i)];
      if (!p || (Flags(p) & kTouched)) continue;
      Flags(p) |= kTouched;
      touched_.push_back({i, row_window_[static_cast<size_t>(i)]});
      if (Flags(p) & kEmitted)
        WEIR_RETURN_IF_ERROR(AppendRow(row_window_[static_cast<size_t>(i)], keys_->key(i), keys_->key_len(i), p, Op::kDelete));
    }
  }

  // 4. Row counts (insertions minus retractions).
  for (int64_t i = 0; i < n; ++i) {
    uint8_t* p = payloads_[static_cast<size_t>(i)];
    if (p) RowCount(p) += (ops && ops[i] == Op::kDelete) ? -1 : 1;
  }
  if (rocks_)
    for (int64_t i = 0; i < n; ++i) Flags(payloads_[static_cast<size_t>(i)]) |= kDirty;

  // 5. Aggregates, column-wise.
  for (AggSlot& a : aggs_) {
    const Column* arg = a.arg >= 0 ? batch.column(static_cast<size_t>(a.arg)).get() : nullptr;
    const uint8_t* mask = any_masked ? mask_.data() : nullptr;
    if (a.filter >= 0 || a.distinct) {
      dmask_.resize(sn);
      const Column* f = a.filter >= 0 ? batch.column(static_cast<size_t>(a.filter)).get() : nullptr;
      for (int64_t i = 0; i < n; ++i) {
        const size_t si = static_cast<size_t>(i);
        dmask_[si] = mask_[si] && (!f || (f->IsValid(i) && f->Get<uint8_t>(i) != 0));
      }
      mask = dmask_.data();
    }
    if (a.distinct) WEIR_RETURN_IF_ERROR(DistinctMask(a, batch, n, ops));
    WEIR_RETURN_IF_ERROR(a.fn->Update(payloads_.data(), a.offset, arg, ops, mask, n));
  }

  if (!changelog) return Status::OK();
  // 6. EMIT ON UPDATE: each touched group's new row; groups emptied by retractions go away.
  bool any_empty = false;
  for (const Touched& t : touched_) {
    uint8_t* p = payloads_[static_cast<size_t>(t.row)];
    Flags(p) &= ~kTouched;
    if (RowCount(p) > 0) {
      WEIR_RETURN_IF_ERROR(AppendRow(t.window, keys_->key(t.row), keys_->key_len(t.row), p, Op::kInsert));
      Flags(p) |= kEmitted;
    } else {
      any_empty = true;
    }
  }
  WEIR_RETURN_IF_ERROR(FlushOutput());
  if (any_empty) {
    // Erasing moves entries (backward shift), so look each group up again.
    for (const Touched& t : touched_) {
      const size_t si = static_cast<size_t>(t.row);
      uint8_t* p = t.window->groups->Find(keys_->key(t.row), keys_->key_len(t.row), hashes_[si]);
      if (!p || RowCount(p) > 0) continue;
      DestroyStates(p);
      t.window->groups->Erase(keys_->key(t.row), keys_->key_len(t.row), hashes_[si]);
      if (rocks_) store_->Delete(std::string_view(reinterpret_cast<const char*>(keys_->key(t.row)), keys_->key_len(t.row)));
    }
    // Before the next batch looks keys up again.
    if (rocks_) WEIR_RETURN_IF_ERROR(store_->Commit());
  }
  return Status::OK();
}

Status HashAggregateOperator::DistinctMask(const AggSlot& a, const RecordBatch& batch, int64_t n, const Op* ops) {
  // Keeps in dmask_ only a value's first occurrence in its group (or its last removal).
  const Column* arg = batch.column(static_cast<size_t>(a.arg)).get();
  KeyEncoder& dk = *distinct_keys_[static_cast<size_t>(a.distinct_index)];
  distinct_cols_ = key_ptrs_;
  distinct_cols_.push_back(arg);
  dk.Encode(distinct_cols_, n);
  distinct_hashes_.assign(hashes_.begin(), hashes_.begin() + n);
  HashColumn(*arg, n, true, distinct_hashes_.data());
  for (int64_t i = 0; i < n; ++i) {
    const size_t si = static_cast<size_t>(i);
    if (!dmask_[si] || !arg->IsValid(i)) {
      dmask_[si] = 0;
      continue;
    }
    HashTable& t = *row_window_[si]->distinct[static_cast<size_t>(a.distinct_index)];
    if (!(ops && ops[i] == Op::kDelete)) {
      uint8_t* cnt = t.FindOrInsert(dk.key(i), dk.key_len(i), distinct_hashes_[si], nullptr);
      dmask_[si] = ++*reinterpret_cast<int64_t*>(cnt) == 1;
    } else {
      uint8_t* cnt = t.Find(dk.key(i), dk.key_len(i), distinct_hashes_[si]);
      if (!cnt) {
        dmask_[si] = 0;
        continue;
      }
      dmask_[si] = --*reinterpret_cast<int64_t*>(cnt) == 0;
      if (dmask_[si]) t.Erase(dk.key(i), dk.key_len(i), distinct_hashes_[si]);
    }
  }
  return Status::OK();
}

Status HashAggregateOperator::AppendRow(const Window* w, const uint8_t* key, uint32_t key_len,
                                        const uint8_t* payload, Op op) {
  if (out_rows_ == 0) {
    auto& cols = out_.columns();
    cols.resize(out_schema_->num_fields());
    out_cols_.resize(cols.size());
    for (size_t c = 0; c < cols.size(); ++c) out_cols_[c] = ReuseColumn(&cols[c], out_schema_->field(c).type);
    key_out_cols_.clear();
    for (int k : key_outputs_) key_out_cols_.push_back(out_cols_[static_cast<size_t>(k)]);
    out_ops_.clear();
  }
  if (!constant_key_) keys_->Decode(key, key_len, key_out_cols_);
  if (windowed_) {
    if (ws_key_ >= 0) out_cols_[static_cast<size_t>(ws_key_)]->Append<int64_t>(w->start);
    if (we_key_ >= 0) out_cols_[static_cast<size_t>(we_key_)]->Append<int64_t>(w->end);
  }
  for (size_t j = 0; j < aggs_.size(); ++j)
    aggs_[j].fn->Finalize(payload + aggs_[j].offset, out_cols_[static_cast<size_t>(group_count_) + j]);
  out_ops_.push_back(op);
  if (++out_rows_ >= kBatchRowsDefault) return FlushOutput();
  return Status::OK();
}

Status HashAggregateOperator::FlushOutput() {
  if (out_rows_ == 0) return Status::OK();
  out_.set_num_rows(out_rows_);
  if (emit_ == AggregateEmit::kOnUpdate) {
    Op* ops = out_.EnableOps();
    std::copy(out_ops_.begin(), out_ops_.end(), ops);
  } else {
    out_.DisableOps();
  }
  out_rows_ = 0;
  return output_->Push(out_);
}

Status HashAggregateOperator::CloseWindow(std::map<int64_t, std::unique_ptr<Window>>::iterator it, bool emit) {
  Window* w = it->second.get();
  Status st;
  if (rocks_) {
    // Every group is in the store once the cache is written back; emission scans it.
    st = emit ? EmitStored(w) : WriteBack(w, /*clear=*/true);
    store_.reset();  // removes the working directory; the next input starts an empty store
  }
  w->groups->ForEach([&](const uint8_t* key, uint32_t len, uint8_t* payload) {
    if (emit && st.ok() && RowCount(payload) > 0) st = AppendRow(w, key, len, payload, Op::kInsert);
    DestroyStates(payload);
  });
  w->groups->Clear();
  for (auto& d : w->distinct) d->Clear();
  for (auto& c : cache_)
    if (c == w) c = nullptr;
  pool_.push_back(windows_.extract(it));
  return st;
}

Status HashAggregateOperator::OnWatermark(int64_t watermark_us) {
  if (sessions()) {
    if (emit_ != AggregateEmit::kOnFinish)
      WEIR_RETURN_IF_ERROR(CloseSessions(watermark_us, watermark_us == kFinalWatermark));
    WEIR_RETURN_IF_ERROR(FlushOutput());
    return output_->PushWatermark(watermark_us);
  }
  if (windowed_) {
    while (!windows_.empty()) {
      auto it = windows_.begin();
      // Windows are ordered by start and share one size, so ends are ordered too.
      if (it->second->end + lateness_us_ > watermark_us && watermark_us != kFinalWatermark) break;
      if (emit_ == AggregateEmit::kOnFinish) break;
      WEIR_RETURN_IF_ERROR(CloseWindow(it, emit_ == AggregateEmit::kOnWindowClose));
    }
    WEIR_RETURN_IF_ERROR(FlushOutput());
  }
  return output_->PushWatermark(watermark_us);
}

Status HashAggregateOperator::Finish() {
  if (sessions()) {
    if (emit_ != AggregateEmit::kOnUpdate) WEIR_RETURN_IF_ERROR(CloseSessions(kFinalWatermark, true));
    WEIR_RETURN_IF_ERROR(FlushOutput());
    return output_->Finish();
  }
  if (emit_ == AggregateEmit::kOnFinish || emit_ == AggregateEmit::kOnWindowClose) {
    bool any = false;
    while (!windows_.empty()) {
      any |= windows_.begin()->second->groups->size() > 0 || (rocks_ && store_ && !store_->Empty());
      WEIR_RETURN_IF_ERROR(CloseWindow(windows_.begin(), true));
    }
    if (!any && constant_key_ && !windowed_ && emit_ == AggregateEmit::kOnFinish) {
      // A global aggregate over no rows still has one result row (count(*) = 0).
      std::vector<uint8_t> payload(payload_bytes_, 0);
      for (const AggSlot& a : aggs_) a.fn->Init(payload.data() + a.offset);
      WEIR_RETURN_IF_ERROR(AppendRow(nullptr, nullptr, 0, payload.data(), Op::kInsert));
      for (const AggSlot& a : aggs_) a.fn->Destroy(payload.data() + a.offset);
    }
    WEIR_RETURN_IF_ERROR(FlushOutput());
  }
  return output_->Finish();
}

size_t HashAggregateOperator::state_bytes() const {
  size_t bytes = 0;
  for (const auto& [start, w] : windows_) {
    bytes += w->groups->MemoryBytes();
    for (const auto& d : w->distinct) bytes += d->MemoryBytes();
  }
  return bytes;
}

int64_t HashAggregateOperator::groups() const {
  int64_t g = 0;
  for (const auto& [start, w] : windows_) g += static_cast<int64_t>(w->groups->size());
  if (store_) g += static_cast<int64_t>(store_->EstimateKeys());
  return g;
}

// ---- RocksDB backend ----------------------------------------------------------------------------

std::string HashAggregateOperator::WorkDir() const { return state_.root + "/work/" + state_.name; }

Status HashAggregateOperator::EnsureStore() {
  if (store_) return Status::OK();
  if (state_.name.empty()) return Internal("hash aggregate: rocksdb state without an operator name");
  WEIR_ASSIGN_OR_RETURN(store_, RocksStore::Open(WorkDir()));
  load_what_ = "stored group in " + store_->dir();
  return Status::OK();
}

Status HashAggregateOperator::LoadPayload(std::string_view value, uint8_t* payload) const {
  if (value.size() < payload_bytes_ || (!out_of_line_ && value.size() != payload_bytes_))
    return DataError("hash aggregate: stored group of {} bytes in {}, expected {}", value.size(), store_->dir(),
                     payload_bytes_);
  std::memcpy(payload, value.data(), payload_bytes_);
  Flags(payload) &= kEmitted;
  if (!out_of_line_) return Status::OK();
  // Stored scrubbed (no addresses); the out-of-line parts follow the payload.
  ScrubStates(payload);
  StateReader r(value.substr(payload_bytes_), load_what_);
  LoadStates(payload, &r);
  if (r.ok() && !r.at_end()) r.Fail("trailing bytes");
  return r.status();
}

Status HashAggregateOperator::LoadGroups(int64_t n) {
  miss_keys_.clear();
  miss_rows_.clear();
  for (int64_t i = 0; i < n; ++i) {
    if (!inserted_[static_cast<size_t>(i)]) continue;
    miss_keys_.emplace_back(reinterpret_cast<const char*>(keys_->key(i)), keys_->key_len(i));
    miss_rows_.push_back(i);
  }
  Status load;
  WEIR_RETURN_IF_ERROR(store_->MultiGet(miss_keys_.data(), miss_keys_.size(), [&](size_t j, std::string_view v) {
    const size_t row = static_cast<size_t>(miss_rows_[j]);
    if (load.ok()) load = LoadPayload(v, payloads_[row]);
    inserted_[row] = 0;  // loaded: no Init
  }));
  return load;
}

Status HashAggregateOperator::WriteBack(Window* w, bool clear) {
  // In key order: RocksDB's memtable (a skip list) inserts ascending keys from its last
  // position, far cheaper than keys in hash order (measured: the write-back dominated).
  dirty_.clear();
  w->groups->ForEach([&](const uint8_t* key, uint32_t len, uint8_t* payload) {
    if (!(Flags(payload) & kDirty)) return;
    Flags(payload) &= ~kDirty;
    dirty_.push_back({std::string_view(reinterpret_cast<const char*>(key), len), payload});
  });
  std::sort(dirty_.begin(), dirty_.end(), [](const DirtyGroup& x, const DirtyGroup& y) { return x.key < y.key; });
  for (const DirtyGroup& d : dirty_) {
    const std::string_view k = d.key;
    uint8_t* payload = d.payload;
    if (!out_of_line_) {
      store_->Put(k, std::string_view(reinterpret_cast<const char*>(payload), payload_bytes_));
      continue;
    }
    StateWriter sw(std::move(value_scratch_));
    ScrubStates(sw.RawCopy(payload, payload_bytes_));
    SaveStates(payload, &sw);
    store_->Put(k, sw.buffer());
    value_scratch_ = std::move(sw.buffer());
  }
  WEIR_RETURN_IF_ERROR(store_->Commit());
  if (clear) {
    if (out_of_line_) w->groups->ForEach([&](const uint8_t*, uint32_t, uint8_t* payload) { DestroyStates(payload); });
    w->groups->Clear();
  }
  return Status::OK();
}

Status HashAggregateOperator::EmitStored(const Window* w) {
  WEIR_RETURN_IF_ERROR(WriteBack(const_cast<Window*>(w), /*clear=*/true));
  uint8_t* p = reinterpret_cast<uint8_t*>(payload_scratch_.data());
  return store_->ForEach("", [&](std::string_view k, std::string_view v) -> Status {
    std::memset(p, 0, payload_bytes_);
    Status st = LoadPayload(v, p);
    if (st.ok() && RowCount(p) > 0)
      st = AppendRow(w, reinterpret_cast<const uint8_t*>(k.data()), static_cast<uint32_t>(k.size()), p, Op::kInsert);
    if (out_of_line_) DestroyStates(p);
    return st;
  });
}

Status HashAggregateOperator::PrepareCheckpoint(uint64_t epoch, const CheckpointContext& ctx) {
  if (!rocks_) return Status::OK();
  if (ctx.dir.empty()) return Internal("hash aggregate: rocksdb checkpoint without a directory");
  WEIR_RETURN_IF_ERROR(EnsureStore());
  if (!windows_.empty()) WEIR_RETURN_IF_ERROR(WriteBack(windows_.begin()->second.get(), /*clear=*/false));
  const std::string dest = ctx.dir + "/" + state_.name;
  // A leftover of a checkpoint of this epoch that never became durable (a crash in between).
  WEIR_RETURN_IF_ERROR(RemoveTree(dest));
  WEIR_RETURN_IF_ERROR(store_->CreateCheckpoint(dest));
  ckpt_relative_ = ctx.relative_dir + "/" + state_.name;
  changed_since_prepare_ = false;
  return Status::OK();
}

std::string HashAggregateOperator::Describe() const { return description_; }

// ---- checkpoints ------------------------------------------------------------------------------

void HashAggregateOperator::ScrubStates(uint8_t* state) const {
  for (const AggSlot& a : aggs_)
    if (a.fn->has_out_of_line_state()) a.fn->ScrubState(state + a.offset);
}

void HashAggregateOperator::SaveStates(const uint8_t* state, StateWriter* w) const {
  for (const AggSlot& a : aggs_)
    if (a.fn->has_out_of_line_state()) a.fn->SaveState(state + a.offset, w);
}

void HashAggregateOperator::LoadStates(uint8_t* state, StateReader* r) const {
  for (const AggSlot& a : aggs_)
    if (a.fn->has_out_of_line_state()) a.fn->LoadState(state + a.offset, r);
}

Status HashAggregateOperator::SnapshotState(StateWriter* w) const {
  if (rocks_) {
    // No I/O here: the groups are in the RocksDB checkpoint PrepareCheckpoint made.
    if (changed_since_prepare_)
      return Internal("hash aggregate (rocksdb): SnapshotState without PrepareCheckpoint after new input");
    w->Begin("hash_aggregate_rocksdb");
    w->I64(rows_late_);
    w->U32(payload_bytes_);
    w->U32(fixed_key_bytes_);
    w->String(ckpt_relative_);
    w->End();
    return Status::OK();
  }
  w->Begin("hash_aggregate");
  w->I64(rows_late_);
  w->I64(min_session_end_);
  w->U64(windows_.size());
  for (const auto& [start, win] : windows_) {
    w->I64(win->start);
    w->I64(win->end);
    if (sessions()) {
      // The payload's SessionList* is not written; each group's list follows in slot order.
      win->groups->Snapshot(w, [](uint8_t* payload) { std::memset(payload + 16, 0, 8); });
    } else if (out_of_line_) {
      win->groups->Snapshot(w, [this](uint8_t* payload) { ScrubStates(payload); });
    } else {
      win->groups->Snapshot(w);
    }
    for (const auto& d : win->distinct) d->Snapshot(w);
    if (sessions()) {
      std::vector<uint8_t> copy(payload_bytes_);
      win->groups->ForEach([&](const uint8_t*, uint32_t, uint8_t* payload) {
        const SessionList* list = *reinterpret_cast<SessionList* const*>(payload + 16);
        w->Bool(list != nullptr);
        if (!list) return;
        w->U64(list->size());
        for (const Session& s : *list) {
          w->I64(s.start);
          w->I64(s.end);
          w->Bool(s.emitted);
          std::memcpy(copy.data(), s.state.get(), payload_bytes_);
          ScrubStates(copy.data());
          w->Raw(copy.data(), payload_bytes_);
          SaveStates(s.state.get(), w);
        }
      });
    } else if (out_of_line_) {
      win->groups->ForEach([&](const uint8_t*, uint32_t, uint8_t* payload) { SaveStates(payload, w); });
    }
  }
  // The recycled tables' capacities: a window opened later reuses them, and a table's
  // capacity decides its slot order, hence the order a closing window emits its groups in.
  w->U64(pool_.size());
  for (const auto& node : pool_) {
    w->U64(node.mapped()->groups->capacity());
    for (const auto& d : node.mapped()->distinct) w->U64(d->capacity());
  }
  w->End();
  return Status::OK();
}

Status HashAggregateOperator::RestoreState(StateReader* r) {
  if (!windows_.empty() || store_) return Internal("hash aggregate: RestoreState on an operator that has state");
  if (rocks_) {
    r->Begin("hash_aggregate_rocksdb");
    const int64_t rows_late = r->I64();
    const uint32_t payload_bytes = r->U32();
    const uint32_t fixed_key_bytes = r->U32();
    const std::string relative = r->String();
    r->End();
    if (!r->ok()) return r->status();
    if (payload_bytes != payload_bytes_ || fixed_key_bytes != fixed_key_bytes_)
      return DataError("hash aggregate: stored groups have {}-byte payloads and {}-byte keys, the query {} and {}",
                       payload_bytes, fixed_key_bytes, payload_bytes_, fixed_key_bytes_);
    if (relative.find("..") != std::string::npos || (!relative.empty() && relative[0] == '/'))
      return DataError("hash aggregate: invalid rocksdb checkpoint path '{}'", relative);
    if (state_.name.empty()) return Internal("hash aggregate: rocksdb state without an operator name");
    if (!relative.empty()) {
      WEIR_ASSIGN_OR_RETURN(store_, RocksStore::OpenFromCheckpoint(state_.root + "/" + relative, WorkDir()));
      load_what_ = "stored group in " + store_->dir();
    }
    ckpt_relative_ = relative;
    rows_late_ = rows_late;
    return Status::OK();
  }
  r->Begin("hash_aggregate");
  const int64_t rows_late = r->I64();
  const int64_t min_session_end = r->I64();
  const uint64_t nwindows = r->U64();
  if (!r->ok()) return r->status();
  if (nwindows > r->remaining() / 16 || (!windowed_ && nwindows > 1) || (sessions() && nwindows > 1)) {
    r->Fail("hash aggregate: invalid window count");
    return r->status();
  }
  int64_t prev_start = INT64_MIN;
  for (uint64_t k = 0; k < nwindows; ++k) {
    const int64_t start = r->I64();
    const int64_t end = r->I64();
    if (!r->ok()) return r->status();
    if ((k > 0 && start <= prev_start) || (windowed_ && !sessions() && end != WindowEnd(start))) {
      r->Fail("hash aggregate: invalid window bounds");
      return r->status();
    }
    prev_start = start;
    Window* win = GetWindow(start);
    win->end = end;
    WEIR_RETURN_IF_ERROR(win->groups->Restore(r));
    // Pointer-holding bytes were zero when written; make sure (a corrupt snapshot must not leave
    // a stray address for the destructor) before loading the out-of-line parts into them.
    if (sessions()) {
      win->groups->ForEach([](const uint8_t*, uint32_t, uint8_t* payload) { std::memset(payload + 16, 0, 8); });
    } else if (out_of_line_) {
      win->groups->ForEach([this](const uint8_t*, uint32_t, uint8_t* payload) { ScrubStates(payload); });
    }
    for (auto& d : win->distinct) WEIR_RETURN_IF_ERROR(d->Restore(r));
    if (sessions()) {
      win->groups->ForEach([&](const uint8_t*, uint32_t, uint8_t* payload) {
        SessionList*& list = *reinterpret_cast<SessionList**>(payload + 16);
        list = nullptr;
        if (!r->ok() || !r->Bool()) return;
        const uint64_t n = r->U64();
        if (!r->ok()) return;
        if (n > r->remaining() / (17 + payload_bytes_)) {
          r->Fail("hash aggregate: session count exceeds the snapshot");
          return;
        }
        list = new SessionList();
        list->reserve(n);
        for (uint64_t i = 0; i < n && r->ok(); ++i) {
          Session s;
          s.start = r->I64();
          s.end = r->I64();
          s.emitted = r->Bool();
          std::string_view raw = r->Raw(payload_bytes_);
          if (!r->ok()) return;
          if (s.end < s.start || (!list->empty() && list->back().end > s.start)) {
            r->Fail("hash aggregate: sessions out of order");
            return;
          }
          s.state.reset(new uint8_t[payload_bytes_]());
          std::memcpy(s.state.get(), raw.data(), payload_bytes_);
          ScrubStates(s.state.get());
          list->push_back(std::move(s));
          LoadStates(list->back().state.get(), r);
        }
      });
    } else if (out_of_line_) {
      win->groups->ForEach([&](const uint8_t*, uint32_t, uint8_t* payload) {
        if (r->ok()) LoadStates(payload, r);
      });
    }
    if (!r->ok()) return r->status();
  }
  const uint64_t pooled = r->U64();
  if (!r->ok()) return r->status();
  if (pooled > r->remaining() / 8) {
    r->Fail("hash aggregate: pool size exceeds the snapshot");
    return r->status();
  }
  // Capacities are not backed by snapshot bytes: tables are re-created only while their slot
  // arrays stay within a bound (4 x the snapshot or 256 MiB); beyond it a later window starts
  // small (same results, possibly another emission order within a window).
  const size_t budget_bytes = std::max<size_t>(size_t{256} << 20, 4 * r->remaining());
  size_t used_bytes = 0;
  WindowMap tmp;
  for (uint64_t k = 0; k < pooled && r->ok(); ++k) {
    auto win = std::make_unique<Window>();
    const uint64_t cap = r->U64();
    win->groups = std::make_unique<HashTable>(payload_bytes_, fixed_key_bytes_);
    std::vector<uint64_t> dcaps;
    for (size_t d = 0; d < distinct_keys_.size(); ++d) dcaps.push_back(r->U64());
    if (!r->ok()) break;
    auto fits = [&](uint64_t c, size_t slot_guess) {
      return c <= HashTable::kCapacityMax && used_bytes + c * slot_guess <= budget_bytes;
    };
    if (fits(cap, payload_bytes_ + 32)) {
      win->groups->Reserve(cap * HashTable::kLoadNum / HashTable::kLoadDen);
      used_bytes += cap * (payload_bytes_ + 32);
    }
    for (size_t d = 0; d < distinct_keys_.size(); ++d) {
      const auto& dk = distinct_keys_[d];
      win->distinct.push_back(std::make_unique<HashTable>(8, dk->fixed() ? dk->fixed_key_bytes() : 0));
      if (fits(dcaps[d], 40)) {
        win->distinct.back()->Reserve(dcaps[d] * HashTable::kLoadNum / HashTable::kLoadDen);
        used_bytes += dcaps[d] * 40;
      }
    }
    tmp.emplace(0, std::move(win));
    pool_.push_back(tmp.extract(tmp.begin()));
  }
  r->End();
  if (!r->ok()) return r->status();
  rows_late_ = rows_late;
  min_session_end_ = min_session_end;
  return Status::OK();
}

}  // namespace weir
