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
#include <string>
#include <vector>

#include "core/status.h"
#include "repo/repository.h"

namespace cairn::repo {

struct GcOptions {
  std::chrono::seconds grace{3600};  // packs younger than this are kept
  double repack_below = 0.5;         // repack packs with a smaller used share
  bool dry_run = false;
};

struct GcPlan {
  std::vector<PackId> remove;        // wholly unused packs
  std::vector<PackId> repack;        // mostly unused packs
  std::vector<PackId> kept_young;    // unused data but younger than grace
  std::vector<std::string> unindexed;  // pack keys no index names (kept if young)
  std::vector<std::string> remove_unindexed;  // unindexed and old: removed
  uint64_t chunks_used = 0;
  uint64_t chunks_unused = 0;
  uint64_t bytes_freed = 0;          // expected after execution
  uint64_t bytes_repacked = 0;       // used bytes copied by repack
};

struct GcResult {
  GcPlan plan;
  uint64_t packs_removed = 0;
  uint64_t packs_written = 0;
  uint64_t bytes_freed = 0;
  double seconds = 0;
};

// Takes an exclusive lock, plans, and unless dry_run executes.
Result<GcResult> CollectGarbage(Repository& repo, const GcOptions& options);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_GC_H_
