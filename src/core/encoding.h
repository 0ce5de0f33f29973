// Text encodings of bytes: lower-case hex and standard base64 (with padding).
#ifndef CAIRN_CORE_ENCODING_H_
#define CAIRN_CORE_ENCODING_H_

#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/status.h"

namespace cairn {

std::string HexEncode(ByteSpan data);
// kInvalidArgument on odd length or a non-hex character (either case).
Result<Buffer> HexDecode(std::string_view hex);

std::string Base64Encode(ByteSpan data);
// kInvalidArgument on malformed input.
Result<Buffer> Base64Decode(std::string_view text);

}  // namespace cairn

#endif  // CAIRN_CORE_ENCODING_H_
