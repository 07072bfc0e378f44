// Connector registry: turns CREATE SOURCE / CREATE SINK definitions into Source / Sink objects.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "connectors/options.h"
#include "connectors/sink.h"
#include "connectors/source.h"

namespace weir {

/// Resolves a source's schema: the declared columns, or (for connectors whose schema is fixed,
/// like nexmark) the connector's own schema, checking declared columns against it.
Result<SchemaPtr> ResolveSourceSchema(const Options& options, SchemaPtr declared);

/// Creates a reader of a source. `projection` lists the schema columns to produce.
/// `context`: the Env its file reads, dead-letter writes and pacing clock go through.
/// Unknown options are errors (CheckAllUsed).
Result<std::unique_ptr<Source>> MakeSource(const Options& options, SchemaPtr schema,
                                           const std::vector<int>& projection,
                                           const SourceContext& context = {});

/// Creates a sink writing rows of `schema`. `changelog`: rows carry ops. `context`: the Env of
/// its file I/O and whether it runs in exactly-once (two-phase-commit) mode; only the file sink
/// has such a mode, the others ignore it (at-least-once under checkpoints, see sink.h).
Result<std::unique_ptr<Sink>> MakeSink(const Options& options, SchemaPtr schema, bool changelog,
                                       const SinkContext& context = {});

}  // namespace weir
