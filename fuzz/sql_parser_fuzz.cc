// libFuzzer target: the statement parser, the libpg_query bridge, the binder and the optimizer
// must never crash on any input; every problem is a Status. Nothing is executed (no files are
// opened or written), so the target is safe to run anywhere.
#include <cstddef>
#include <cstdint>
#include <string>

#include "sql/binder.h"
#include "sql/statement.h"

namespace {

weir::SchemaPtr BidSchema() {
  using weir::DataType;
  static weir::SchemaPtr s = std::make_shared<weir::Schema>(std::vector<weir::Field>{
      {"auction", DataType::Int64()}, {"bidder", DataType::Int64()}, {"price", DataType::Int64()},
      {"channel", DataType::Varchar()}, {"url", DataType::Varchar()},
      {"date_time", DataType::Timestamp()}, {"extra", DataType::Varchar()},
      {"amount", DataType::Decimal(10, 2)}, {"ok", DataType::Boolean()}, {"d", DataType::Double()}});
  return s;
}

void BindQueryText(const std::string& query, size_t offset, const weir::LineMap& lines) {
  auto tree = weir::PgParseTree::Parse(query, offset, lines);
  if (!tree.ok()) return;
  weir::BindContext ctx;
  ctx.lines = &lines;
  ctx.base_offset = offset;
  ctx.lookup = [](std::string_view name) -> std::optional<weir::RelationRef> {
    if (name == "bid") return weir::RelationRef{"bid", weir::ObjectKind::kSource, BidSchema()};
    return std::nullopt;
  };
  auto plan = weir::BindQuery(tree->statement(), ctx);
  if (plan.ok()) weir::OptimizePlan(*plan).status().IgnoreError();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string sql(reinterpret_cast<const char*>(data), size);
  weir::LineMap lines(sql);
  auto statements = weir::ParseScript(sql, lines);
  if (!statements.ok()) return 0;
  for (const weir::Statement& st : *statements) {
    const weir::Statement& s = st.inner ? *st.inner : st;
    if (!s.query.empty()) BindQueryText(s.query, s.query_offset, lines);
    if (s.watermark)
      weir::BindStandaloneExpr(s.watermark->expr, s.watermark->expr_offset, *BidSchema(), lines)
          .status()
          .IgnoreError();
  }
  return 0;
}
