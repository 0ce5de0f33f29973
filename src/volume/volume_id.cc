#include "volume/volume_id.h"

#include <array>

#include "core/crypto.h"
#include "core/encoding.h"

namespace cairn::volume {

VolumeId VolumeId::Generate() {
  std::array<std::byte, 9> r;
  RandomBytes(r);
  return VolumeId("vol-" + HexEncode(r).substr(0, 17));
}

Result<VolumeId> VolumeId::Parse(std::string_view text) {
  auto bad = [&] {
    return InvalidArgumentError(
        "'" + std::string(text) +
        "' is not a volume id (expected vol- and 17 lower-case hex digits)");
  };
  if (text.size() != 21 || text.substr(0, 4) != "vol-") return bad();
  for (char c : text.substr(4)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return bad();
  }
  return VolumeId(std::string(text));
}

}  // namespace cairn::volume
