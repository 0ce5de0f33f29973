#include "volume/block_device.h"

#include <fmt/format.h>

namespace cairn::volume {

Status CheckRange(uint64_t offset, uint64_t length, uint64_t size, std::string_view what) {
  if (offset > size || length > size - offset) {
    return InvalidArgumentError(fmt::format("{}: range offset {} length {} is outside the device (size {})",
                                            what, offset, length, size));
  }
  return Status::OK();
}

}  // namespace cairn::volume
