// Partitioned file sink: `connector = 'file', partition_by = 'dt,hm'` writes each row into a
// Hive-style directory of its partition values, as Flink's filesystem connector does:
//
//   <path>/dt=2015-07-15/hm=00%3A00/part-0.csv
//
// `path` is then a directory (created if missing). The partition columns name sink columns;
// they are not written into the files (their values are in the directory names, as in
// Hive/Flink). Values are escaped as Hive does (PartitionPathUtils.escapePathName): control
// characters and " # % ' * / : = ? \ { [ ] ^ DEL become %XX (upper-case hex); NULL and the
// empty string become `__HIVE_DEFAULT_PARTITION__`. Partition columns may be VARCHAR, INT,
// BIGINT, BOOLEAN or TIMESTAMP (text as the CSV encoder prints it).
//
// Files: each partition has one open part file (an EncodedFdSink with its own header); at most
// `partitions_open_max` (default 256) are open at once — opening one more closes the least
// recently written, and a later row of that partition starts its next part file
// (part-1.csv, …). Rows of a partition keep their order; part files of a partition are in
// order by number. Durability as the file sink (Flush = in the page cache).
//
// Two-phase-commit mode (SinkContext::two_phase_commit; docs/exactly-once-sinks.md): part
// files are written as hidden staging files `.part-N.<format>.weir-staging` beside their final
// name and rolled at every checkpoint: PreCommit fsyncs and closes every part file of the
// epoch (and the directories they and new partition directories live in) and records them;
// Commit renames them to `part-N.<format>` and fsyncs their directories; Recover renames what
// the checkpoint pre-committed if still staged, deletes every other staging file and the part
// files of known partitions numbered past the checkpoint. The state holds each partition's
// next part number and the pending part files. Files of partitions the checkpoint does not
// know are left alone. Every file access goes through the SinkContext's Env.
// Steady state per batch: one pass computing each row's partition key into a reused buffer
// (consecutive rows of the same partition compare equal to the previous key and skip the map
// lookup), then one gather + encode per partition touched. Thread-safety: one driver thread.
#pragma once

#include <memory>

#include "connectors/sink.h"
#include "formats/format.h"

namespace weir {

/// Creates the sink for `options` (which carries partition_by); `schema` is the sink's rows.
Result<std::unique_ptr<Sink>> MakePartitionedFileSink(const Options& options, SchemaPtr schema,
                                                      bool changelog,
                                                      const SinkContext& context = {});

/// Hive's escaping of one partition value (exposed for tests).
std::string EscapePartitionValue(std::string_view value);

}  // namespace weir
