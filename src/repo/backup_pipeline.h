// BackupPipeline (internal to backup.cc): reads a Source block by block and
// stores its new chunks as packs. Writes packs only — never an index object
// or a manifest; the caller commits those (docs/format.md write order).
//
//   reader ──work──▶ N workers ──blobs──▶ packer ──uploads──▶ U uploaders
//     ▲                  │                                      │
//     └────free buffers──┘                      backend.Put(PackKey(id))
//
// The reader takes a buffer from a fixed free list (so memory is bounded and
// steady state allocates nothing for reads), fills it and queues it; blocks
// wholly inside a hole are zero without reading. A worker detects zero
// blocks, computes the chunk id, skips chunks the index has (which covers
// every block unchanged since the parent) or this backup already claimed, and encodes the
// rest. The packer closes a pack at config().pack_size; uploaders Put it.
//
// Errors: the first error wins; it closes every queue so all threads stop,
// and Run returns it with context (block, offset, pack). A stop request is
// kCancelled.
//
// Thread-safety: Run is called once, from one thread; the threads it starts
// are joined before it returns.
#ifndef CAIRN_REPO_BACKUP_PIPELINE_H_
#define CAIRN_REPO_BACKUP_PIPELINE_H_

#include <span>
#include <vector>

#include "core/status.h"
#include "repo/backup.h"
#include "repo/index.h"
#include "repo/manifest.h"
#include "repo/repository.h"
#include "repo/source.h"

namespace cairn::repo {

struct PipelineOutput {
  std::vector<ChunkId> blocks;      // the new snapshot's map
  std::vector<IndexedPack> packs;   // packs written (already durable)
  SnapshotStats stats;              // all but `seconds`
};

// Runs the pipeline over all of `source`.
Result<PipelineOutput> RunBackupPipeline(Repository& repo, Source& source,
                                         const BackupOptions& options);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_BACKUP_PIPELINE_H_
