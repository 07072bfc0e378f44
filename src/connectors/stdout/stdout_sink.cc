#include "connectors/stdout/stdout_sink.h"

#include <unistd.h>

#include "connectors/file/file_sink.h"

namespace weir {

Result<std::unique_ptr<Sink>> MakeStdoutSink(const Options& options, SchemaPtr schema,
                                             bool changelog) {
  WEIR_ASSIGN_OR_RETURN(std::string format, options.GetEnum("format", "csv", {"csv", "json"}));
  WEIR_ASSIGN_OR_RETURN(std::unique_ptr<Encoder> encoder,
                        MakeEncoder(format, std::move(schema), changelog, options));
  EncodedFdSink::Config config;
  config.name = "stdout";
  config.describe = fmt::format("stdout ({})", format);
  config.fd = STDOUT_FILENO;
  config.owns_fd = false;
  config.flush_bytes = 0;  // every Write() reaches the terminal or pipe at once
  return std::unique_ptr<Sink>(new EncodedFdSink(std::move(encoder), std::move(config)));
}

}  // namespace weir
