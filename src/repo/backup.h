// Backup: reads a Source into a new snapshot (docs/format.md write order).
//
// Pipeline: a reader thread reads blocks (skipping holes) into a bounded
// queue; a worker pool hashes each block, skips zero blocks and blocks
// already in the parent's map at the same index or anywhere in the index,
// compresses and seals new ones; a packer fills packs; uploader threads put
// packs. Then the index object, then the manifest. Memory is bounded by the
// queue capacities whatever the source size.
#ifndef CAIRN_REPO_BACKUP_H_
#define CAIRN_REPO_BACKUP_H_

#include <functional>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "core/progress.h"
#include "core/status.h"
#include "repo/chunk.h"
#include "repo/manifest.h"
#include "repo/repository.h"
#include "repo/source.h"

namespace cairn::repo {

struct BackupOptions {
  std::string description;
  std::map<std::string, std::string> tags;
  // Parent: nullopt = newest completed snapshot of the same source name (if
  // any); an empty SnapshotId = no parent.
  std::optional<SnapshotId> parent;
  // A fixed id for the new snapshot (a copied snapshot keeps its id; a
  // volume snapshot's id is handed out at its instant). Empty = a new id.
  SnapshotId snapshot_id;
  // The created time to record (RFC 3339 UTC); empty = when the backup began.
  std::string created;
  // When set, only these ranges of the source are read; every block wholly
  // outside them is taken from the parent's map unread (changed-block
  // tracking, incremental copy). REQUIRES a parent of the same size and
  // block size; without one every block is read and a warning says why.
  std::optional<std::vector<Extent>> changed_only;
  size_t threads = 0;      // 0 = cores
  size_t uploaders = 0;    // 0 = a default suited to the backend
  int compression_level = kDefaultCompressionLevel;
  Progress* progress = nullptr;  // optional; Add() per byte processed
  std::stop_token stop;          // request stop → kCancelled, nothing saved
};

struct BackupResult {
  SnapshotHeader snapshot;  // as saved, stats filled
  // changed_only: bytes of blocks taken from the parent's map unread (they
  // count in neither bytes_read nor bytes_new).
  uint64_t bytes_unchanged = 0;
};

// Takes a shared lock for its duration and (re)loads the index under it.
Result<BackupResult> CreateSnapshot(Repository& repo, Source& source,
                                    const BackupOptions& options);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_BACKUP_H_
