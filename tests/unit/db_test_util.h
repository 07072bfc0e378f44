// Test helper for tests that drive a weir::Database: run SQL, get every result row as text.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "weir/database.h"

namespace weir_test {

/// Executes `sql` on `db`; returns the rows of every row-returning statement, one line per row,
/// values comma-separated (Column::ValueToString). A failing statement fails the test (EXPECT).
inline std::string ExecRows(weir::Database& db, const std::string& sql) {
  std::string out;
  weir::Status st = db.Execute(sql, [&](const weir::StatementResult& r) {
    if (!r.rows) return weir::Status::OK();
    for (const auto& chunk : r.rows->chunks()) {
      for (int64_t i = 0; i < chunk->num_rows(); ++i) {
        for (size_t c = 0; c < chunk->num_columns(); ++c) out += (c ? "," : "") + chunk->column(c)->ValueToString(i);
        out += "\n";
      }
    }
    return weir::Status::OK();
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

}  // namespace weir_test
