// CollectGarbage: gathers GcInputs under an exclusive lock, plans with
// PlanGc, and executes in the order docs/format.md requires (new packs →
// consolidated index → remove old index objects → remove packs), so a crash
// at any step leaves every snapshot restorable.
#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <unordered_set>

#include <fmt/format.h>

#include "core/crypto.h"
#include "repo/chunk.h"
#include "repo/gc.h"
#include "repo/lock.h"
#include "repo/object_list.h"
#include "repo/pack.h"
#include "repo/parallel.h"
#include "repo/recycle_bin.h"

namespace cairn::repo {
namespace {

// Manifests read at once (a map is 32 bytes per block, so keep this small).
constexpr size_t kManifestThreads = 4;

using ChunkSet = std::unordered_set<ChunkId, DigestIdHash>;
using PackSet = std::unordered_set<PackId, DigestIdHash>;

bool Transient(const Status& s) {
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kIoError ||
         s.code() == StatusCode::kPermissionDenied;
}

// Every chunk of `m` must be indexed, or the pack holding it might look
// unused; then adds them to `used`.
Status MarkBlocks(Repository& repo, const Manifest& m, std::string_view what, std::mutex& mu,
                  ChunkSet& used) {
  for (size_t block = 0; block < m.blocks.size(); ++block) {
    const ChunkId& chunk = m.blocks[block];
    if (!chunk.IsZero() && !repo.index().Contains(chunk)) {
      return FailedPreconditionError(fmt::format(
          "{} {} block {}: chunk {} is not in the index; gc refuses to run "
          "(it could remove the pack holding it): run `cairn repo rebuild-index` first",
          what, m.header.id.str(), block, chunk.Hex()));
    }
  }
  std::lock_guard lock(mu);
  for (const ChunkId& chunk : m.blocks) {
    if (!chunk.IsZero()) used.insert(chunk);
  }
  return Status::OK();
}

// Marks the chunks of the manifest under `key` in `used`. A manifest gone
// since the listing was deleted meanwhile (into the bin: listed later).
Status MarkManifest(Repository& repo, const std::string& key, std::mutex& mu, ChunkSet& used) {
  Result<SnapshotId> id = SnapshotId::Parse(key.substr(kSnapshotsPrefix.size()));
  if (!id.ok()) {
    return CorruptionError(fmt::format(
        "{} is not a snapshot manifest name, so gc cannot tell which chunks it "
        "needs; move it out of the repository, then run gc again", key));
  }
  Result<Manifest> m = repo.LoadManifest(*id);
  if (!m.ok()) {
    if (m.status().code() == StatusCode::kNotFound) return Status::OK();
    if (Transient(m.status())) return m.status().WithContext("reading " + key);
    return CorruptionError(fmt::format(
        "cannot read {} ({}); gc refuses to run because the chunks it names would "
        "be removed: run `cairn repo check`, and delete the snapshot if it cannot "
        "be repaired", key, m.status().message()));
  }
  return MarkBlocks(repo, *m, "snapshot", mu, used);
}

// Marks the chunks of the binned snapshot under `key` unless its period
// ended; then it is added to `expired` instead.
Status MarkBinned(Repository& repo, const std::string& key, TimePoint now, std::mutex& mu,
                  ChunkSet& used, std::vector<SnapshotId>& expired) {
  Result<SnapshotId> id = SnapshotId::Parse(key.substr(kDeletedPrefix.size()));
  if (!id.ok()) {
    return CorruptionError(fmt::format(
        "{} is not a deleted snapshot's name, so gc cannot tell which chunks it needs; move "
        "it out of the repository, then run gc again", key));
  }
  Result<std::pair<BinRecord, Manifest>> binned = LoadBinnedManifest(repo, *id);
  if (!binned.ok()) {
    if (binned.status().code() == StatusCode::kNotFound) return Status::OK();  // undeleted
    if (Transient(binned.status())) return binned.status().WithContext("reading " + key);
    return CorruptionError(fmt::format(
        "cannot read {} ({}); gc refuses to run because the chunks of that deleted snapshot "
        "would be removed before it expires: `cairn snapshot delete --skip-recycle-bin {}` "
        "removes it for good", key, binned.status().message(), id->str()));
  }
  if (binned->first.Expired(now)) {
    std::lock_guard lock(mu);
    expired.push_back(*id);
    return Status::OK();
  }
  return MarkBlocks(repo, binned->second, "deleted snapshot", mu, used);
}

struct Marked {
  ChunkSet used;
  std::vector<SnapshotId> bin_expired;  // sorted
  uint64_t bin_kept = 0;
};

// Marks every chunk a manifest names, live or binned and not expired. Lists
// snapshots/ itself so that no object a snapshot listing might skip goes
// unread, and lists deleted/ only after reading snapshots/. Refuses on the
// first manifest (in key order) that fails.
Result<Marked> MarkUsedChunks(Repository& repo, TimePoint now) {
  Marked out;
  std::mutex mu;  // guards out
  ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> objects,
                   ListObjects(repo.backend(), kSnapshotsPrefix));
  std::vector<Status> results(objects.size());
  ParallelFor(objects.size(), kManifestThreads,
              [&](size_t i) { results[i] = MarkManifest(repo, objects[i].key, mu, out.used); });
  for (const Status& s : results) RETURN_IF_ERROR(s);

  ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> binned,
                   ListObjects(repo.backend(), kDeletedPrefix));
  std::vector<Status> bin_results(binned.size());
  ParallelFor(binned.size(), kManifestThreads, [&](size_t i) {
    bin_results[i] = MarkBinned(repo, binned[i].key, now, mu, out.used, out.bin_expired);
  });
  for (const Status& s : bin_results) RETURN_IF_ERROR(s);
  std::sort(out.bin_expired.begin(), out.bin_expired.end());
  out.bin_kept = binned.size() - out.bin_expired.size();
  return out;
}

