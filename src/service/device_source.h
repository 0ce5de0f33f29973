// DeviceSource: a repo::Source over a volume::BlockDevice, so the backup
// pipeline can read a frozen volume view (or any device) like a file. Its
// name is what the manifest records as the snapshot's source ("vol-…").
//
// Thread-safety: ReadAt from many threads at once, as BlockDevice::Read.
#ifndef CAIRN_SERVICE_DEVICE_SOURCE_H_
#define CAIRN_SERVICE_DEVICE_SOURCE_H_

#include <memory>
#include <string>
#include <vector>

#include "repo/source.h"
#include "volume/block_device.h"

namespace cairn::service {

class DeviceSource : public repo::Source {
 public:
  DeviceSource(std::shared_ptr<volume::BlockDevice> device, std::string name)
      : device_(std::move(device)), name_(std::move(name)) {}

  uint64_t size() const override { return device_->Size(); }
  std::string name() const override { return name_; }
  Status ReadAt(uint64_t offset, MutableByteSpan out) override;
  // The device's extents that are neither holes nor known zeros.
  Result<std::vector<repo::Extent>> DataExtents() override;

 private:
  std::shared_ptr<volume::BlockDevice> device_;
  std::string name_;
};

}  // namespace cairn::service

#endif  // CAIRN_SERVICE_DEVICE_SOURCE_H_
