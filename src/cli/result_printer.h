// ResultPrinter: renders statement results for `weir run`: an aligned table (psql-like), CSV
// with a header, or JSON lines. Values use Weir's canonical text forms (timestamps
// 'YYYY-MM-DD HH:MM:SS', shortest round-trip doubles). INSERT / UPDATE / DELETE print psql's
// command tag (`INSERT 0 3`, `UPDATE 2`, `DELETE 1`) in table format only. Not thread-safe.
#pragma once

#include <cstdio>
#include <string>

#include "weir/database.h"

namespace weir {

class ResultPrinter {
 public:
  ResultPrinter(std::string format, std::FILE* out) : format_(std::move(format)), out_(out) {}
  Status Print(const StatementResult& r);

 private:
  std::string format_;
  std::FILE* out_;
  bool first_ = true;
};

}  // namespace weir