// Copies the used chunks of `packs` not already in `present` into new packs,
// verifying each first. Adds what it copies to `present`.
Result<std::vector<IndexedPack>> Repack(Repository& repo, const GcPlan& plan,
                                        const std::map<PackId, const IndexedPack*>& indexed,
                                        const ChunkSet& used, ChunkSet& present) {
  const RepoCipher& cipher = repo.cipher();
  PackWriter writer;
  std::vector<IndexedPack> written;
  auto flush = [&]() -> Status {
    PackWriter::Finished f = writer.Finish(cipher);
    RETURN_IF_ERROR_CTX(repo.backend().Put(PackKey(f.id), f.data),
                        "gc: writing repacked pack " + f.id.Hex());
    written.push_back(IndexedPack{f.id, f.data.size(), std::move(f.entries)});
    return Status::OK();
  };
  for (const PackId& id : plan.repack) {
    const std::string key = PackKey(id);
    ASSIGN_OR_RETURN_CTX(Buffer data, repo.backend().Get(key), "gc: reading " + key);
    for (const PackEntry& e : indexed.at(id)->entries) {
      if (!used.contains(e.id) || present.contains(e.id)) continue;
      auto fail = [&](std::string_view why) {
        return CorruptionError(fmt::format(
            "pack {} offset {}: {}; gc stopped before removing anything: "
            "run `cairn repo check --read-data`", key, e.offset, why));
      };
      if (e.offset > data.size() || e.length > data.size() - e.offset) {
        return fail(fmt::format("chunk {}: lies beyond the end of the pack ({} bytes)",
                                e.id.Hex(), data.size()));
      }
      ByteSpan blob = ByteSpan(data).subspan(e.offset, e.length);
      if (Result<Buffer> ok = DecodeChunk(cipher, e.id, blob, e.raw_length); !ok.ok()) {
        return fail(ok.status().message());
      }
      writer.Add(e.id, blob, e.raw_length);  // sealed already: copied as is
      present.insert(e.id);
      if (writer.size() >= repo.config().pack_size) RETURN_IF_ERROR(flush());
    }
  }
  if (!writer.empty()) RETURN_IF_ERROR(flush());
  return written;
}

}  // namespace

