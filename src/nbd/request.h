// One NBD transmission request: parsing its 28-byte header and checking it
// against the negotiated session, before anything touches the device.
//
// Pure functions; thread-safe.
#ifndef CAIRN_NBD_REQUEST_H_
#define CAIRN_NBD_REQUEST_H_

#include <cstdint>
#include <string>

#include "core/bytes.h"
#include "core/status.h"
#include "nbd/handshake.h"

namespace cairn::nbd {

struct RequestHeader {
  uint16_t flags = 0;
  uint16_t type = 0;
  uint64_t handle = 0;
  uint64_t offset = 0;
  uint32_t length = 0;
};

// Parses a request header. kInvalidArgument for a wrong magic (the caller
// closes the connection: the stream cannot be resynchronized).
// REQUIRES: header.size() == kRequestHeaderSize.
Result<RequestHeader> ParseRequestHeader(ByteSpan header);

// Why a request is refused without running it.
struct Refusal {
  uint32_t error = 0;  // NBD_E*; 0 = the request may run
  std::string message;
};

// Checks flags, support, alignment, size and range:
//   unknown command or flag, flag not valid for the command  → EINVAL
//   write / trim / write-zeroes on a read-only export         → EPERM
//   trim not advertised, block status without a context       → EINVAL
//   offset or length not a multiple of the minimum block size → EINVAL
//   read / write / cache longer than the maximum block size   → EINVAL
//   beyond the end: write and write-zeroes → ENOSPC, others   → EINVAL
// NBD_CMD_DISC is never refused.
Refusal CheckRequest(const RequestHeader& req, const Session& session);

}  // namespace cairn::nbd

#endif  // CAIRN_NBD_REQUEST_H_
