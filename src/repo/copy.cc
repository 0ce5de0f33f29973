// CopySnapshots: lock both repositories, then per snapshot (oldest first)
// skip it if the destination has it, else move its chunks (fast or slow
// path) and commit the index object and the manifest, in that order.
#include "repo/copy.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_set>

#include "core/log.h"
#include "repo/backup_pipeline.h"
#include "repo/copy_sealed.h"
#include "repo/lock.h"
#include "repo/snapshot_source.h"

namespace cairn::repo {
namespace {

// Slow path: blocks fetched ahead of the pipeline's reader, by default on
// this many threads (a remote source answers each GET after a round trip).
constexpr size_t kDefaultReadaheadThreads = 4;

double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

struct Session {
  Repository& from;
  Repository& to;
  const CopyOptions& options;
  RepoLock& from_lock;
  RepoLock& to_lock;

  void Report(uint64_t bytes) const {
    if (options.progress != nullptr) options.progress->Add(bytes);
  }
};

Status LoadIndexFor(Repository& repo, std::string_view role) {
  ASSIGN_OR_RETURN_CTX(LoadedIndex loaded, repo.LoadIndex(),
                       fmt::format("loading the index of {} repository {}", role, repo.Describe()));
  for (const auto& [index_id, why] : loaded.damaged) {
    LogWarning(fmt::format("{} repository {}: index {} unreadable ({}); run `cairn repo check`",
                           role, repo.Describe(), index_id.ShortHex(), why.message()));
  }
  return Status::OK();
}

// The last step for one snapshot: the index object naming its packs, then
// its manifest — only if nothing asked to stop and both leases still hold.
Status Commit(const Session& s, const std::vector<IndexedPack>& packs, Manifest& manifest) {
  const std::string id = manifest.header.id.str();
  if (s.options.stop.stop_requested()) {
    return CancelledError("copy of snapshot " + id + " cancelled; it was not saved");
  }
  RETURN_IF_ERROR_CTX(s.from_lock.health(), "lost the lock on the source repository " +
                                                s.from.Describe() + "; " + id + " was not saved");
  RETURN_IF_ERROR_CTX(s.to_lock.health(), "lost the lock on the destination repository " +
                                              s.to.Describe() + "; " + id + " was not saved");
  RETURN_IF_ERROR(CommitPacks(s.to, packs));
  return s.to.SaveManifest(manifest);
}

uint64_t PackBytes(const std::vector<IndexedPack>& packs) {
  uint64_t n = 0;
  for (const IndexedPack& p : packs) n += p.size;
  return n;
}

Status CopyFast(const Session& s, Manifest m, SnapshotCopy& c) {
  c.fast = true;
  ASSIGN_OR_RETURN(SealedTransfer t, TransferSealedChunks(s.from, s.to, m, s.options));
  RETURN_IF_ERROR(Commit(s, t.packs, m));
  c.chunks_sent = t.chunks_sent;
  c.chunks_present = t.chunks_present;
  c.bytes_sent = t.bytes_sent;
  return Status::OK();
}

// Slow path helper: when the snapshot's parent is in both repositories with
// the snapshot's size, the parent's destination map, and in `changed` the
// byte ranges where the snapshot's blocks differ from the parent's in the
// source. nullopt otherwise (then every data block is read).
std::optional<Manifest> CopiedParent(const Session& s, const Manifest& m,
                                     std::vector<Extent>& changed) {
  const SnapshotHeader& h = m.header;
  if (!h.parent.has_value() || h.parent->empty()) return std::nullopt;
  Result<Manifest> in_to = s.to.LoadManifest(*h.parent);
  if (!in_to.ok()) return std::nullopt;  // not copied (yet): read everything
  Result<Manifest> in_from = s.from.LoadManifest(*h.parent);
  if (!in_from.ok()) {
    LogInfo("parent " + h.parent->str() + " unreadable in " + s.from.Describe() + " (" +
            in_from.status().message() + "); reading every block of " + h.id.str());
    return std::nullopt;
  }
  if (in_from->header.size != h.size || in_to->header.size != h.size ||
      in_from->blocks.size() != m.blocks.size()) {
    return std::nullopt;
  }
  for (uint64_t b = 0; b < m.blocks.size(); ++b) {
    if (m.blocks[b] == in_from->blocks[b]) continue;
    const uint64_t off = b * h.block_size;
    const uint64_t len = std::min<uint64_t>(h.block_size, h.size - off);
    if (!changed.empty() && changed.back().offset + changed.back().length == off) {
      changed.back().length += len;
    } else {
      changed.push_back(Extent{off, len});
    }
  }
  return std::move(*in_to);
}

Status CopySlow(const Session& s, Manifest m, SnapshotCopy& c) {
  BackupOptions bo;
  bo.threads = s.options.threads;
  bo.uploaders = s.options.uploaders;
  bo.progress = s.options.progress;
  bo.stop = s.options.stop;
  std::vector<Extent> changed;
  std::optional<Manifest> parent = CopiedParent(s, m, changed);
  if (parent.has_value()) bo.changed_only = std::move(changed);

  Manifest copy;
  copy.header = m.header;
  copy.header.block_size = s.to.config().block_size;
  SnapshotSourceOptions so;
  so.fetch_threads = s.options.readers ? s.options.readers : kDefaultReadaheadThreads;
  so.readahead = 4 * so.fetch_threads;
  SnapshotSource source(s.from, std::move(m), so);
  ASSIGN_OR_RETURN(PipelineOutput out,
                   RunBackupPipeline(s.to, source, bo, parent ? &parent->blocks : nullptr));
  copy.blocks = std::move(out.blocks);
  RETURN_IF_ERROR(Commit(s, out.packs, copy));

  std::unordered_set<ChunkId, DigestIdHash> distinct;
  for (const ChunkId& id : copy.blocks) {
    if (!id.IsZero()) distinct.insert(id);
  }
  c.chunks_sent = out.stats.chunks_new;
  c.chunks_present = distinct.size() - std::min<uint64_t>(distinct.size(), out.stats.chunks_new);
  c.bytes_sent = PackBytes(out.packs);
  c.bytes_read = out.stats.bytes_read;
  return Status::OK();
}

Result<SnapshotCopy> CopyOne(const Session& s, const SnapshotHeader& h, bool fast) {
  const auto started = std::chrono::steady_clock::now();
  SnapshotCopy c;
  c.id = h.id;
  c.size = h.size;
  Result<storage::ObjectInfo> there = s.to.backend().Stat(SnapshotKey(h.id));
  if (there.ok()) {
    c.skipped = true;
    s.Report(h.size);
    return c;
  }
  if (there.status().code() != StatusCode::kNotFound) {
    return there.status().WithContext("looking for snapshot " + h.id.str() + " in " +
                                      s.to.Describe());
  }
  ASSIGN_OR_RETURN(Manifest m, s.from.LoadManifest(h.id));
  RETURN_IF_ERROR(fast ? CopyFast(s, std::move(m), c) : CopySlow(s, std::move(m), c));
  c.seconds = SecondsSince(started);
  return c;
}

Result<std::vector<SnapshotHeader>> LoadHeaders(Repository& from,
                                                const std::vector<SnapshotId>& ids) {
  std::set<SnapshotId> unique(ids.begin(), ids.end());
  std::vector<SnapshotHeader> headers;
  for (const SnapshotId& id : unique) {
    ASSIGN_OR_RETURN(SnapshotHeader h, from.LoadSnapshotHeader(id));
    headers.push_back(std::move(h));
  }
  std::sort(headers.begin(), headers.end(), [](const SnapshotHeader& a, const SnapshotHeader& b) {
    return std::tie(a.created, a.id) < std::tie(b.created, b.id);
  });
  // Parents before their children even within one second (the resolution
  // of created times), so a child's copy can use its copied parent.
  std::map<SnapshotId, size_t> position;
  for (size_t i = 0; i < headers.size(); ++i) position[headers[i].id] = i;
  std::vector<SnapshotHeader> ordered;
  std::vector<bool> placed(headers.size(), false);
  std::function<void(size_t)> place = [&](size_t i) {
    if (placed[i]) return;
    placed[i] = true;
    const std::optional<SnapshotId>& parent = headers[i].parent;
    if (parent.has_value() && position.contains(*parent)) place(position[*parent]);
    ordered.push_back(headers[i]);
  };
  for (size_t i = 0; i < headers.size(); ++i) place(i);
  return ordered;
}

}  // namespace

bool SharesChunkIds(const Repository& a, const Repository& b) {
  if (a.config().block_size != b.config().block_size) return false;
  if (a.cipher().encrypted() != b.cipher().encrypted()) return false;
  return !a.cipher().encrypted() ||
         a.cipher().master_key().id_key == b.cipher().master_key().id_key;
}

Result<CopyResult> CopySnapshots(Repository& from, Repository& to,
                                 const std::vector<SnapshotId>& ids, const CopyOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  LockOptions lock_options;
  lock_options.operation = "snapshot copy";
  ASSIGN_OR_RETURN_CTX(std::unique_ptr<RepoLock> from_lock,
                       RepoLock::Acquire(from.backend(), lock_options),
                       "locking the source repository " + from.Describe());
  ASSIGN_OR_RETURN_CTX(std::unique_ptr<RepoLock> to_lock,
                       RepoLock::Acquire(to.backend(), lock_options),
                       "locking the destination repository " + to.Describe());
  // Indexes are read under the locks: no gc removes what they name meanwhile.
  RETURN_IF_ERROR(LoadIndexFor(from, "source"));
  RETURN_IF_ERROR(LoadIndexFor(to, "destination"));
  ASSIGN_OR_RETURN(std::vector<SnapshotHeader> headers, LoadHeaders(from, ids));

  const Session session{from, to, options, *from_lock, *to_lock};
  const bool fast = SharesChunkIds(from, to);
  CopyResult result;
  for (const SnapshotHeader& h : headers) {
    ASSIGN_OR_RETURN_CTX(SnapshotCopy c, CopyOne(session, h, fast),
                         fmt::format("copying snapshot {} from {} to {}", h.id.str(),
                                     from.Describe(), to.Describe()));
    (c.skipped ? result.skipped : result.copied) += 1;
    result.chunks_sent += c.chunks_sent;
    result.bytes_sent += c.bytes_sent;
    result.chunks_present += c.chunks_present;
    result.snapshots.push_back(std::move(c));
  }
  for (RepoLock* lock : {from_lock.get(), to_lock.get()}) {
    if (Status s = lock->Release(); !s.ok()) {
      LogWarning("copy done, but releasing a lock failed: " + s.ToString());
    }
  }
  result.seconds = SecondsSince(started);
  return result;
}

}  // namespace cairn::repo
