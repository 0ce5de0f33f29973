// SourceDevice: a read-only BlockDevice over a repo::Source (typically a
// repo::SnapshotSource), so a snapshot in a repository can be read by
// anything that reads BlockDevices (fs/, nbd/).
//
// Reads are forwarded to Source::ReadAt (every byte verified by the
// source); Extents come from Source::DataExtents (computed once, then
// cached). Every mutating call is kPermissionDenied ("<id> is a snapshot and
// read-only"). Describe() is the name given at construction (the snapshot
// id).
//
// Thread-safety: as thread-safe as the Source (SnapshotSource: fully).
#ifndef CAIRN_SERVICE_SOURCE_DEVICE_H_
#define CAIRN_SERVICE_SOURCE_DEVICE_H_

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "repo/source.h"
#include "volume/block_device.h"

namespace cairn::service {

class SourceDevice : public volume::BlockDevice {
 public:
  // `description`: what Describe() returns, e.g. "snap-0a1b…".
  SourceDevice(std::unique_ptr<repo::Source> source, std::string description);

  repo::Source& source() { return *source_; }

  uint64_t Size() const override { return source_->size(); }
  volume::Capabilities caps() const override;
  std::string Describe() const override { return description_; }
  Status Read(uint64_t offset, MutableByteSpan out) override;
  Status Write(uint64_t offset, ByteSpan data, bool fua) override;
  Status Flush() override;
  Status Trim(uint64_t offset, uint64_t length) override;
  Status WriteZeroes(uint64_t offset, uint64_t length, bool may_trim, bool fua,
                     bool fast_only) override;
  Result<std::vector<volume::DeviceExtent>> Extents(uint64_t offset, uint64_t length) override;

 private:
  Status ReadOnly(std::string_view op) const;

  std::unique_ptr<repo::Source> source_;
  const std::string description_;
  std::mutex mu_;
  std::optional<std::vector<repo::Extent>> data_extents_;  // guarded by mu_
};

}  // namespace cairn::service

#endif  // CAIRN_SERVICE_SOURCE_DEVICE_H_
