#include "volume/block_device.h"

#include <fmt/format.h>

#include <algorithm>

namespace cairn::volume {

Status CheckRange(uint64_t offset, uint64_t length, uint64_t size, std::string_view what) {
  if (offset > size || length > size - offset) {
    return InvalidArgumentError(fmt::format("{}: range offset {} length {} is outside the device (size {})",
                                            what, offset, length, size));
  }
  return Status::OK();
}

Status BlockSource::ReadBlocks(uint64_t first, uint64_t count, const BlockSink& sink) {
  const uint64_t bs = BlockSize();
  Buffer buf;
  for (uint64_t b = first; b < first + count; ++b) {
    const uint64_t off = b * bs;
    if (off >= Size()) {
      return InvalidArgumentError(fmt::format("{}: block {} (offset {}) is beyond its {} bytes",
                                              Describe(), b, off, Size()));
    }
    buf.resize(std::min<uint64_t>(bs, Size() - off));
    RETURN_IF_ERROR(Read(off, buf));
    RETURN_IF_ERROR(sink(b, buf));
  }
  return Status::OK();
}

}  // namespace cairn::volume
