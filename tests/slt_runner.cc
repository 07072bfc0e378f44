// weir_slt: a sqllogictest-style runner for tests/sql/*.slt.
//
// File format (blocks separated by blank lines; '#' starts a comment line):
//   statement ok                      the SQL that follows must succeed
//   statement error <text>            ... must fail with a message containing <text>
//   statement count <n>               ... must succeed, its last INSERT/UPDATE/DELETE changing n rows
//   query [rowsort]                   the SQL up to '----' must return exactly the rows below,
//   SELECT ...                        one per line, columns joined by ',', NULL as 'NULL';
//   ----                              'rowsort' compares the rows sorted (for unordered results)
//   expected,row
// `${DATA}` in SQL expands to tests/data (absolute), `${TMP}` to a fresh scratch directory.
// `file [rowsort] <path>` blocks run the pipelines, then check a file written by a sink:
// `file ${TMP}/out.csv` followed by the expected content lines after '----'.
//
// Usage: weir_slt [--batch-rows N] FILE.slt...   Prints each failure and a closing line
// "N passed, N failed"; exits non-zero if any block failed.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "weir/database.h"

namespace fs = std::filesystem;

namespace {

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
  return s;
}

std::vector<std::string> Rows(const weir::TableStore& t) {
  std::vector<std::string> out;
  for (const auto& chunk : t.chunks()) {
    for (int64_t i = 0; i < chunk->num_rows(); ++i) {
      std::string row;
      for (size_t c = 0; c < chunk->num_columns(); ++c) {
        if (c) row += ',';
        row += chunk->column(c)->ValueToString(i);
      }
      out.push_back(row);
    }
  }
  return out;
}

struct Block {
  int line = 0;
  std::string kind;  // statement / query / file
  std::string arg;   // ok / error text / rowsort / path
  std::string sql;
  std::vector<std::string> expected;
};

std::vector<Block> ParseFile(const std::string& path) {
  std::ifstream in(path);
  std::vector<Block> blocks;
  std::string line;
  int lineno = 0;
  Block cur;
  bool in_block = false, in_expected = false;
  auto flush = [&] {
    if (in_block) blocks.push_back(cur);
    cur = Block();
    in_block = in_expected = false;
  };
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!in_block) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream ls(line);
      ls >> cur.kind;
      std::getline(ls, cur.arg);
      cur.arg.erase(0, cur.arg.find_first_not_of(' '));
      cur.line = lineno;
      in_block = true;
      continue;
    }
    if (line.empty()) {
      flush();
      continue;
    }
    if (line == "----") {
      in_expected = true;
      continue;
    }
    if (in_expected) cur.expected.push_back(line);
    else cur.sql += line + "\n";
  }
  flush();
  return blocks;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t batch_rows = weir::kBatchRowsDefault;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--batch-rows" && i + 1 < argc) batch_rows = std::atoll(argv[++i]);
    else files.push_back(a);
  }
  const char* src_dir = std::getenv("WEIR_SOURCE_DIR");
  fs::path data = fs::absolute(fs::path(src_dir ? src_dir : ".") / "tests" / "data");
  int passed = 0, failed = 0;
  for (const auto& file : files) {
    fs::path tmp = fs::temp_directory_path() / ("weir_slt_" + std::to_string(getpid()) + "_" + fs::path(file).stem().string());
    fs::remove_all(tmp);
    fs::create_directories(tmp);
    weir::DatabaseOptions opts;
    opts.batch_rows = batch_rows;
    weir::Database db(opts);
    for (Block& b : ParseFile(file)) {
      std::string sql = Replace(Replace(b.sql, "${DATA}", data.string()), "${TMP}", tmp.string());
      std::string where = file + ":" + std::to_string(b.line);
      std::vector<std::string> got;
      bool got_rows = false;
      int64_t affected = -1;
      weir::Status st;
      bool file_rowsort = false;
      if (b.kind == "file" && b.arg.rfind("rowsort ", 0) == 0) {
        file_rowsort = true;
        b.arg = b.arg.substr(8);
      }
      if (b.kind == "file") {
        std::string path = Replace(Replace(b.arg, "${DATA}", data.string()), "${TMP}", tmp.string());
        st = db.Run();
        std::ifstream f(path);
        if (!f) {
          std::printf("FAIL %s: cannot read %s\n", where.c_str(), path.c_str());
          ++failed;
          continue;
        }
        std::string l;
        while (std::getline(f, l)) got.push_back(l);
        got_rows = true;
      } else {
        st = db.Execute(sql, [&](const weir::StatementResult& r) {
          if (r.rows) {
            got = Rows(*r.rows);
            got_rows = true;
          }
          if (r.rows_affected >= 0) affected = r.rows_affected;
          return weir::Status::OK();
        });
      }
      for (auto& e : b.expected) e = Replace(Replace(e, "${DATA}", data.string()), "${TMP}", tmp.string());
      bool ok = true;
      std::string why;
      if (b.kind == "statement" && b.arg == "ok") {
        ok = st.ok();
        why = st.ToString();
      } else if (b.kind == "statement" && b.arg.rfind("count ", 0) == 0) {
        const int64_t want = std::atoll(b.arg.c_str() + 6);
        ok = st.ok() && affected == want;
        why = !st.ok() ? st.ToString()
                       : "expected " + std::to_string(want) + " rows affected, got " + std::to_string(affected);
      } else if (b.kind == "statement" && b.arg.rfind("error", 0) == 0) {
        std::string want = b.arg.size() > 5 ? b.arg.substr(6) : "";
        ok = !st.ok() && st.message().find(want) != std::string::npos;
        why = st.ok() ? "statement succeeded, expected error '" + want + "'"
                      : "error '" + st.message() + "' does not contain '" + want + "'";
      } else if (b.kind == "query" || b.kind == "file") {
        if (!st.ok()) {
          ok = false;
          why = st.ToString();
        } else {
          if (b.arg == "rowsort" || file_rowsort) {
            std::sort(got.begin(), got.end());
            std::sort(b.expected.begin(), b.expected.end());
          }
          ok = got_rows && got == b.expected;
          if (!ok) {
            why = "expected:\n";
            for (auto& e : b.expected) why += "  " + e + "\n";
            why += "got:\n";
            for (auto& g : got) why += "  " + g + "\n";
          }
        }
      } else {
        ok = false;
        why = "unknown block kind '" + b.kind + " " + b.arg + "'";
      }
      if (ok) {
        ++passed;
      } else {
        ++failed;
        std::printf("FAIL %s (batch_rows=%lld)\n%s\n%s\n", where.c_str(), static_cast<long long>(batch_rows),
                    sql.c_str(), why.c_str());
      }
    }
    fs::remove_all(tmp);
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
