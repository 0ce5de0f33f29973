// PartitionDevice (declared in partition_table.h): a read-only window onto
// one partition of a device.
#include <fmt/format.h>

#include <algorithm>

#include "fs/partition_table.h"

namespace cairn::fs {
namespace {

class PartitionView : public volume::BlockDevice {
 public:
  PartitionView(std::shared_ptr<volume::BlockDevice> device, uint64_t offset, uint64_t size,
                int number)
      : device_(std::move(device)),
        offset_(offset),
        size_(size),
        description_(fmt::format("{} partition {}", device_->Describe(), number)) {}

  uint64_t Size() const override { return size_; }
  volume::Capabilities caps() const override {
    volume::Capabilities c;
    c.extents = device_->caps().extents;
    c.multi_conn = device_->caps().multi_conn;
    return c;
  }
  volume::Geometry geometry() const override { return device_->geometry(); }
  std::string Describe() const override { return description_; }

  Status Read(uint64_t offset, MutableByteSpan out) override {
    RETURN_IF_ERROR(volume::CheckRange(offset, out.size(), size_, "read of " + description_));
    return device_->Read(offset_ + offset, out);
  }
  Status Write(uint64_t offset, ByteSpan data, bool) override {
    return ReadOnly(offset, data.size(), "write to ");
  }
  Status Flush() override { return Status::OK(); }
  Status Trim(uint64_t offset, uint64_t length) override {
    return ReadOnly(offset, length, "trim of ");
  }
  Status WriteZeroes(uint64_t offset, uint64_t length, bool, bool, bool) override {
    return ReadOnly(offset, length, "write zeroes to ");
  }
  Result<std::vector<volume::DeviceExtent>> Extents(uint64_t offset, uint64_t length) override {
    RETURN_IF_ERROR(volume::CheckRange(offset, length, size_, "extents of " + description_));
    ASSIGN_OR_RETURN(std::vector<volume::DeviceExtent> extents,
                     device_->Extents(offset_ + offset, length));
    for (volume::DeviceExtent& e : extents) e.offset -= offset_;
    return extents;
  }

 private:
  Status ReadOnly(uint64_t offset, uint64_t length, std::string_view what) {
    RETURN_IF_ERROR(volume::CheckRange(offset, length, size_, std::string(what) + description_));
    return PermissionDeniedError(std::string(what) + description_ + ": device is read-only");
  }

  std::shared_ptr<volume::BlockDevice> device_;
  const uint64_t offset_;
  const uint64_t size_;
  const std::string description_;
};

}  // namespace

std::shared_ptr<volume::BlockDevice> PartitionDevice(std::shared_ptr<volume::BlockDevice> device,
                                                     const Partition& p) {
  const uint64_t total = device->Size();
  const uint64_t offset = std::min(p.offset, total);
  const uint64_t size = std::min(p.size, total - offset);
  return std::make_shared<PartitionView>(std::move(device), offset, size, p.number);
}

}  // namespace cairn::fs
