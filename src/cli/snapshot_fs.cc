#include "cli/snapshot_fs.h"

#include "cli/context.h"
#include "fs/filesystem_device.h"
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

Result<std::unique_ptr<SnapshotFilesystem>> OpenSnapshotFilesystem(Context& ctx,
                                                                   const std::string& snap,
                                                                   int partition) {
  auto out = std::make_unique<SnapshotFilesystem>();
  ASSIGN_OR_RETURN(out->snapshot, OpenSnapshotDevice(ctx, snap));
  ASSIGN_OR_RETURN(fs::FilesystemDevice chosen,
                   fs::ChooseFilesystemDevice(out->snapshot->device, partition, snap));
  out->device = std::move(chosen.device);
  out->partition = chosen.partition;
  ASSIGN_OR_RETURN(out->fs, fs::ExtFilesystem::Open(out->device));
  return out;
}

}  // namespace cairn::cli
