// Check: verifies a repository, collecting every finding (not just the
// first). Structure: config, keys, every index object (name = hash), every
// manifest (authentication, map checksum), every chunk a manifest names is
// indexed, every indexed pack exists with its indexed size; snapshots in the
// recycle bin are checked as manifests are. With read_data:
// every (or a share of the) pack read whole, its name rehashed, its header
// decoded and compared with the index, every chunk decrypted, decompressed
// and its id recomputed.
#ifndef CAIRN_REPO_CHECK_H_
#define CAIRN_REPO_CHECK_H_

#include <string>
#include <vector>

#include "core/progress.h"
#include "core/status.h"
#include "repo/repository.h"

namespace cairn::repo {

struct CheckOptions {
  bool read_data = false;
  double read_data_share = 1.0;  // with read_data: share of packs (0..1]
  // Picks which packs a share < 1 reads: the same seed picks the same packs
  // (pass e.g. the day number to cover every pack over time).
  uint64_t read_data_seed = 0;
  size_t threads = 0;
  Progress* progress = nullptr;
};

struct CheckFinding {
  enum class Severity { kError, kWarning };
  Severity severity = Severity::kError;
  std::string object;   // key of the object concerned
  std::string message;  // what is wrong, and what to do
};

struct CheckReport {
  std::vector<CheckFinding> findings;
  uint64_t snapshots_checked = 0;
  uint64_t binned_checked = 0;     // snapshots in the recycle bin (deleted/)
  uint64_t packs_checked = 0;      // existence/size
  uint64_t packs_read = 0;         // read_data
  uint64_t chunks_verified = 0;    // read_data
  uint64_t bytes_read = 0;
  bool ok() const;  // no kError finding
};

// Takes a shared lock ("repo check"). Returns non-OK only when the check
// itself could not run (lock conflict, listing failed); damage is reported as
// findings, every one naming its object (and pack offset / snapshot block)
// and saying what to do. Chunks missing from the index are reported for the
// first 10 blocks of a snapshot, then as one summary finding. After the
// packs are checked (and read, with read_data), each snapshot whose blocks
// would be read from a missing, truncated or corrupt place gets one finding
// naming its first such block. Unindexed packs are warnings.
Result<CheckReport> CheckRepository(Repository& repo, const CheckOptions& options);

// Rebuilds the index from pack headers: reads every pack's header (its tail,
// with GetRange), writes one new index object superseding all existing ones,
// removes them. Exclusive lock ("repo rebuild-index"). A pack whose header
// cannot be read is listed in `unreadable`, not fatal; if a readable old
// index object describes it with its current size, those entries are kept.
// Reloads repo.index() afterwards.
struct RebuildIndexResult {
  uint64_t packs = 0;   // packs in the new index
  uint64_t chunks = 0;  // entries in the new index
  std::vector<std::string> unreadable;  // pack keys whose header is damaged
  uint64_t packs_kept_from_index = 0;   // unreadable, old entries kept
};
Result<RebuildIndexResult> RebuildIndex(Repository& repo);

// Totals for `repo stats`. Takes a shared lock ("repo stats").
struct RepoStats {
  uint64_t snapshots = 0;
  uint64_t packs = 0;
  uint64_t chunks = 0;
  uint64_t stored_bytes = 0;   // sum of pack sizes (objects under packs/)
  uint64_t logical_bytes = 0;  // sum of snapshot sizes
  uint64_t unique_raw_bytes = 0;  // sum of raw lengths of indexed chunks
};
Result<RepoStats> ComputeStats(Repository& repo);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_CHECK_H_
