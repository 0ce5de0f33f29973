#include "cli/exit_codes.h"

#include <cstdio>

#include <nlohmann/json.hpp>

namespace cairn::cli {

int ExitCodeFor(const Status& status, ErrorPhase phase) {
  switch (status.code()) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kInvalidArgument:
      return kExitUsage;
    case StatusCode::kNotFound:
      return phase == ErrorPhase::kOpeningRepository ? kExitRepoNotFound
                                                     : kExitNotFound;
    case StatusCode::kUnauthenticated:
      return kExitUnauthenticated;
    case StatusCode::kAborted:
      return kExitLocked;
    case StatusCode::kCorruption:
      return kExitDamaged;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      return kExitRefused;
    case StatusCode::kResourceExhausted:
      return kExitNoSpace;
    case StatusCode::kCancelled:
      return kExitInterrupted;
    case StatusCode::kUnavailable:
    case StatusCode::kPermissionDenied:
    case StatusCode::kIoError:
    case StatusCode::kInternal:
      break;
  }
  return kExitFailure;
}

std::string ErrorCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid_argument";
    case StatusCode::kNotFound: return "not_found";
    case StatusCode::kAlreadyExists: return "already_exists";
    case StatusCode::kFailedPrecondition: return "failed_precondition";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kUnauthenticated: return "unauthenticated";
    case StatusCode::kPermissionDenied: return "permission_denied";
    case StatusCode::kResourceExhausted: return "resource_exhausted";
    case StatusCode::kAborted: return "aborted";
    case StatusCode::kCorruption: return "corruption";
    case StatusCode::kIoError: return "io_error";
    case StatusCode::kCancelled: return "cancelled";
    case StatusCode::kInternal: return "internal";
  }
  return "unknown";
}

std::string ErrorJson(const Status& status, int exit_code) {
  nlohmann::json doc = {{"error",
                         {{"code", ErrorCodeName(status.code())},
                          {"message", status.message()},
                          {"exit_code", exit_code}}}};
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

int ReportError(const Status& status, ErrorPhase phase, bool json_on_stdout) {
  const int code = ExitCodeFor(status, phase);
  std::fprintf(stderr, "cairn: error: %s\n", status.message().c_str());
  if (json_on_stdout) {
    std::fprintf(stdout, "%s\n", ErrorJson(status, code).c_str());
    std::fflush(stdout);
  }
  return code;
}

}  // namespace cairn::cli
