// Status and Result<T>: cairn's errors as values.
//
// A Status is OK or carries a code and a message. Codes say what the caller
// may do about the error:
//   kUnavailable        transient; retrying the same call may succeed
//   kInvalidArgument    the caller's input is wrong (a flag, a name, a size)
//   kNotFound           the named thing (object, snapshot, file) is absent
//   kAlreadyExists      creating something that exists
//   kFailedPrecondition the world must change first (target not empty, ...)
//   kUnauthenticated    wrong passphrase / no key opens the repository
//   kPermissionDenied   the OS or a server refused access
//   kResourceExhausted  disk full, quota, memory
//   kAborted            conflict with another process (repository locked)
//   kCorruption         stored data is damaged; never retried; the message
//                       names the object and offset
//   kIoError            any other I/O failure
//   kCancelled          the operation was stopped on request
//   kInternal           a bug in cairn
// Context is added as an error rises: `s.WithContext("reading pack 3f2a")`
// turns "short read" into "reading pack 3f2a: short read".
//
// Thread-safety: values; safe to copy between threads.
#ifndef CAIRN_CORE_STATUS_H_
#define CAIRN_CORE_STATUS_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace cairn {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kUnavailable,
  kUnauthenticated,
  kPermissionDenied,
  kResourceExhausted,
  kAborted,
  kCorruption,
  kIoError,
  kCancelled,
  kInternal,
};

// Lower-case name of a code, e.g. "not found".
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message);

  static Status OK() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "corruption: pack 3f2a…: offset 1234: authentication failed", or "OK".
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>". OK stays OK.
  Status WithContext(std::string_view context) const;

  // Marks a Status as deliberately ignored.
  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status FailedPreconditionError(std::string message);
Status UnavailableError(std::string message);
Status UnauthenticatedError(std::string message);
Status PermissionDeniedError(std::string message);
Status ResourceExhaustedError(std::string message);
Status AbortedError(std::string message);
Status CorruptionError(std::string message);
Status IoError(std::string message);
Status CancelledError(std::string message);
Status InternalError(std::string message);

// Maps an errno value to a Status: ENOENT → kNotFound, ENOSPC/EDQUOT →
// kResourceExhausted, EACCES/EPERM/EROFS → kPermissionDenied, EEXIST →
// kAlreadyExists, EINTR/EAGAIN → kUnavailable, others → kIoError.
// Message: "<what>: <strerror(err)>".
Status ErrnoToStatus(int err, std::string_view what);

// Result<T> holds a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    if (std::get<Status>(v_).ok()) {
      v_ = Status(StatusCode::kInternal, "Result constructed from OK status");
    }
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const& { return ok() ? Status() : std::get<Status>(v_); }
  Status status() && { return ok() ? Status() : std::move(std::get<Status>(v_)); }

  // REQUIRES: ok()
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace cairn

#define CAIRN_CONCAT_INNER_(a, b) a##b
#define CAIRN_CONCAT_(a, b) CAIRN_CONCAT_INNER_(a, b)

// Returns the Status of `expr` from the enclosing function if it is not OK.
#define RETURN_IF_ERROR(expr)                         \
  do {                                                \
    ::cairn::Status _cairn_st = (expr);               \
    if (!_cairn_st.ok()) return _cairn_st;            \
  } while (0)

// Same, adding context (any expression convertible to std::string_view).
#define RETURN_IF_ERROR_CTX(expr, ctx)                  \
  do {                                                  \
    ::cairn::Status _cairn_st = (expr);                 \
    if (!_cairn_st.ok()) return _cairn_st.WithContext(ctx); \
  } while (0)

// ASSIGN_OR_RETURN(auto x, F()); declares/assigns from a Result or returns.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(CAIRN_CONCAT_(_cairn_r, __LINE__), lhs, expr, )
#define ASSIGN_OR_RETURN_CTX(lhs, expr, ctx) \
  ASSIGN_OR_RETURN_IMPL_(CAIRN_CONCAT_(_cairn_r, __LINE__), lhs, expr, .WithContext(ctx))
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr, ctxcall)        \
  auto tmp = (expr);                                           \
  if (!tmp.ok()) return std::move(tmp).status() ctxcall;       \
  lhs = std::move(tmp).value()

#endif  // CAIRN_CORE_STATUS_H_
