// Garbage collection, as plan then execute (docs/format.md "Garbage
// collection"). PlanGc is pure over what it is given, so it is testable and
// printable as `--dry-run`.
//
//   load index + manifests ──► PlanGc ──► GcPlan ──► ExecuteGc
//                                              (repack → new index →
//                                               remove old index → remove packs)
#ifndef CAIRN_REPO_GC_H_
#define CAIRN_REPO_GC_H_

#include <chrono>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/status.h"
#include "repo/index.h"
#include "repo/repository.h"
#include "storage/backend.h"

namespace cairn::repo {

struct GcOptions {
  std::chrono::seconds grace{3600};  // packs younger than this are kept
  double repack_below = 0.5;         // repack packs with a smaller used share
  bool dry_run = false;
  // "Now" for the grace period and recycle bin expiry; unset = the clock.
  // Tests (and CAIRN_TEST_NOW, docs/cli.md) move it instead of sleeping.
  std::optional<std::chrono::system_clock::time_point> now;
};

struct GcPlan {
  std::vector<PackId> remove;        // wholly unused packs
  std::vector<PackId> repack;        // mostly unused packs
  std::vector<PackId> kept_young;    // unused data but younger than grace
  std::vector<std::string> unindexed;  // pack keys no index names (kept if young)
  std::vector<std::string> remove_unindexed;  // unindexed and old: removed
  // Indexed packs absent from storage. Unused ones are dropped from the new
  // index; used ones stay in it (data already lost; `repo check` names them).
  std::vector<PackId> missing;
  uint64_t chunks_used = 0;
  uint64_t chunks_unused = 0;
  uint64_t bytes_freed = 0;          // expected after execution
  uint64_t bytes_repacked = 0;       // used bytes copied by repack
  // Set by CollectGarbage, not PlanGc: snapshots in the recycle bin whose
  // period ended (their deleted/ objects are removed, then their data), and
  // how many binned snapshots' data is kept.
  std::vector<SnapshotId> bin_expired;
  uint64_t bin_kept = 0;
};

struct GcResult {
  GcPlan plan;
  uint64_t packs_removed = 0;
  uint64_t packs_written = 0;
  uint64_t bytes_freed = 0;
  size_t temporaries_removed = 0;  // leftovers of interrupted writes (local)
  double seconds = 0;
};

// What PlanGc looks at; gathered by CollectGarbage under the exclusive lock.
struct GcInputs {
  std::vector<IndexedPack> packs;  // every pack the index names
  std::unordered_set<ChunkId, DigestIdHash> used;  // chunks some manifest names
  std::vector<storage::ObjectInfo> listing;  // objects under packs/
  std::chrono::system_clock::time_point now;
};

// Pure: decides what to remove and repack. Per indexed pack present in the
// listing: no used chunk → remove; used blob bytes below repack_below of all
// its blob bytes → repack; otherwise kept. A pack whose listed modified time
// is less than `grace` before `now` (or in the future) is never removed nor
// repacked (kept_young). Listed keys no index names that parse as pack keys
// are `unindexed`; the old ones are also in `remove_unindexed`. Keys under
// packs/ that are not pack keys are left alone. Every list is sorted.
GcPlan PlanGc(const GcInputs& inputs, const GcOptions& options);

// Takes an exclusive lock ("repo gc"), loads the index and every manifest,
// live (snapshots/, listed first) and in the recycle bin (deleted/; chunks of
// those not expired count as used), plans, and unless dry_run executes:
// remove expired deleted/ objects → repack (each copied blob verified with
// DecodeChunk first) → one consolidated index superseding every index object
// read → remove those index objects → remove packs. A live manifest listed
// but gone when read was deleted meanwhile and is skipped (moved into the
// bin, it is read from deleted/, which is listed after).
// Refuses, changing nothing: kFailedPrecondition if an index object is
// damaged or a manifest names a chunk no index lists ("run `cairn repo
// rebuild-index` first"); kCorruption naming the manifest if any manifest
// cannot be read (its chunks would be collected), binned ones included. A chunk that fails
// verification while repacking aborts before anything is removed.
// GcResult::bytes_freed = bytes of packs removed − bytes of packs written.
// After execution repo.index() is reloaded.
Result<GcResult> CollectGarbage(Repository& repo, const GcOptions& options);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_GC_H_
