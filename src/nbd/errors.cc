#include "nbd/errors.h"

#include "nbd/protocol.h"

namespace cairn::nbd {

uint32_t ToNbdError(const Status& s, bool fast_zero_request) {
  switch (s.code()) {
    case StatusCode::kOk:
      return 0;
    case StatusCode::kInvalidArgument:
      return kEINVAL;
    case StatusCode::kPermissionDenied:
      return kEPERM;
    case StatusCode::kResourceExhausted:
      return kENOSPC;
    case StatusCode::kUnavailable:
      return fast_zero_request ? kENOTSUP : kEIO;
    case StatusCode::kCancelled:
      return kESHUTDOWN;
    default:
      return kEIO;
  }
}

const char* NbdErrorName(uint32_t error) {
  switch (error) {
    case 0:
      return "OK";
    case kEPERM:
      return "EPERM";
    case kEIO:
      return "EIO";
    case kENOMEM:
      return "ENOMEM";
    case kEINVAL:
      return "EINVAL";
    case kENOSPC:
      return "ENOSPC";
    case kEOVERFLOW:
      return "EOVERFLOW";
    case kENOTSUP:
      return "ENOTSUP";
    case kESHUTDOWN:
      return "ESHUTDOWN";
    default:
      return "unknown error";
  }
}

}  // namespace cairn::nbd
