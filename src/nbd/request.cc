#include "nbd/request.h"

#include <fmt/format.h>

#include "nbd/protocol.h"

namespace cairn::nbd {

Result<RequestHeader> ParseRequestHeader(ByteSpan h) {
  uint32_t magic = GetU32BE(h.subspan(0, 4));
  if (magic != kRequestMagic) {
    return InvalidArgumentError(
        fmt::format("request has magic 0x{:08x}, expected 0x{:08x}", magic, kRequestMagic));
  }
  RequestHeader r;
  r.flags = GetU16BE(h.subspan(4, 2));
  r.type = GetU16BE(h.subspan(6, 2));
  r.handle = GetU64BE(h.subspan(8, 8));
  r.offset = GetU64BE(h.subspan(16, 8));
  r.length = GetU32BE(h.subspan(24, 4));
  return r;
}

namespace {

uint16_t AllowedFlags(uint16_t type, const Session& s) {
  uint16_t allowed = kCmdFlagFua;  // valid on every command (clients set it freely)
  switch (type) {
    case kCmdRead:
      if (s.structured) allowed |= kCmdFlagDf;
      break;
    case kCmdWriteZeroes:
      allowed |= kCmdFlagNoHole;
      if (s.tx_flags & kTxSendFastZero) allowed |= kCmdFlagFastZero;
      break;
    case kCmdBlockStatus:
      allowed |= kCmdFlagReqOne;
      break;
    default:
      break;
  }
  return allowed;
}

Refusal Refuse(uint32_t error, std::string message) { return Refusal{error, std::move(message)}; }

}  // namespace

Refusal CheckRequest(const RequestHeader& req, const Session& s) {
  const std::string cmd = CommandName(req.type);
  switch (req.type) {
    case kCmdRead:
    case kCmdWrite:
    case kCmdFlush:
    case kCmdTrim:
    case kCmdCache:
    case kCmdWriteZeroes:
    case kCmdBlockStatus:
      break;
    case kCmdDisc:
      return {};
    default:
      return Refuse(kEINVAL, fmt::format("unknown {}", cmd));
  }
  uint16_t bad = req.flags & ~AllowedFlags(req.type, s);
  if (bad != 0) {
    return Refuse(kEINVAL, fmt::format("flags 0x{:x} are not valid for {}", bad, cmd));
  }
  const bool mutating =
      req.type == kCmdWrite || req.type == kCmdTrim || req.type == kCmdWriteZeroes;
  if (mutating && !s.caps.writable) {
    return Refuse(kEPERM, fmt::format("{} refused: export '{}' is read-only", cmd, s.export_name));
  }
  if (req.type == kCmdTrim && !(s.tx_flags & kTxSendTrim)) {
    return Refuse(kEINVAL, "NBD_CMD_TRIM was not advertised for this export");
  }
  if (req.type == kCmdBlockStatus && !s.block_status) {
    return Refuse(kEINVAL,
                  "NBD_CMD_BLOCK_STATUS needs base:allocation selected with "
                  "NBD_OPT_SET_META_CONTEXT for this export");
  }
  if (req.type == kCmdFlush) return {};
  const uint32_t min = s.geometry.minimum;
  if (min > 1 && (req.offset % min != 0 || req.length % min != 0)) {
    return Refuse(kEINVAL, fmt::format("{} offset {} length {} is not aligned to the minimum block "
                                       "size {}",
                                       cmd, req.offset, req.length, min));
  }
  if ((req.type == kCmdRead || req.type == kCmdWrite || req.type == kCmdCache) &&
      req.length > s.geometry.maximum) {
    return Refuse(kEINVAL, fmt::format("{} length {} exceeds the maximum block size {}", cmd,
                                       req.length, s.geometry.maximum));
  }
  if (req.offset > s.size || req.length > s.size - req.offset) {
    uint32_t error = (req.type == kCmdWrite || req.type == kCmdWriteZeroes) ? kENOSPC : kEINVAL;
    return Refuse(error, fmt::format("{} offset {} length {} is beyond the end of export '{}' "
                                     "(size {})",
                                     cmd, req.offset, req.length, s.export_name, s.size));
  }
  return {};
}

}  // namespace cairn::nbd
