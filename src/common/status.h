// Status and Result<T>: Weir's one error model.
//
// Every fallible function returns a [[nodiscard]] Status or Result<T>; exceptions are not used
// for control flow, and assertions (WEIR_DCHECK) guard programmer bugs only, never user input.
// An OK Status is a null pointer: returning and testing it costs one compare and allocates
// nothing. An error allocates its message once, on the (cold) error path.
//
// Messages follow one shape: what went wrong, then where, e.g.
//   "flights.csv:17: column 'delay': invalid BIGINT 'abc'"   (data: file:line)
//   "3:14: column \"dealy\" does not exist"                   (SQL: line:column)
//
// Thread-safety: values; a Status may be moved between threads but not shared while mutated.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace weir {

enum class StatusCode : unsigned char {
  kOk = 0,
  kInvalidArgument,   // bad option, bad flag, bad call
  kSyntaxError,       // SQL did not parse
  kBindError,         // SQL parsed but names/types do not resolve
  kNotFound,          // catalog object or file missing
  kAlreadyExists,
  kNotSupported,      // valid SQL outside what Weir implements (yet)
  kDataError,         // malformed input record, invalid value, overflow, division by zero
  kIOError,           // operating-system I/O failure
  kResourceExhausted, // a configured limit was hit
  kCancelled,         // stopped by a signal or the caller
  kInternal,          // a Weir bug
};

/// Returns a short lower-case name for `code` ("syntax error", "data error", ...).
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() noexcept = default;
  Status(StatusCode code, std::string message);
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status OK() { return Status(); }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  /// The message without the code prefix; empty for OK.
  const std::string& message() const;
  /// "<code name>: <message>", or "OK".
  std::string ToString() const;

  /// Returns a copy whose message is `prefix + message()`; OK stays OK.
  Status WithPrefix(std::string_view prefix) const;

  /// Explicitly ignores a status (documents that dropping it is intended).
  void IgnoreError() const {}

 private:
  struct State {
    StatusCode code;
    std::string message;
  };
  std::unique_ptr<State> state_;
};

template <typename... Args>
Status MakeStatus(StatusCode code, fmt::format_string<Args...> f, Args&&... args) {
  return Status(code, fmt::format(f, std::forward<Args>(args)...));
}
#define WEIR_STATUS_FACTORY(Name, Code)                                   \
  template <typename... Args>                                             \
  Status Name(fmt::format_string<Args...> f, Args&&... args) {            \
    return Status(StatusCode::Code, fmt::format(f, std::forward<Args>(args)...)); \
  }
WEIR_STATUS_FACTORY(InvalidArgument, kInvalidArgument)
WEIR_STATUS_FACTORY(SyntaxError, kSyntaxError)
WEIR_STATUS_FACTORY(BindError, kBindError)
WEIR_STATUS_FACTORY(NotFound, kNotFound)
WEIR_STATUS_FACTORY(AlreadyExists, kAlreadyExists)
WEIR_STATUS_FACTORY(NotSupported, kNotSupported)
WEIR_STATUS_FACTORY(DataError, kDataError)
WEIR_STATUS_FACTORY(IOError, kIOError)
WEIR_STATUS_FACTORY(ResourceExhausted, kResourceExhausted)
WEIR_STATUS_FACTORY(Cancelled, kCancelled)
WEIR_STATUS_FACTORY(Internal, kInternal)
#undef WEIR_STATUS_FACTORY

/// A value or an error. Accessing value() of an error Result is a programmer bug (aborts).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (status_.ok()) status_ = Internal("Result constructed from an OK status");
  }
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  Status MoveStatus() { return std::move(status_); }
  T& value() & { Check(); return *value_; }
  const T& value() const& { Check(); return *value_; }
  T&& value() && { Check(); return std::move(*value_); }
  T& operator*() & { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  void Check() const {
    if (!value_) __builtin_trap();
  }
  Status status_;
  std::optional<T> value_;
};

}  // namespace weir

#define WEIR_CONCAT_INNER(a, b) a##b
#define WEIR_CONCAT(a, b) WEIR_CONCAT_INNER(a, b)

/// Returns from the current function if `expr` (a Status) is an error.
#define WEIR_RETURN_IF_ERROR(expr)                 \
  do {                                             \
    ::weir::Status _weir_st = (expr);              \
    if (__builtin_expect(!_weir_st.ok(), 0)) return _weir_st; \
  } while (0)

/// `WEIR_ASSIGN_OR_RETURN(auto x, MakeX());` declares/assigns from a Result or returns its error.
#define WEIR_ASSIGN_OR_RETURN(lhs, expr) \
  WEIR_ASSIGN_OR_RETURN_IMPL(WEIR_CONCAT(_weir_res_, __LINE__), lhs, expr)
#define WEIR_ASSIGN_OR_RETURN_IMPL(res, lhs, expr)          \
  auto res = (expr);                                        \
  if (__builtin_expect(!res.ok(), 0)) return res.MoveStatus(); \
  lhs = std::move(res).value()

#ifdef NDEBUG
#define WEIR_DCHECK(cond) ((void)0)
#else
#define WEIR_DCHECK(cond) \
  ((cond) ? (void)0 : ::weir::internal::CheckFailed(#cond, __FILE__, __LINE__))
#endif
/// Always-on invariant check for conditions that must never happen (programmer bugs).
#define WEIR_CHECK(cond) \
  ((cond) ? (void)0 : ::weir::internal::CheckFailed(#cond, __FILE__, __LINE__))

namespace weir::internal {
[[noreturn]] void CheckFailed(const char* cond, const char* file, int line);
}  // namespace weir::internal
