#include "connectors/registry.h"

#include "connectors/blackhole/blackhole_sink.h"
#include "connectors/file/file_sink.h"
#include "connectors/file/file_source.h"
#include "connectors/nexmark/nexmark_source.h"
#include "connectors/stdout/stdout_sink.h"

namespace weir {

namespace {

Result<std::string> ConnectorName(const Options& options) {
  if (!options.Has("connector")) return InvalidArgument("missing required option 'connector'");
  return options.GetEnum("connector", "", {"file", "nexmark", "stdout", "blackhole"});
}

}  // namespace

Result<SchemaPtr> ResolveSourceSchema(const Options& options, SchemaPtr declared) {
  WEIR_ASSIGN_OR_RETURN(std::string connector, ConnectorName(options));
  if (connector == "nexmark") {
    WEIR_ASSIGN_OR_RETURN(std::string table, options.GetRequired("table"));
    WEIR_ASSIGN_OR_RETURN(SchemaPtr fixed, NexmarkTableSchema(table));
    if (declared && declared->num_fields() > 0) {
      for (const Field& f : declared->fields()) {
        int i = fixed->FindField(f.name);
        if (i < 0) return InvalidArgument("nexmark table '{}' has no column '{}'", table, f.name);
        if (fixed->field(static_cast<size_t>(i)).type != f.type)
          return InvalidArgument("nexmark column '{}' has type {}, declared {}", f.name,
                                 fixed->field(static_cast<size_t>(i)).type.ToString(), f.type.ToString());
      }
    }
    return fixed;
  }
  if (connector == "stdout" || connector == "blackhole")
    return InvalidArgument("connector '{}' can only be used by a sink", connector);
  if (!declared || declared->num_fields() == 0)
    return InvalidArgument("a '{}' source needs a column list", connector);
  return declared;
}

Result<std::unique_ptr<Source>> MakeSource(const Options& options, SchemaPtr schema,
                                           const std::vector<int>& projection,
                                           const SourceContext& context) {
  WEIR_ASSIGN_OR_RETURN(std::string connector, ConnectorName(options));
  std::unique_ptr<Source> source;
  if (connector == "file") {
    WEIR_ASSIGN_OR_RETURN(source, MakeFileSource(options, schema, projection, context));
  } else if (connector == "nexmark") {
    WEIR_ASSIGN_OR_RETURN(source, MakeNexmarkSource(options, schema, projection, context));
  } else {
    return InvalidArgument("connector '{}' cannot be used by a source", connector);
  }
  WEIR_RETURN_IF_ERROR(options.CheckAllUsed(fmt::format("connector '{}'", connector)));
  return source;
}

Result<std::unique_ptr<Sink>> MakeSink(const Options& options, SchemaPtr schema, bool changelog,
                                       const SinkContext& context) {
  WEIR_ASSIGN_OR_RETURN(std::string connector, ConnectorName(options));
  std::unique_ptr<Sink> sink;
  if (connector == "file") {
    WEIR_ASSIGN_OR_RETURN(sink, MakeFileSink(options, schema, changelog, context));
  } else if (connector == "stdout") {
    WEIR_ASSIGN_OR_RETURN(sink, MakeStdoutSink(options, schema, changelog));
  } else if (connector == "blackhole") {
    WEIR_ASSIGN_OR_RETURN(sink, MakeBlackholeSink(options, schema));
  } else {
    return InvalidArgument("connector '{}' cannot be used by a sink", connector);
  }
  WEIR_RETURN_IF_ERROR(options.CheckAllUsed(fmt::format("sink connector '{}'", connector)));
  return sink;
}

}  // namespace weir