Result<GcResult> CollectGarbage(Repository& repo, const GcOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  LockOptions lock_options;
  lock_options.exclusive = true;
  lock_options.operation = "repo gc";
  ASSIGN_OR_RETURN(std::unique_ptr<RepoLock> lock,
                   RepoLock::Acquire(repo.backend(), lock_options));

  ASSIGN_OR_RETURN(LoadedIndex loaded, repo.LoadIndex());
  if (!loaded.damaged.empty()) {
    const auto& [id, why] = loaded.damaged.front();
    return FailedPreconditionError(fmt::format(
        "{} is damaged ({}){}; gc refuses to run: run `cairn repo rebuild-index` first",
        IndexKey(id), why.message(),
        loaded.damaged.size() > 1
            ? fmt::format(" and {} more index objects", loaded.damaged.size() - 1)
            : ""));
  }
  GcInputs in;
  in.now = options.now.value_or(std::chrono::system_clock::now());
  ASSIGN_OR_RETURN(Marked marked, MarkUsedChunks(repo, in.now));
  in.used = std::move(marked.used);
  in.packs = repo.index().Packs();
  ASSIGN_OR_RETURN(in.listing, ListObjects(repo.backend(), kPacksPrefix));

  GcResult result;
  result.plan = PlanGc(in, options);
  result.plan.bin_expired = std::move(marked.bin_expired);
  result.plan.bin_kept = marked.bin_kept;
  if (!options.dry_run) {
    // What interrupted writes left behind in the storage itself (a local
    // directory's temporary files), as old as the grace period: no writer
    // runs under the exclusive lock, and the grace covers clock skew.
    ASSIGN_OR_RETURN_CTX(result.temporaries_removed,
                         repo.backend().RemoveStaleTemporaries(options.grace),
                         "gc: removing temporary files of interrupted writes");
  }
  const GcPlan& plan = result.plan;
  auto finish = [&]() -> Result<GcResult> {
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
  };
  if (!options.dry_run) {
    // Expired deleted manifests go before any pack: a deleted/ object never
    // names data that is gone.
    for (const SnapshotId& id : plan.bin_expired) {
      RETURN_IF_ERROR_CTX(lock->health(), "gc: lost the repository lock; run gc again");
      RETURN_IF_ERROR_CTX(repo.backend().Remove(DeletedKey(id)),
                          "gc: removing expired " + DeletedKey(id) + " (run gc again)");
    }
  }
  bool nothing_to_remove =
      plan.remove.empty() && plan.repack.empty() && plan.remove_unindexed.empty();
  if (options.dry_run ||
      (nothing_to_remove && loaded.objects.size() <= 1 && loaded.superseded.empty())) {
    return finish();
  }

  // Packs leaving the index, and chunks that stay available elsewhere.
  PackSet dropped(plan.remove.begin(), plan.remove.end());
  dropped.insert(plan.repack.begin(), plan.repack.end());
  PackSet missing(plan.missing.begin(), plan.missing.end());
  std::map<PackId, const IndexedPack*> indexed;
  ChunkSet present;
  for (const IndexedPack& p : in.packs) {
    indexed[p.id] = &p;
    if (dropped.contains(p.id) || missing.contains(p.id)) continue;
    for (const PackEntry& e : p.entries) present.insert(e.id);
  }

  // 1. New packs.
  ASSIGN_OR_RETURN(std::vector<IndexedPack> written,
                   Repack(repo, plan, indexed, in.used, present));
  result.packs_written = written.size();

  // 2. One consolidated index superseding every index object read.
  IndexObject consolidated;
  consolidated.supersedes = loaded.objects;
  consolidated.supersedes.insert(consolidated.supersedes.end(), loaded.superseded.begin(),
                                 loaded.superseded.end());
  for (const auto& [id, pack] : indexed) {
    if (dropped.contains(id)) continue;
    if (missing.contains(id)) {
      bool needed = false;
      for (const PackEntry& e : pack->entries) needed = needed || in.used.contains(e.id);
      if (!needed) continue;  // gone and unused: nothing left to describe
    }
    consolidated.packs.push_back(*pack);
  }
  for (IndexedPack& p : written) consolidated.packs.push_back(std::move(p));
  Buffer encoded = EncodeIndexObject(repo.cipher(), consolidated);
  const IndexId new_index = IndexId::FromBytes(Sha256(encoded));
  RETURN_IF_ERROR_CTX(lock->health(), "gc: lost the repository lock before committing");
  RETURN_IF_ERROR_CTX(repo.backend().Put(IndexKey(new_index), encoded),
                      "gc: writing the consolidated index");

  // 3. Old index objects (the new one supersedes them, so this may stop anywhere).
  for (const IndexId& old : consolidated.supersedes) {
    if (old == new_index) continue;
    RETURN_IF_ERROR_CTX(repo.backend().Remove(IndexKey(old)),
                        "gc: removing superseded " + IndexKey(old) + " (run gc again)");
  }

  // 4. Packs.
  std::map<std::string, uint64_t, std::less<>> sizes;
  for (const storage::ObjectInfo& i : in.listing) sizes[i.key] = i.size;
  std::vector<std::string> doomed;
  for (const PackId& id : plan.remove) doomed.push_back(PackKey(id));
  for (const PackId& id : plan.repack) doomed.push_back(PackKey(id));
  doomed.insert(doomed.end(), plan.remove_unindexed.begin(), plan.remove_unindexed.end());
  uint64_t removed_bytes = 0;
  for (const std::string& key : doomed) {
    RETURN_IF_ERROR_CTX(lock->health(), "gc: lost the repository lock; run gc again");
    RETURN_IF_ERROR_CTX(repo.backend().Remove(key), "gc: removing " + key + " (run gc again)");
    ++result.packs_removed;
    removed_bytes += sizes[key];
  }
  uint64_t written_bytes = 0;
  for (const IndexedPack& p : consolidated.packs) {
    if (!indexed.contains(p.id)) written_bytes += p.size;
  }
  result.bytes_freed = removed_bytes > written_bytes ? removed_bytes - written_bytes : 0;

  RETURN_IF_ERROR_CTX(repo.LoadIndex().status(), "gc done; reloading the index");
  return finish();
}

}  // namespace cairn::repo
