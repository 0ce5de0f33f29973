// ComputeStats: totals for `repo stats`.
#include <unordered_set>

#include "repo/check.h"
#include "repo/lock.h"
#include "repo/object_list.h"

namespace cairn::repo {

Result<RepoStats> ComputeStats(Repository& repo) {
  LockOptions lock_options;
  lock_options.operation = "repo stats";
  ASSIGN_OR_RETURN(std::unique_ptr<RepoLock> lock,
                   RepoLock::Acquire(repo.backend(), lock_options));
  RepoStats stats;
  ASSIGN_OR_RETURN(LoadedIndex loaded, repo.LoadIndex());
  (void)loaded;
  ASSIGN_OR_RETURN(Repository::SnapshotList list, repo.ListSnapshots());
  stats.snapshots = list.snapshots.size();
  for (const SnapshotHeader& h : list.snapshots) stats.logical_bytes += h.size;

  ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> packs,
                   ListObjects(repo.backend(), kPacksPrefix));
  for (const storage::ObjectInfo& info : packs) {
    if (!ParsePackKey(info.key)) continue;
    ++stats.packs;
    stats.stored_bytes += info.size;
  }
  std::unordered_set<ChunkId, DigestIdHash> seen;
  for (const IndexedPack& pack : repo.index().Packs()) {
    for (const PackEntry& e : pack.entries) {
      if (seen.insert(e.id).second) stats.unique_raw_bytes += e.raw_length;
    }
  }
  stats.chunks = seen.size();
  return stats;
}

}  // namespace cairn::repo
