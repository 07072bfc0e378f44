#include "connectors/options.h"

#include <algorithm>
#include <charconv>

namespace weir {

namespace {
std::string Lower(std::string_view s) {
  std::string r(s);
  std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return std::tolower(c); });
  return r;
}
}  // namespace

Status Options::Set(std::string_view key, std::string value) {
  auto [it, inserted] = entries_.emplace(Lower(key), std::move(value));
  if (!inserted) return InvalidArgument("option '{}' given twice", key);
  return Status::OK();
}

bool Options::Has(std::string_view key) const {
  auto it = entries_.find(Lower(key));
  if (it == entries_.end()) return false;
  used_.insert(it->first);
  return true;
}

std::string Options::GetString(std::string_view key, std::string_view fallback) const {
  auto it = entries_.find(Lower(key));
  if (it == entries_.end()) return std::string(fallback);
  used_.insert(it->first);
  return it->second;
}

Result<std::string> Options::GetRequired(std::string_view key) const {
  auto it = entries_.find(Lower(key));
  if (it == entries_.end()) return InvalidArgument("missing required option '{}'", key);
  used_.insert(it->first);
  return it->second;
}

Result<int64_t> Options::GetInt(std::string_view key, int64_t fallback) const {
  if (!Has(key)) return fallback;
  std::string v = GetString(key);
  int64_t out = 0;
  const char* b = v.data();
  if (!v.empty() && v[0] == '+') ++b;
  auto r = std::from_chars(b, v.data() + v.size(), out);
  if (v.empty() || r.ec != std::errc() || r.ptr != v.data() + v.size())
    return InvalidArgument("option '{}' must be an integer, got '{}'", key, v);
  return out;
}

Result<bool> Options::GetBool(std::string_view key, bool fallback) const {
  if (!Has(key)) return fallback;
  std::string v = Lower(GetString(key));
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  return InvalidArgument("option '{}' must be 'true' or 'false', got '{}'", key, v);
}

Result<std::string> Options::GetEnum(std::string_view key, std::string_view fallback,
                                     std::initializer_list<std::string_view> allowed) const {
  std::string v = Lower(GetString(key, fallback));
  std::string list;
  for (auto a : allowed) {
    if (v == a) return v;
    if (!list.empty()) list += ", ";
    list += "'" + std::string(a) + "'";
  }
  return InvalidArgument("option '{}' must be one of {}, got '{}'", key, list, v);
}

Status Options::CheckAllUsed(std::string_view what) const {
  for (const auto& [k, v] : entries_)
    if (!used_.count(k)) return InvalidArgument("unknown option '{}' for {}", k, what);
  return Status::OK();
}

std::string Options::ToString() const {
  std::string out;
  for (const auto& [k, v] : entries_) {
    if (!out.empty()) out += ", ";
    out += k + " = '" + v + "'";
  }
  return out;
}

}  // namespace weir
