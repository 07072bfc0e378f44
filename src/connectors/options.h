// Options: the `WITH (key = 'value', ...)` map of a CREATE SOURCE / SINK / MATERIALIZED VIEW.
//
// Keys are case-insensitive (stored lower-case). Every getter marks the key as used so the
// caller can reject unknown keys (typos) with CheckAllUsed(). Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "common/status.h"

namespace weir {

class Options {
 public:
  Options() = default;
  /// Adds `key = value`; an already present key is an error.
  Status Set(std::string_view key, std::string value);

  bool Has(std::string_view key) const;
  /// The value of `key`, or `fallback` when absent.
  std::string GetString(std::string_view key, std::string_view fallback = {}) const;
  /// Required string; NotFound-style InvalidArgument when absent.
  Result<std::string> GetRequired(std::string_view key) const;
  /// Integer option (decimal digits, optional sign); error names the key and value.
  Result<int64_t> GetInt(std::string_view key, int64_t fallback) const;
  /// 'true'/'false'/'1'/'0'/'yes'/'no'/'on'/'off'.
  Result<bool> GetBool(std::string_view key, bool fallback) const;
  /// One of `allowed`; error lists them.
  Result<std::string> GetEnum(std::string_view key, std::string_view fallback,
                              std::initializer_list<std::string_view> allowed) const;

  /// Error naming the first key never read by a getter ("unknown option 'pth' for connector
  /// 'file'"), so typos do not pass silently.
  Status CheckAllUsed(std::string_view what) const;

  const std::map<std::string, std::string>& entries() const { return entries_; }
  /// "key = 'value', ..." in key order.
  std::string ToString() const;

 private:
  std::map<std::string, std::string> entries_;
  mutable std::set<std::string, std::less<>> used_;
};

}  // namespace weir
