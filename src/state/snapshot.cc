#include "state/snapshot.h"

namespace weir {

void StateWriter::Begin(std::string_view tag) {
  String(tag);
  const size_t at = buf_.size();
  U64(0);  // section length, patched by End()
  open_.push_back({at, size()});
}

void StateWriter::End() {
  WEIR_CHECK(!open_.empty());
  const Open o = open_.back();
  open_.pop_back();
  const uint64_t len = size() - o.start;
  std::memcpy(buf_.data() + o.length_at, &len, 8);
}

std::string_view StateReader::Raw(size_t n) {
  if (!ok()) return {};
  if (remaining() < n) {
    Fail("truncated reading bytes");
    return {};
  }
  std::string_view v = data_.substr(pos_, n);
  pos_ += n;
  return v;
}

std::string_view StateReader::Bytes() {
  const uint64_t n = U64();
  if (!ok()) return {};
  if (n > remaining()) {
    Fail("byte string length exceeds the snapshot");
    return {};
  }
  return Raw(static_cast<size_t>(n));
}

void StateReader::Begin(std::string_view tag) {
  std::string_view got = Bytes();
  if (!ok()) return;
  if (got != tag) {
    Fail("expected section \"" + std::string(tag) + "\", found \"" + std::string(got) + "\"");
    return;
  }
  const uint64_t len = U64();
  if (!ok()) return;
  if (len > remaining()) {
    Fail("section \"" + std::string(tag) + "\" is longer than the snapshot");
    return;
  }
  ends_.push_back(pos_ + static_cast<size_t>(len));
}

void StateReader::End() {
  if (!ok()) return;
  if (ends_.empty()) {
    Fail("section end without a section");
    return;
  }
  const size_t end = ends_.back();
  ends_.pop_back();
  if (pos_ != end) Fail("section not read to its end");
}

void StateReader::Fail(std::string_view message) {
  if (!status_.ok()) return;
  status_ = DataError("{}: {} at byte {}", what_, message, pos_);
}

}  // namespace weir
