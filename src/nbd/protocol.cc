#include "nbd/protocol.h"

#include <fmt/format.h>

namespace cairn::nbd {

std::string CommandName(uint16_t type) {
  switch (type) {
    case kCmdRead:
      return "NBD_CMD_READ";
    case kCmdWrite:
      return "NBD_CMD_WRITE";
    case kCmdDisc:
      return "NBD_CMD_DISC";
    case kCmdFlush:
      return "NBD_CMD_FLUSH";
    case kCmdTrim:
      return "NBD_CMD_TRIM";
    case kCmdCache:
      return "NBD_CMD_CACHE";
    case kCmdWriteZeroes:
      return "NBD_CMD_WRITE_ZEROES";
    case kCmdBlockStatus:
      return "NBD_CMD_BLOCK_STATUS";
    default:
      return fmt::format("command {}", type);
  }
}

std::string OptionName(uint32_t option) {
  switch (option) {
    case kOptExportName:
      return "NBD_OPT_EXPORT_NAME";
    case kOptAbort:
      return "NBD_OPT_ABORT";
    case kOptList:
      return "NBD_OPT_LIST";
    case kOptStartTls:
      return "NBD_OPT_STARTTLS";
    case kOptInfo:
      return "NBD_OPT_INFO";
    case kOptGo:
      return "NBD_OPT_GO";
    case kOptStructuredReply:
      return "NBD_OPT_STRUCTURED_REPLY";
    case kOptListMetaContext:
      return "NBD_OPT_LIST_META_CONTEXT";
    case kOptSetMetaContext:
      return "NBD_OPT_SET_META_CONTEXT";
    default:
      return fmt::format("option {}", option);
  }
}

bool PayloadReader::GetU16(uint16_t* v) {
  if (remaining() < 2) return false;
  *v = GetU16BE(data_.subspan(pos_, 2));
  pos_ += 2;
  return true;
}

bool PayloadReader::GetU32(uint32_t* v) {
  if (remaining() < 4) return false;
  *v = GetU32BE(data_.subspan(pos_, 4));
  pos_ += 4;
  return true;
}

bool PayloadReader::GetString(uint32_t len, std::string* s) {
  if (remaining() < len) return false;
  s->assign(AsStringView(data_.subspan(pos_, len)));
  pos_ += len;
  return true;
}

}  // namespace cairn::nbd
