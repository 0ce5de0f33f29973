// Copy: snapshots from one repository into another (EBS CopySnapshot), e.g.
// a local repository into one in another region's object store.
//
// A copied snapshot keeps its id and its whole header (source name, host,
// size, created and completed times, description, tags, parent link, the
// original backup's stats); only its map differs when the destination's
// chunk ids differ. Incremental: only chunks the destination's index lacks
// are sent. Per snapshot the format's write order holds: packs, then the
// index object naming them, then the manifest, so an interrupted copy leaves
// only unreferenced packs in the destination and the next copy completes.
//
// Two paths, chosen per pair of repositories (SharesChunkIds):
//   fast  same block size and chunk-id key (`repo init --copy-params-from`):
//         the map is kept as is; each missing chunk's sealed blob is fetched
//         by ranged GET, opened (authenticated) with the source key and
//         re-sealed with the destination key, without decompressing or
//         re-hashing.
//   slow  otherwise: the snapshot is read block by block, verified
//         (SnapshotSource), and run through the backup pipeline into the
//         destination. If the snapshot's parent is already in the
//         destination, blocks whose source chunk equals the parent's take the
//         parent's destination chunk unread (BackupOptions::changed_only).
//
// A snapshot already in the destination (same id) is skipped, not compared.
// CopySnapshots takes a shared lock on both repositories for its duration.
//
// Thread-safety: one call at a time per pair of Repository objects; the
// threads it starts are joined before it returns.
#ifndef CAIRN_REPO_COPY_H_
#define CAIRN_REPO_COPY_H_

#include <cstdint>
#include <stop_token>
#include <string>
#include <vector>

#include "core/progress.h"
#include "core/status.h"
#include "repo/ids.h"
#include "repo/repository.h"

namespace cairn::repo {

// True if `a` and `b` compute the same chunk id for every block: equal block
// size, and both encrypted with the same id key or both unencrypted.
bool SharesChunkIds(const Repository& a, const Repository& b);

struct CopyOptions {
  size_t threads = 0;    // slow path: hashing/compressing workers; 0 = cores
  size_t readers = 0;    // source reads in flight (ranged GETs); 0 = default
  size_t uploaders = 0;  // pack uploads in flight; 0 = default
  // Optional; Add() per byte of snapshot handled (skipped snapshots count
  // whole), so a total of the snapshots' sizes reaches 100%.
  Progress* progress = nullptr;
  std::stop_token stop;  // request stop → kCancelled; the snapshot in
                         // progress is not saved, earlier ones are
};

struct SnapshotCopy {
  SnapshotId id;
  bool skipped = false;         // already in the destination
  bool fast = false;            // chunks moved sealed, without re-hashing
  uint64_t size = 0;            // of the snapshot
  uint64_t chunks_sent = 0;     // chunks new to the destination
  uint64_t bytes_sent = 0;      // bytes of the packs written
  uint64_t chunks_present = 0;  // distinct chunks the destination had
  uint64_t bytes_read = 0;      // slow path: plaintext bytes read and hashed
  double seconds = 0;
};

struct CopyResult {
  std::vector<SnapshotCopy> snapshots;  // in the order copied (oldest first, parents first)
  uint64_t copied = 0;
  uint64_t skipped = 0;
  uint64_t chunks_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t chunks_present = 0;
  double seconds = 0;
};

// Copies `ids` (duplicates ignored) from `from` into `to`, oldest first (so
// parents precede children). Every id is looked up in `from` first; if one is
// missing nothing is copied (kNotFound naming it and the repository). Errors
// name the snapshot, the repository and the object (kCorruption for damaged
// source data, naming block and pack).
Result<CopyResult> CopySnapshots(Repository& from, Repository& to,
                                 const std::vector<SnapshotId>& ids, const CopyOptions& options);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_COPY_H_
