// Nexmark source: the `connector = 'nexmark'` CREATE SOURCE, one table of the Nexmark
// benchmark's person / auction / bid event stream (generator rules: nexmark_generator.h and
// README.md in this folder).
//
// Contract: the three tables of one (events, seed, base_time) are one consistent stream; the
// same options always produce the same rows. date_time may run up to
// nexmark::kMaxLatenessMicros (3 s) behind the largest date_time already emitted, so a
// watermark `date_time - INTERVAL '3' SECOND` (or looser) is never violated.
// Pacing: with `rate`, events are released on the SourceContext Env's monotonic clock (a whole
// batch at a time, at most about 100 batches a second); Next() sleeps (Env::SleepForMicros) at
// most 100 ms and returns kIdle when nothing is due yet. Without it the source runs flat out.
// Ownership / thread-safety: the source owns its generator; one driver thread polls it.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "batch/record_batch.h"
#include "common/status.h"
#include "connectors/options.h"
#include "connectors/source.h"

namespace weir {

/// Schema of a Nexmark table: "person", "auction" or "bid" (case-insensitive). Error for other
/// names. Column types:
///   person(id BIGINT, name VARCHAR, email_address VARCHAR, credit_card VARCHAR, city VARCHAR,
///          state VARCHAR, date_time TIMESTAMP, extra VARCHAR)
///   auction(id BIGINT, item_name VARCHAR, description VARCHAR, initial_bid BIGINT,
///           reserve BIGINT, date_time TIMESTAMP, expires TIMESTAMP, seller BIGINT,
///           category BIGINT, extra VARCHAR)
///   bid(auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR,
///       date_time TIMESTAMP, extra VARCHAR)
/// Columns are never NULL (Field::nullable = false).
Result<SchemaPtr> NexmarkTableSchema(std::string_view table);

/// A bounded/paced Nexmark source. Options: table (required), events (total events of the
/// whole stream across all three tables, default 10000000; 0 = unbounded), seed (default 0),
/// rate (events/s of the whole stream, optional: pace emission to the Env clock; absent = as fast
/// as possible), base_time ('YYYY-MM-DD HH:MM:SS', default 2015-07-15 00:00:00), and reads but
/// ignores "connector". Marks every option it reads; the caller then calls CheckAllUsed.
///
/// `schema` is the source's resolved schema (nullptr = the table's own); `projection` lists the
/// schema columns to produce, in output order (empty = no columns: batches carry only a row
/// count). Projected columns are matched to the table's by name (case-insensitive) and must
/// have its types. Errors: InvalidArgument for a bad option value, unknown table or column,
/// type mismatch, or out-of-range projection index. `context.env` (not owned, must outlive the
/// source) is the clock of the pacing.
Result<std::unique_ptr<Source>> MakeNexmarkSource(const Options& options, SchemaPtr schema,
                                                  const std::vector<int>& projection,
                                                  const SourceContext& context = {});

}  // namespace weir
