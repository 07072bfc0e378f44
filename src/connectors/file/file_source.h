// File source: reads a CSV or JSON Lines file (connector = 'file').
//
// Options: path (required), format ('csv' default | 'json'), follow ('false' default;
// 'true' tails a growing file), on_error ('fail' | 'skip' | 'dead_letter') and
// dead_letter_path, line_bytes_max (default 16 MiB), and the format's own options (csv:
// header, delimiter, quote, null_string).
//
// Reading: through the SourceContext's Env (a RandomAccessFile, pread(2) under PosixEnv) in
// 1 MiB blocks at the source's own offset into one reused buffer that keeps the unconsumed tail (a
// partial record) at its front; the decoder turns complete records into batches. The buffer
// holds at most line_bytes_max + 2 blocks: a longer record is a bad record, discarded as it
// streams by. A batch is topped up across block boundaries until it has rows_max rows or
// 16 MiB of input. With follow = 'true' the end of the file is not the end of the stream:
// Next() returns kIdle and tries again on the next poll, and a last line without its newline
// waits for it (truncation or rotation of the followed file is not detected).
//
// Errors: "cannot open 'PATH': <errno text>" (kNotFound for a missing file, else kIOError),
// "cannot read 'PATH': <errno text>" (kIOError; a directory fails this way at creation);
// malformed records follow on_error ("path:line: reason").
// Lifecycle and thread-safety: one driver thread; the file is closed at kEnd or destruction.
#pragma once

#include <memory>
#include <vector>

#include "connectors/source.h"

namespace weir {

/// Opens `options`' path and returns a source producing `schema`'s columns at `projection`
/// (schema indices, in output order). Reads the options listed above. The input and the
/// dead-letter file are opened through `context.env`, which must outlive the source.
Result<std::unique_ptr<Source>> MakeFileSource(const Options& options, SchemaPtr schema,
                                               const std::vector<int>& projection,
                                               const SourceContext& context = {});

}  // namespace weir
