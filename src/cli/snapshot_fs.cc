#include "cli/snapshot_fs.h"

#include <fmt/format.h>

#include <algorithm>

#include "cli/context.h"
#include "core/units.h"
#include "fs/fs_probe.h"
#include "service/source_device.h"

namespace cairn::cli {

uint64_t SnapshotDevice::blocks_fetched() const {
  return source != nullptr ? source->blocks_fetched() : 0;
}

Result<std::unique_ptr<SnapshotDevice>> OpenSnapshotDevice(Context& ctx, const std::string& snap) {
  ASSIGN_OR_RETURN(repo::SnapshotId id, repo::SnapshotId::Parse(snap));
  auto out = std::make_unique<SnapshotDevice>();
  out->snapshot_id = id.str();
  ASSIGN_OR_RETURN(out->repository, ctx.OpenRepository());
  repo::LockOptions lock_options;
  lock_options.operation = "read files";
  ASSIGN_OR_RETURN(out->lock, repo::RepoLock::Acquire(out->repository->backend(), lock_options));
  RETURN_IF_ERROR(out->repository->LoadIndex().status());  // under the lock: gc cannot race
  repo::SnapshotSourceOptions options;
  options.cache_blocks = 64;  // metadata is scattered; files are read block by block
  ASSIGN_OR_RETURN(std::unique_ptr<repo::SnapshotSource> source,
                   repo::SnapshotSource::Open(*out->repository, id, options));
  out->source = source.get();
  out->device = std::make_shared<service::SourceDevice>(std::move(source), id.str());
  return out;
}

namespace {

std::string PartitionList(const std::vector<fs::Partition>& parts,
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

Result<std::unique_ptr<SnapshotFilesystem>> OpenSnapshotFilesystem(Context& ctx,
                                                                   const std::string& snap,
                                                                   int partition) {
  auto out = std::make_unique<SnapshotFilesystem>();
  ASSIGN_OR_RETURN(out->snapshot, OpenSnapshotDevice(ctx, snap));
  std::shared_ptr<volume::BlockDevice> whole = out->snapshot->device;
  ASSIGN_OR_RETURN(std::vector<fs::Partition> parts, fs::ReadPartitions(*whole));
  if (parts.empty()) {
    if (partition > 0) {
      return NotFoundError(
          fmt::format("{} has no partition table, so no partition {} (drop "
                      "--partition to read its filesystem)",
                      snap, partition));
    }
    out->device = whole;
  } else {
    std::vector<std::string> types;
    for (const fs::Partition& p : parts) {
      auto type = fs::ProbeFilesystem(*fs::PartitionDevice(whole, p));
      types.push_back(type.ok() ? *type : "");
    }
    if (partition > 0) {
      auto it = std::find_if(parts.begin(), parts.end(),
                             [&](const fs::Partition& p) { return p.number == partition; });
      if (it == parts.end()) {
        return NotFoundError(fmt::format("{} has no partition {}; its partitions:{}", snap,
                                         partition, PartitionList(parts, types)));
      }
      out->partition = partition;
      out->device = fs::PartitionDevice(whole, *it);
    } else {
      std::vector<size_t> ext;
      for (size_t i = 0; i < parts.size(); ++i) {
        if (IsExt(types[i])) ext.push_back(i);
      }
      if (ext.size() != 1) {
        return InvalidArgumentError(fmt::format(
            "{} is a partitioned disk with {} ext partitions; choose one with --partition N:{}",
            snap, ext.size(), PartitionList(parts, types)));
      }
      out->partition = parts[ext[0]].number;
      out->device = fs::PartitionDevice(whole, parts[ext[0]]);
    }
  }
  ASSIGN_OR_RETURN(out->fs, fs::ExtFilesystem::Open(out->device));
  return out;
}

}  // namespace cairn::cli
