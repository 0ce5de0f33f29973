#include "fs/filesystem_device.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/units.h"
#include "fs/fs_probe.h"
#include "fs/partition_table.h"

namespace cairn::fs {
namespace {

std::string PartitionList(const std::vector<Partition>& parts,
                          const std::vector<std::string>& types) {
  std::string s;
  for (size_t i = 0; i < parts.size(); ++i) {
    s += fmt::format("\n  partition {}: {} at offset {}, {}", parts[i].number,
                     FormatBytes(parts[i].size), parts[i].offset,
                     types[i].empty() ? "no known filesystem" : types[i]);
  }
  return s;
}

bool IsExt(const std::string& type) { return type == "ext2" || type == "ext3" || type == "ext4"; }

}  // namespace

Result<FilesystemDevice> ChooseFilesystemDevice(std::shared_ptr<volume::BlockDevice> whole,
                                                int partition, std::string_view what) {
  ASSIGN_OR_RETURN(std::vector<Partition> parts, ReadPartitions(*whole));
  if (parts.empty()) {
    if (partition > 0) {
      return NotFoundError(fmt::format(
          "{} has no partition table, so no partition {} (drop --partition to read its "
          "filesystem)",
          what, partition));
    }
    return FilesystemDevice{std::move(whole), 0};
  }
  std::vector<std::string> types;
  for (const Partition& p : parts) {
    auto type = ProbeFilesystem(*PartitionDevice(whole, p));
    types.push_back(type.ok() ? *type : "");
  }
  if (partition > 0) {
    auto it = std::find_if(parts.begin(), parts.end(),
                           [&](const Partition& p) { return p.number == partition; });
    if (it == parts.end()) {
      return NotFoundError(fmt::format("{} has no partition {}; its partitions:{}", what,
                                       partition, PartitionList(parts, types)));
    }
    return FilesystemDevice{PartitionDevice(whole, *it), partition};
  }
  std::vector<size_t> ext;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (IsExt(types[i])) ext.push_back(i);
  }
  if (ext.size() != 1) {
    return InvalidArgumentError(fmt::format(
        "{} is a partitioned disk with {} ext partitions; choose one with --partition N:{}", what,
        ext.size(), PartitionList(parts, types)));
  }
  const Partition& p = parts[ext[0]];
  return FilesystemDevice{PartitionDevice(whole, p), p.number};
}

}  // namespace cairn::fs
