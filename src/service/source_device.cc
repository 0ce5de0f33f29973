#include "service/source_device.h"

#include <algorithm>
#include <utility>

namespace cairn::service {

SourceDevice::SourceDevice(std::unique_ptr<repo::Source> source, std::string description)
    : source_(std::move(source)), description_(std::move(description)) {}

volume::Capabilities SourceDevice::caps() const {
  volume::Capabilities c;
  c.extents = true;
  c.multi_conn = true;  // nothing ever changes
  return c;
}

Status SourceDevice::ReadOnly(std::string_view op) const {
  return PermissionDeniedError(std::string(op) + " on " + description_ + ": device is read-only (" +
                               description_ + " is a snapshot)");
}

Status SourceDevice::Read(uint64_t offset, MutableByteSpan out) {
  RETURN_IF_ERROR(volume::CheckRange(offset, out.size(), Size(), "read of " + description_));
  if (out.empty()) return Status::OK();
  return source_->ReadAt(offset, out);
}

Status SourceDevice::Write(uint64_t offset, ByteSpan data, bool /*fua*/) {
  RETURN_IF_ERROR(volume::CheckRange(offset, data.size(), Size(), "write to " + description_));
  return ReadOnly("write");
}

Status SourceDevice::Flush() { return Status::OK(); }

Status SourceDevice::Trim(uint64_t offset, uint64_t length) {
  RETURN_IF_ERROR(volume::CheckRange(offset, length, Size(), "trim of " + description_));
  return ReadOnly("trim");
}

Status SourceDevice::WriteZeroes(uint64_t offset, uint64_t length, bool /*may_trim*/, bool /*fua*/,
                                 bool /*fast_only*/) {
  RETURN_IF_ERROR(volume::CheckRange(offset, length, Size(), "write zeroes to " + description_));
  return ReadOnly("write zeroes");
}

Result<std::vector<volume::DeviceExtent>> SourceDevice::Extents(uint64_t offset, uint64_t length) {
  RETURN_IF_ERROR(volume::CheckRange(offset, length, Size(), "extents of " + description_));
  std::vector<volume::DeviceExtent> out;
  if (length == 0) return out;
  std::lock_guard<std::mutex> lock(mu_);
  if (!data_extents_) {
    ASSIGN_OR_RETURN(std::vector<repo::Extent> extents, source_->DataExtents());
    data_extents_ = std::move(extents);
  }
  const uint64_t end = offset + length;
  uint64_t pos = offset;
  auto add = [&](uint64_t until, bool hole) {
    until = std::min(until, end);
    if (until <= pos) return;
    if (!out.empty() && out.back().hole == hole) {
      out.back().length += until - pos;
    } else {
      out.push_back({pos, until - pos, hole, hole});
    }
    pos = until;
  };
  // First data extent ending after `offset`.
  auto it = std::upper_bound(
      data_extents_->begin(), data_extents_->end(), offset,
      [](uint64_t off, const repo::Extent& e) { return off < e.offset + e.length; });
  for (; it != data_extents_->end() && pos < end; ++it) {
    add(it->offset, /*hole=*/true);
    add(it->offset + it->length, /*hole=*/false);
  }
  add(end, /*hole=*/true);
  return out;
}

}  // namespace cairn::service
