// CreateSnapshot: lock, resolve the parent, run the pipeline (packs), then
// commit the index object and the manifest, in that order.
#include "repo/backup.h"

#include <unistd.h>

#include <chrono>

#include <fmt/format.h>

#include "core/crypto.h"
#include "core/log.h"
#include "core/units.h"
#include "repo/backup_pipeline.h"
#include "repo/index.h"
#include "repo/lock.h"

namespace cairn::repo {
namespace {

std::string HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

// The parent's id, or nullopt for none (see BackupOptions::parent). The
// parent is recorded in the manifest; deduplication needs no parent map,
// since every block whose chunk the index holds is skipped anyway.
Result<std::optional<SnapshotId>> ResolveParent(Repository& repo, const Source& source,
                                                const BackupOptions& options) {
  if (options.parent.has_value()) {
    if (options.parent->empty()) return std::optional<SnapshotId>();
    ASSIGN_OR_RETURN_CTX(SnapshotHeader h, repo.LoadSnapshotHeader(*options.parent),
                         "loading parent snapshot " + options.parent->str());
    return std::optional<SnapshotId>(h.id);
  }
  ASSIGN_OR_RETURN_CTX(Repository::SnapshotList list, repo.ListSnapshots(),
                       "listing snapshots to find a parent");
  // Sorted by created time then id: the last match is the newest.
  for (auto it = list.snapshots.rbegin(); it != list.snapshots.rend(); ++it) {
    if (it->source == source.name() && it->block_size == repo.config().block_size &&
        it->state == "completed") {
      return std::optional<SnapshotId>(it->id);
    }
  }
  return std::optional<SnapshotId>();
}

// The parent's map for a changed-only backup, or nullopt (with a warning
// saying why) when there is no usable parent: then every block is read.
Result<std::optional<Manifest>> ChangedOnlyParent(Repository& repo, const Source& source,
                                                  const std::optional<SnapshotId>& parent) {
  const std::string what = "changed-only backup of " + source.name();
  if (!parent.has_value()) {
    LogWarning(what + ": no parent snapshot to take unchanged blocks from; reading every block");
    return std::optional<Manifest>();
  }
  ASSIGN_OR_RETURN_CTX(Manifest m, repo.LoadManifest(*parent),
                       "loading parent snapshot " + parent->str() + " for the " + what);
  if (m.header.size != source.size() || m.header.block_size != repo.config().block_size) {
    LogWarning(fmt::format("{}: parent {} has {} bytes in {} blocks, the source {} bytes in {} "
                           "blocks; reading every block",
                           what, parent->str(), m.header.size, FormatBytes(m.header.block_size),
                           source.size(), FormatBytes(repo.config().block_size)));
    return std::optional<Manifest>();
  }
  return std::optional<Manifest>(std::move(m));
}

}  // namespace

Result<BackupResult> CreateSnapshot(Repository& repo, Source& source,
                                    const BackupOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  const auto created = std::chrono::system_clock::now();
  LockOptions lock_options;
  lock_options.operation = "snapshot create";
  ASSIGN_OR_RETURN(std::unique_ptr<RepoLock> lock,
                   RepoLock::Acquire(repo.backend(), lock_options));
  // The index is read under the lock: chunks it names cannot be collected by
  // a gc while this backup deduplicates against them.
  ASSIGN_OR_RETURN(LoadedIndex loaded, repo.LoadIndex());
  for (const auto& [index_id, why] : loaded.damaged) {
    LogWarning("index " + index_id.ShortHex() + " unreadable (" + why.message() +
               "); its chunks will be stored again. Run `cairn repo check`.");
  }

  ASSIGN_OR_RETURN(std::optional<SnapshotId> parent, ResolveParent(repo, source, options));
  std::optional<Manifest> unchanged_from;
  if (options.changed_only.has_value()) {
    ASSIGN_OR_RETURN(unchanged_from, ChangedOnlyParent(repo, source, parent));
  }
  ASSIGN_OR_RETURN(PipelineOutput out,
                   RunBackupPipeline(repo, source, options,
                                     unchanged_from ? &unchanged_from->blocks : nullptr));
  if (options.stop.stop_requested()) {
    return CancelledError("backup of " + source.name() + " cancelled; nothing was saved");
  }
  RETURN_IF_ERROR_CTX(lock->health(),
                      "backup of " + source.name() + ": lost the repository lock; nothing was saved");
  RETURN_IF_ERROR(CommitPacks(repo, out.packs));

  Manifest manifest;
  SnapshotHeader& h = manifest.header;
  h.id = options.snapshot_id.empty() ? SnapshotId::Generate() : options.snapshot_id;
  h.source = source.name();
  h.host = HostName();
  h.size = source.size();
  h.block_size = repo.config().block_size;
  h.block_count = out.blocks.size();
  h.created = options.created.empty() ? FormatTimeUtcMillis(created) : options.created;
  h.completed = FormatTimeUtc(std::chrono::system_clock::now());
  h.description = options.description;
  h.tags = options.tags;
  h.parent = parent;
  h.stats = out.stats;
  h.stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  manifest.blocks = std::move(out.blocks);
  RETURN_IF_ERROR_CTX(repo.SaveManifest(manifest), "saving snapshot " + h.id.str());

  if (Status s = lock->Release(); !s.ok()) {
    LogWarning("snapshot " + h.id.str() + " saved, but releasing the lock failed: " +
               s.ToString());
  }
  return BackupResult{manifest.header, out.bytes_unchanged};
}

}  // namespace cairn::repo
