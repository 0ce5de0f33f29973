#include "service/device_source.h"

#include <fmt/format.h>

#include <algorithm>

namespace cairn::service {

Status DeviceSource::ReadAt(uint64_t offset, MutableByteSpan out) {
  return device_->Read(offset, out);
}

Result<std::vector<repo::Extent>> DeviceSource::DataExtents() {
  std::vector<repo::Extent> out;
  const uint64_t size = device_->Size();
  uint64_t pos = 0;
  while (pos < size) {
    const uint64_t before = pos;
    ASSIGN_OR_RETURN(auto extents, device_->Extents(pos, size - pos));
    if (extents.empty()) {
      return InternalError(fmt::format("{}: Extents({}, {}) returned nothing", device_->Describe(),
                                       pos, size - pos));
    }
    for (const auto& e : extents) {
      const uint64_t end = std::min(size, e.offset + e.length);
      if (e.offset >= end) continue;
      if (!e.hole && !e.zero) {
        if (!out.empty() && out.back().offset + out.back().length == e.offset) {
          out.back().length += end - e.offset;
        } else {
          out.push_back({e.offset, end - e.offset});
        }
      }
      pos = std::max(pos, end);
    }
    if (pos == before) {
      return InternalError(fmt::format("{}: Extents({}, {}) did not cover offset {}",
                                       device_->Describe(), pos, size - pos, pos));
    }
  }
  return out;
}

}  // namespace cairn::service
