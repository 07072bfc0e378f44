// Blackhole sink: counts rows and discards them. The standard sink of streaming benchmarks
// (Nexmark), so that measured throughput is the query's, not an encoder's or a disk's.
#pragma once

#include <memory>

#include "connectors/sink.h"

namespace weir {

Result<std::unique_ptr<Sink>> MakeBlackholeSink(const Options& options, SchemaPtr schema);

}  // namespace weir
