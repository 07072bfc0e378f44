// Stdout sink (connector = 'stdout'): writes rows to standard output as CSV (default, with a
// header unless header = 'false') or JSON Lines (format = 'json').
//
// Each Write() is encoded and written with write(2) at once, so rows appear as they are
// produced; descriptor 1 is never closed. A closed pipe is an IOError ("stdout: Broken pipe")
// when SIGPIPE is ignored; the default SIGPIPE disposition ends the process, as for any
// command-line tool. Thread-safety: one driver thread; nothing else should write to stdout
// meanwhile, or lines may interleave.
#pragma once

#include <memory>

#include "connectors/sink.h"

namespace weir {

Result<std::unique_ptr<Sink>> MakeStdoutSink(const Options& options, SchemaPtr schema,
                                             bool changelog);

}  // namespace weir
