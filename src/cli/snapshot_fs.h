// Opening the filesystem inside a snapshot, for the file-level commands
// (`snapshot ls`, `cat`, `partitions`, `export`): repository (with the
// global flags and passphrase) → shared lock → SnapshotSource →
// SourceDevice → optional PartitionDevice → ExtFilesystem.
//
// Thread-safety: used by the main thread only; the returned filesystem is
// one-thread-at-a-time (fs/ext_filesystem.h).
#ifndef CAIRN_CLI_SNAPSHOT_FS_H_
#define CAIRN_CLI_SNAPSHOT_FS_H_

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "fs/ext_filesystem.h"
#include "fs/partition_table.h"
#include "repo/lock.h"
#include "repo/repository.h"
#include "repo/snapshot_source.h"
#include "volume/block_device.h"

namespace cairn::cli {

class Context;

// An opened snapshot device and everything it needs. Members are destroyed
// in reverse order: the device (and its SnapshotSource), then the lock, then
// the repository. REQUIRES: no copy of `device` outlives this object (the
// source reads through `repository`).
struct SnapshotDevice {
  std::unique_ptr<repo::Repository> repository;
  std::unique_ptr<repo::RepoLock> lock;         // shared, held while reading
  repo::SnapshotSource* source = nullptr;       // owned by `device`
  std::shared_ptr<volume::BlockDevice> device;  // the whole snapshot
  std::string snapshot_id;
  // Chunks fetched from the repository so far (for -v statistics).
  uint64_t blocks_fetched() const;
};

// Opens snapshot `snap` (snap-…) of the repository at ctx.repo_url as a
// read-only BlockDevice. kNotFound names the snapshot.
Result<std::unique_ptr<SnapshotDevice>> OpenSnapshotDevice(Context& ctx, const std::string& snap);

// An opened filesystem inside a snapshot.
struct SnapshotFilesystem {
  std::unique_ptr<SnapshotDevice> snapshot;
  int partition = 0;                            // 0: the whole device
  std::shared_ptr<volume::BlockDevice> device;  // the partition, or the whole snapshot
  std::unique_ptr<fs::ExtFilesystem> fs;
};

// Opens the ext2/3/4 filesystem of snapshot `snap`. `partition` > 0 picks
// partition N (kNotFound listing the partitions when there is none such);
// 0 means: the whole device when it has no partition table, else the only
// partition holding an ext filesystem, else kInvalidArgument listing the
// partitions and asking for "--partition N".
Result<std::unique_ptr<SnapshotFilesystem>> OpenSnapshotFilesystem(Context& ctx,
                                                                   const std::string& snap,
                                                                   int partition);

}  // namespace cairn::cli

#endif  // CAIRN_CLI_SNAPSHOT_FS_H_
