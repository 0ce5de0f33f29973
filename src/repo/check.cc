// CheckRepository, part 2: index objects, pack presence and sizes, and every
// manifest against the index (parts 1 and 3: check_meta.cc, check_data.cc).
#include <algorithm>
#include <atomic>
#include <map>
#include <string>

#include <fmt/format.h>

#include "repo/check_internal.h"
#include "repo/lock.h"
#include "repo/object_list.h"
#include "repo/parallel.h"
#include "repo/recycle_bin.h"

namespace cairn::repo {
namespace {

constexpr uint64_t kMissingChunkFindingsPerSnapshot = 10;
// Manifests read at once (a map is 32 bytes per block, so keep this small).
constexpr size_t kManifestThreads = 4;

// Every indexed pack exists with its indexed size; unindexed packs are
// warnings. Returns the indexed packs that exist (for read_data).
std::vector<IndexedPack> CheckPacks(Repository& repo,
                                    const std::vector<storage::ObjectInfo>& listing,
                                    bool index_damaged, FindingSink& sink,
                                    DataDamage& damage, CheckReport& report) {
  std::map<std::string, const storage::ObjectInfo*, std::less<>> listed;
  for (const storage::ObjectInfo& info : listing) listed[info.key] = &info;
  std::vector<IndexedPack> packs = repo.index().Packs();
  std::sort(packs.begin(), packs.end(),
            [](const IndexedPack& a, const IndexedPack& b) { return a.id < b.id; });
  std::vector<IndexedPack> present;
  for (IndexedPack& pack : packs) {
    const std::string key = PackKey(pack.id);
    ++report.packs_checked;
    auto it = listed.find(key);
    if (it == listed.end()) {
      sink.Error(key, fmt::format("pack {} is missing (the index lists {} chunks in it): run "
                                  "`cairn repo rebuild-index` so the next backup stores "
                                  "those chunks again", pack.id.Hex(), pack.entries.size()));
      damage.missing_packs.insert(pack.id);
      continue;
    }
    uint64_t actual = it->second->size;
    listed.erase(it);
    if (actual != pack.size) {
      sink.Error(key, fmt::format("pack {} is {} bytes, the index says {}: {}", pack.id.Hex(), actual,
                                  pack.size,
                                  actual < pack.size
                                      ? "truncated; chunks past the end are lost: run `cairn "
                                        "repo rebuild-index` so the next backup stores them "
                                        "again"
                                      : "longer than when it was written"));
      for (const PackEntry& e : pack.entries) {
        if (e.offset + e.length > actual) damage.bad_blobs.emplace(pack.id, e.offset);
      }
    }
    present.push_back(std::move(pack));
  }
  for (const auto& [key, info] : listed) {
    std::optional<PackId> id = ParsePackKey(key);
    if (!id) {
      sink.Warning(key, "not a pack name: not written by cairn; ignored");
    } else if (index_damaged) {
      sink.Warning(key, fmt::format("pack {} is in no readable index object: `cairn repo "
                                    "rebuild-index` indexes it again", id->Hex()));
    } else {
      sink.Warning(key, fmt::format("pack {} is in no index: left by an interrupted backup; "
                                    "`repo gc` removes it", id->Hex()));
    }
  }
  return present;
}

// Every block's chunk is indexed with the block's length, and stored in a
// place not known to be damaged.
void CheckBlocks(Repository& repo, const Manifest& m, const DataDamage& damage,
                 FindingSink& sink, const std::string& key) {
  const SnapshotHeader& h = m.header;
  const uint64_t bs = repo.config().block_size;
  if (h.block_size != bs) {
    sink.Error(key, fmt::format("snapshot {}: block size {} differs from the repository's {}",
                                h.id.str(), h.block_size, bs));
    return;
  }
  if (uint64_t want = (h.size + bs - 1) / bs; m.blocks.size() != want) {
    sink.Error(key, fmt::format("snapshot {}: the map has {} blocks, a size of {} bytes "
                                "needs {}", h.id.str(), m.blocks.size(), h.size, want));
  }
  uint64_t missing = 0, damaged = 0, first_damaged = 0;
  ChunkLocation first_loc;
  for (uint64_t i = 0; i < m.blocks.size(); ++i) {
    const ChunkId& chunk = m.blocks[i];
    if (chunk.IsZero()) continue;
    std::optional<ChunkLocation> loc = repo.index().Lookup(chunk);
    if (!loc) {
      if (++missing <= kMissingChunkFindingsPerSnapshot) {
        sink.Error(key, fmt::format("snapshot {} block {}: chunk {} is not in the index "
                                    "(`cairn repo rebuild-index` finds it if a pack still "
                                    "holds it)", h.id.str(), i, chunk.Hex()));
      }
      continue;
    }
    uint64_t start = i * bs;
    uint64_t length = start < h.size ? std::min(bs, h.size - start) : 0;
    if (loc->raw_length != length) {
      sink.Error(key, fmt::format("snapshot {} block {}: chunk {} is {} bytes, the block {}",
                                  h.id.str(), i, chunk.Hex(), loc->raw_length, length));
    }
    if (damage.Affects(*loc) && damaged++ == 0) {
      first_damaged = i;
      first_loc = *loc;
    }
  }
  if (missing > kMissingChunkFindingsPerSnapshot) {
    sink.Error(key, fmt::format("snapshot {}: {} more blocks name chunks not in the index "
                                "(the first {} are reported above)",
                                h.id.str(), missing - kMissingChunkFindingsPerSnapshot,
                                kMissingChunkFindingsPerSnapshot));
  }
  if (damaged > 0) {
    sink.Error(key, fmt::format(
        "snapshot {}: {} block{} stored in missing or damaged places, so it cannot be "
        "restored completely; the first is block {} (byte offset {}): chunk {} in pack {} at "
        "offset {}", h.id.str(), damaged, damaged == 1 ? " is" : "s are", first_damaged,
        first_damaged * bs,
        m.blocks[first_damaged].Hex(), first_loc.pack.Hex(), first_loc.offset));
  }
}

void CheckSnapshot(Repository& repo, const std::string& key, const DataDamage& damage,
                   FindingSink& sink, std::atomic<uint64_t>& checked) {
  Result<SnapshotId> id = SnapshotId::Parse(key.substr(kSnapshotsPrefix.size()));
  if (!id.ok()) {
    sink.Error(key, "not a snapshot manifest name: not written by cairn; move it out of the "
                    "repository (gc refuses to run while it is there)");
    return;
  }
  Result<Manifest> m = repo.LoadManifest(*id);
  if (!m.ok()) {
    std::string why = m.status().message();
    if (why.find(id->str()) == std::string::npos) why = "snapshot " + id->str() + ": " + why;
    sink.Error(key, fmt::format("{}; it cannot be restored (and gc refuses to run while it is "
                                "there): `cairn snapshot delete --skip-recycle-bin {}` removes "
                                "it", why, id->str()));
    return;
  }
  ++checked;
  CheckBlocks(repo, *m, damage, sink, key);
}

// A snapshot in the recycle bin: its chunks must be there until it expires.
void CheckBinned(Repository& repo, const std::string& key, const DataDamage& damage,
                 FindingSink& sink, std::atomic<uint64_t>& checked) {
  Result<SnapshotId> id = SnapshotId::Parse(key.substr(kDeletedPrefix.size()));
  if (!id.ok()) {
    sink.Error(key, "not a deleted snapshot's name: not written by cairn; move it out of the "
                    "repository (gc refuses to run while it is there)");
    return;
  }
  Result<std::pair<BinRecord, Manifest>> binned = LoadBinnedManifest(repo, *id);
  if (!binned.ok()) {
    if (binned.status().code() == StatusCode::kNotFound) return;  // undeleted meanwhile
    sink.Error(key, fmt::format("deleted snapshot {}: {}; it cannot be undeleted (and gc "
                                "refuses to run while it is there): `cairn snapshot delete "
                                "--skip-recycle-bin {}` removes it",
                                id->str(), binned.status().message(), id->str()));
    return;
  }
  ++checked;
  CheckBlocks(repo, binned->second, damage, sink, key);
}

Status CheckSnapshots(Repository& repo, const DataDamage& damage, FindingSink& sink,
                      CheckReport& report) {
  ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> objects,
                   ListObjects(repo.backend(), kSnapshotsPrefix));
  std::atomic<uint64_t> checked{0};
  ParallelFor(objects.size(), kManifestThreads, [&](size_t i) {
    CheckSnapshot(repo, objects[i].key, damage, sink, checked);
  });
  report.snapshots_checked = checked;
  ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> binned,
                   ListObjects(repo.backend(), kDeletedPrefix));
  std::atomic<uint64_t> binned_checked{0};
  ParallelFor(binned.size(), kManifestThreads, [&](size_t i) {
    CheckBinned(repo, binned[i].key, damage, sink, binned_checked);
  });
  report.binned_checked = binned_checked;
  return Status::OK();
}

}  // namespace

