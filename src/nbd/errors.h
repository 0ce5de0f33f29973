// The one place where cairn's Status becomes an NBD error value (the error
// field of a reply). docs/nbd.md has the table.
//
// Pure functions; thread-safe.
#ifndef CAIRN_NBD_ERRORS_H_
#define CAIRN_NBD_ERRORS_H_

#include <cstdint>

#include "core/status.h"

namespace cairn::nbd {

// REQUIRES: !s.ok().
//   kInvalidArgument   → NBD_EINVAL
//   kPermissionDenied  → NBD_EPERM
//   kResourceExhausted → NBD_ENOSPC
//   kUnavailable       → NBD_ENOTSUP for a FAST_ZERO write-zeroes (the device
//                        cannot zero fast), else NBD_EIO
//   kCancelled         → NBD_ESHUTDOWN (the server or the export is stopping)
//   anything else      → NBD_EIO
uint32_t ToNbdError(const Status& s, bool fast_zero_request = false);

// "EINVAL", "ENOSPC", ... for messages and logs.
const char* NbdErrorName(uint32_t error);

}  // namespace cairn::nbd

#endif  // CAIRN_NBD_ERRORS_H_
