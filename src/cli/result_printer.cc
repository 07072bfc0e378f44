#include "cli/result_printer.h"

#include <algorithm>

#include "formats/format.h"

namespace weir {

Status ResultPrinter::Print(const StatementResult& r) {
  if (r.rows_affected >= 0) {
    // INSERT / UPDATE / DELETE: psql's command tag, in table output only (csv and json output
    // is data for other programs, as for DDL, which prints nothing).
    if (format_ != "table") return Status::OK();
    if (!first_) std::fputc('\n', out_);
    first_ = false;
    std::fprintf(out_, "%s%s %lld\n", r.statement.c_str(), r.statement == "INSERT" ? " 0" : "",
                 static_cast<long long>(r.rows_affected));
    return Status::OK();
  }
  if (!r.rows) return Status::OK();
  const TableStore& t = *r.rows;
  if (format_ == "table") {
    const Schema& s = *t.schema();
    std::vector<std::vector<std::string>> cells;
    std::vector<size_t> width(s.num_fields());
    for (size_t c = 0; c < s.num_fields(); ++c) width[c] = s.field(c).name.size();
    for (const auto& chunk : t.chunks()) {
      for (int64_t i = 0; i < chunk->num_rows(); ++i) {
        std::vector<std::string> row;
        for (size_t c = 0; c < s.num_fields(); ++c) {
          const Column& col = *chunk->column(c);
          row.push_back(col.IsValid(i) ? col.ValueToString(i) : "");
          width[c] = std::max(width[c], row.back().size());
        }
        cells.push_back(std::move(row));
      }
    }
    if (!first_) std::fputc('\n', out_);
    first_ = false;
    std::string line;
    for (size_t c = 0; c < s.num_fields(); ++c) {
      if (c) line += " | ";
      std::string n = s.field(c).name;
      line += n + std::string(width[c] - n.size(), ' ');
    }
    std::fprintf(out_, " %s\n", line.c_str());
    line.clear();
    for (size_t c = 0; c < s.num_fields(); ++c) {
      if (c) line += "-+-";
      line += std::string(width[c], '-');
    }
    std::fprintf(out_, "-%s-\n", line.c_str());
    for (const auto& row : cells) {
      line.clear();
      for (size_t c = 0; c < row.size(); ++c) {
        if (c) line += " | ";
        bool numeric = s.field(c).type.is_numeric();
        std::string pad(width[c] - row[c].size(), ' ');
        line += numeric ? pad + row[c] : row[c] + pad;
      }
      std::fprintf(out_, " %s\n", line.c_str());
    }
    std::fprintf(out_, "(%lld row%s)\n", static_cast<long long>(cells.size()), cells.size() == 1 ? "" : "s");
    return Status::OK();
  }
  Options opts;
  WEIR_ASSIGN_OR_RETURN(auto encoder, MakeEncoder(format_, t.schema(), false, opts));
  Buffer buf;
  if (format_ == "csv") encoder->WriteHeader(&buf);
  for (const auto& chunk : t.chunks()) encoder->Encode(*chunk, &buf);
  if (buf.size()) std::fwrite(buf.data(), 1, buf.size(), out_);
  return Status::OK();
}

}  // namespace weir
