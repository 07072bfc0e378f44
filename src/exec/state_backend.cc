#include "exec/state_backend.h"

#include <fmt/format.h>

#include <cctype>

namespace weir {

std::string_view StateBackendName(StateBackend b) {
  switch (b) {
    case StateBackend::kMemory: return "memory";
    case StateBackend::kRocksDb: return "rocksdb";
  }
  return "?";
}

Result<StateBackend> ParseStateBackend(std::string_view text) {
  std::string t(text);
  for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t == "memory") return StateBackend::kMemory;
  if (t == "rocksdb") return StateBackend::kRocksDb;
  return InvalidArgument("unknown state backend '{}' (expected 'memory' or 'rocksdb')", text);
}

Result<int64_t> ParseByteSize(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  size_t j = i;
  while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
  std::string unit;
  for (size_t k = j; k < text.size(); ++k)
    if (!std::isspace(static_cast<unsigned char>(text[k]))) unit += static_cast<char>(std::tolower(static_cast<unsigned char>(text[k])));
  if (j == i || j - i > 15) return InvalidArgument("invalid size '{}': expected e.g. '65536', '256KB', '64MB', '1GB'", text);
  int64_t n = 0;
  for (size_t k = i; k < j; ++k) n = n * 10 + (text[k] - '0');
  int shift;
  if (unit.empty() || unit == "b") shift = 0;
  else if (unit == "kb" || unit == "kib" || unit == "k") shift = 10;
  else if (unit == "mb" || unit == "mib" || unit == "m") shift = 20;
  else if (unit == "gb" || unit == "gib" || unit == "g") shift = 30;
  else return InvalidArgument("invalid size '{}': unknown unit '{}' (B, KB, MB, GB)", text, unit);
  if (n < 1) return InvalidArgument("invalid size '{}': must be at least 1 byte", text);
  if (n > (INT64_MAX >> shift)) return InvalidArgument("invalid size '{}': too large", text);
  return n << shift;
}

std::string StateOperatorName(std::string_view pipeline, size_t index) {
  std::string out;
  out.reserve(pipeline.size() + 8);
  for (char c : pipeline) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (plain) out += c;
    else out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
  }
  out += fmt::format(".{}", index);
  return out;
}

}  // namespace weir
