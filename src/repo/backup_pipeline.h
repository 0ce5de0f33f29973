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
// Changed-only (BackupOptions::changed_only with an `unchanged_from` map): a
// block wholly outside the changed extents is not read; it takes the
// parent's chunk id at the same index when that id is zero or indexed (a
// chunk the repository lost is read and stored again instead).
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
  uint64_t bytes_unchanged = 0;     // taken from `unchanged_from` unread
};

// Runs the pipeline over all of `source`. `unchanged_from` (may be null) is
// the parent's map for options.changed_only; REQUIRES, when not null:
// options.changed_only is set and unchanged_from->size() equals the number
// of blocks of `source` at the repository's block size.
Result<PipelineOutput> RunBackupPipeline(Repository& repo, Source& source,
                                         const BackupOptions& options,
                                         const std::vector<ChunkId>* unchanged_from = nullptr);

// Writes one index object naming `packs` (nothing if empty) and adds them to
// repo.index(): the commit step between packs and a manifest.
Status CommitPacks(Repository& repo, const std::vector<IndexedPack>& packs);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_BACKUP_PIPELINE_H_