bool CheckReport::ok() const {
  return std::none_of(findings.begin(), findings.end(), [](const CheckFinding& f) {
    return f.severity == CheckFinding::Severity::kError;
  });
}

Result<CheckReport> CheckRepository(Repository& repo, const CheckOptions& options) {
  LockOptions lock_options;
  lock_options.operation = "repo check";
  ASSIGN_OR_RETURN(std::unique_ptr<RepoLock> lock,
                   RepoLock::Acquire(repo.backend(), lock_options));
  CheckReport report;
  FindingSink sink(report);
  CheckConfigAndKeys(repo, sink);

  ASSIGN_OR_RETURN(LoadedIndex loaded, repo.LoadIndex());
  for (const auto& [id, why] : loaded.damaged) {
    sink.Error(IndexKey(id), fmt::format("index object is damaged ({}); the chunks it lists "
                                         "may be unreachable: run `cairn repo rebuild-index`",
                                         why.message()));
  }
  ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> listing,
                   ListObjects(repo.backend(), kPacksPrefix));
  DataDamage damage;
  std::vector<IndexedPack> present =
      CheckPacks(repo, listing, !loaded.damaged.empty(), sink, damage, report);
  if (options.read_data) {
    DataCounters c = ReadPackData(
        repo, ChooseDataPacks(std::move(present), options.read_data_share,
                              options.read_data_seed),
        options, sink, damage);
    report.packs_read = c.packs_read;
    report.chunks_verified = c.chunks_verified;
    report.bytes_read = c.bytes_read;
  }
  RETURN_IF_ERROR(CheckSnapshots(repo, damage, sink, report));
  // Threads add findings in any order; one object's findings come from one
  // thread, so a stable sort by object makes the report deterministic.
  std::stable_sort(report.findings.begin(), report.findings.end(),
                   [](const CheckFinding& a, const CheckFinding& b) { return a.object < b.object; });
  return report;
}

}  // namespace cairn::repo
