// Volumes created from snapshots: the daemon's side of lazy hydration
// (volume/hydrator.h does the filling). See docs/volumes.md "Hydration".
//
// A volume made with `--snapshot-id` hydrates from a SnapshotBlockSource
// over the daemon's repository. Lazy volumes are `available` at once; eager
// ones stay `creating` until hydrated (EBS fast snapshot restore). One
// watcher thread per hydrating volume waits for the end and records it
// (catalog, event). A restart resumes hydrations left unfinished.
//
// While a volume hydrates, the daemon holds a shared repository lock for it
// (operation "hydrate vol-…"; one lock per volume, so the holder named by a
// refused `cairn repo gc` is the volume itself): gc cannot collect the
// origin snapshot's chunks under it, even if the snapshot is deleted and
// expires from the recycle bin meanwhile. It is released when the volume
// is hydrated, deleted, or the daemon stops.
//
// A failed lazy hydration (S3 down, a damaged pack) is retried with backoff
// (DaemonOptions::hydration_retry_ms, doubling up to 5 min); the catalog
// says `failed` with the error while it waits, and reads of blocks not yet
// fetched fail meanwhile. A failed eager volume is `error` (its create is
// waiting for it): delete it and create it again.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <optional>

#include "core/units.h"
#include "repo/lock.h"
#include "service/daemon.h"
#include "service/local_only_filler.h"
#include "service/snapshot_block_source.h"
#include "volume/hydration_state.h"
#include "volume/hydrator.h"

namespace cairn::service {
namespace {

constexpr char kHydrating[] = "hydrating";
constexpr char kHydrated[] = "done";
constexpr char kHydrationFailed[] = "failed";
constexpr int64_t kMaxRetryMs = 5 * 60 * 1000;

// The wait before retry number `failures` (1-based): first, 2×first, … ≤ 5 min.
int64_t RetryDelayMs(int64_t first, int failures) {
  int64_t d = std::max<int64_t>(first, 1);
  for (int i = 1; i < failures && d < kMaxRetryMs; ++i) d *= 2;
  return std::min(d, kMaxRetryMs);
}

std::string Seconds(int64_t ms) {
  if (ms < 1000) return fmt::format("{} ms", ms);
  return ms % 1000 == 0 ? fmt::format("{} s", ms / 1000)
                        : fmt::format("{:.1f} s", static_cast<double>(ms) / 1000);
}

double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::string Rate(double bytes_per_sec) {
  return fmt::format("{:.1f} MiB/s", bytes_per_sec / (1 << 20));
}

// The errors worth retrying: the repository unreachable or locked (gc).
bool Transient(const Status& s) {
  switch (s.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kIoError:
    case StatusCode::kAborted:
    case StatusCode::kResourceExhausted:
      return true;
    default:
      return false;
  }
}

}  // namespace

struct Daemon::Hydration {
  std::shared_ptr<volume::Volume> volume;  // outlives the hydrator
  std::string origin;
  std::thread watcher;  // guarded by Daemon::hydrations_mu_

  std::mutex mu;
  std::condition_variable cv;  // wakes the watcher's wait between retries
  bool stopping = false;       // guarded by mu
  // Null while the hydration could not start (a failed resume).
  std::shared_ptr<volume::Hydrator> hydrator;    // guarded by mu
  std::shared_ptr<volume::BlockSource> source;   // guarded by mu
  std::unique_ptr<repo::RepoLock> lock;          // guarded by mu; shared, "hydrate vol-…"
  uint64_t done_at_start = 0;                    // guarded by mu
  std::chrono::steady_clock::time_point started;  // guarded by mu
  Status start_error;  // why it could not start (watcher thread only)

  std::shared_ptr<volume::Hydrator> Get() {
    std::lock_guard g(mu);
    return hydrator;
  }
  void ReleaseLock() {
    std::unique_ptr<repo::RepoLock> l;
    {
      std::lock_guard g(mu);
      l = std::move(lock);
    }
    if (l) l->Release().IgnoreError();  // a lock left behind expires by itself
  }
};

Status Daemon::EnsureIndexLoaded() {
  std::lock_guard lock(index_mu_);
  if (index_loaded_) return Status::OK();
  ASSIGN_OR_RETURN_CTX(auto loaded, repo_->LoadIndex(),
                       "loading the index of " + repo_->Describe());
  for (const auto& [index_id, why] : loaded.damaged) {
    events_->Warning("daemon", "index " + index_id.ShortHex() + " unreadable: " + why.message());
  }
  index_loaded_ = true;
  return Status::OK();
}

Result<std::shared_ptr<volume::BlockSource>> Daemon::PrepareFromSnapshot(CreateVolumeRequest& req) {
  if (req.hydrate.empty()) req.hydrate = "lazy";
  if (req.snapshot_id.empty()) {
    if (req.initialization_rate != 0 || req.hydrate != "lazy") {
      return InvalidArgumentError(
          "--initialization-rate and --hydrate apply only to a volume made from a snapshot: add "
          "--snapshot-id snap-…");
    }
    return std::shared_ptr<volume::BlockSource>();
  }
  if (req.hydrate != "lazy" && req.hydrate != "eager") {
    return InvalidArgumentError(
        fmt::format("--hydrate {}: use lazy (available at once) or eager (available when fully "
                    "hydrated)",
                    req.hydrate));
  }
  ASSIGN_OR_RETURN_CTX(repo::SnapshotId id, repo::SnapshotId::Parse(req.snapshot_id),
                       "--snapshot-id");
  RETURN_IF_ERROR(EnsureIndexLoaded());
  ASSIGN_OR_RETURN(auto source, SnapshotBlockSource::Open(*repo_, id));
  const uint64_t snap = source->Size();
  if (req.size == 0) {
    req.size = (snap + volume::kSectorSize - 1) / volume::kSectorSize * volume::kSectorSize;
    if (req.size == 0) req.size = volume::kSectorSize;
  } else if (req.size < snap) {
    return InvalidArgumentError(fmt::format(
        "--size {} is smaller than snapshot {} ({}, {} bytes): leave --size out to use the "
        "snapshot's size, or give at least that",
        req.size, req.snapshot_id, FormatBytes(snap), snap));
  }
  return std::shared_ptr<volume::BlockSource>(std::move(source));
}

Status Daemon::StartHydration(VolumeRecord& r, std::shared_ptr<volume::BlockSource> source) {
  std::shared_ptr<volume::Volume> vol = volumes_.Get(r.id);
  if (vol == nullptr) return InternalError("volume " + r.id + " is not open");
  // Under the lock before any chunk is read: gc cannot take the source away.
  ASSIGN_OR_RETURN(std::unique_ptr<repo::RepoLock> repo_lock, LockForHydration(r));
  auto hy = std::make_shared<Hydration>();
  hy->volume = vol;
  hy->origin = r.origin_snapshot;
  RETURN_IF_ERROR(InstallHydrator(r, *hy, std::move(source), std::move(repo_lock)));
  if (r.hydration == kHydrated) return Status::OK();
  std::lock_guard lock(hydrations_mu_);
  hydrations_[r.id] = hy;
  hy->watcher = std::thread([this, id = r.id, hy] { WatchHydration(id, hy); });
  return Status::OK();
}

Result<std::unique_ptr<repo::RepoLock>> Daemon::LockForHydration(const VolumeRecord& r) {
  repo::LockOptions lock_options;
  lock_options.operation = "hydrate " + r.id;
  ASSIGN_OR_RETURN_CTX(std::unique_ptr<repo::RepoLock> lock,
                       repo::RepoLock::Acquire(repo_->backend(), lock_options),
                       fmt::format("hydrating {} from {}", r.id, r.origin_snapshot));
  return lock;
}

Status Daemon::InstallHydrator(VolumeRecord& r, Hydration& hy,
                               std::shared_ptr<volume::BlockSource> source,
                               std::unique_ptr<repo::RepoLock> lock) {
  volume::HydratorOptions options;
  options.rate_bytes_per_sec = r.initialization_rate << 20;
  Result<std::shared_ptr<volume::Hydrator>> started =
      volume::Hydrator::Start(*hy.volume, source, options);
  if (!started.ok()) {
    lock->Release().IgnoreError();
    return started.status().WithContext(
        fmt::format("hydrating {} from {}", r.id, r.origin_snapshot));
  }
  std::shared_ptr<volume::Hydrator> h = *std::move(started);
  const volume::Hydrator::Progress p = h->progress();
  r.hydration_total = p.total_bytes;
  r.hydration_done = p.done_bytes;
  r.hydration_error.clear();
  if (p.done) {
    // Nothing to do (a state saved `done` whose catalog row was not
    // updated): a filler set while it could not start goes too.
    hy.volume->SetFiller(nullptr);
    r.hydration = kHydrated;
    lock->Release().IgnoreError();
    return Status::OK();
  }
  r.hydration = kHydrating;
  {
    std::lock_guard g(hy.mu);
    hy.hydrator = h;
    hy.source = std::move(source);
    hy.lock = std::move(lock);
    hy.done_at_start = h->done_at_start();
    hy.started = std::chrono::steady_clock::now();
  }
  events_->Info(
      r.id,
      fmt::format(
          "hydration {} from {}: {} of {} to fetch{}{}", h->resumed() ? "resumed" : "started",
          r.origin_snapshot, FormatBytes(p.total_bytes - h->done_at_start()),
          FormatBytes(p.total_bytes),
          r.initialization_rate == 0 ? "" : fmt::format(" at {} MiB/s", r.initialization_rate),
          r.hydrate_mode == "eager" ? " (eager: available when done)" : ""));
  return Status::OK();
}

Status Daemon::ResumeHydration(VolumeRecord& r) {
  if (r.origin_snapshot.empty() || r.hydration == kHydrated) return Status::OK();
  auto resume = [&]() -> Status {
    RETURN_IF_ERROR(EnsureIndexLoaded());
    ASSIGN_OR_RETURN(auto source, OpenOrigin(r.id, r.origin_snapshot));
    return StartHydration(r, std::move(source));
  };
  const Status s = resume();
  if (s.ok()) return s;
  if (!Transient(s) || r.hydrate_mode == "eager") {
    return s.WithContext(fmt::format("resuming the hydration of {} from {}", r.id,
                                     r.origin_snapshot));
  }
  // The repository is unreachable or locked now: serve the volume (its
  // local blocks; the others fail naming why) and let the watcher retry.
  std::shared_ptr<volume::Volume> vol = volumes_.Get(r.id);
  if (vol == nullptr) return InternalError("volume " + r.id + " is not open");
  // The blocks already local stay readable and writable meanwhile.
  Result<std::optional<volume::HydrationState>> saved = volume::HydrationState::Load(
      vol->dir() + "/" + std::string(volume::kHydrationFile));
  if (!saved.ok()) events_->Warning(r.id, "reading its hydration state: " + saved.status().ToString());
  vol->SetFiller(std::make_shared<LocalOnlyFiller>(
      r.id, r.origin_snapshot,
      saved.ok() ? *std::move(saved) : std::optional<volume::HydrationState>()));
  r.hydration = kHydrationFailed;
  r.hydration_error = "could not resume: " + s.message();
  auto hy = std::make_shared<Hydration>();
  hy->volume = vol;
  hy->origin = r.origin_snapshot;
  hy->start_error = Status(s.code(), r.hydration_error);
  std::lock_guard lock(hydrations_mu_);
  hydrations_[r.id] = hy;
  hy->watcher = std::thread([this, id = r.id, hy] { WatchHydration(id, hy); });
  return Status::OK();
}

Result<std::shared_ptr<SnapshotBlockSource>> Daemon::OpenOrigin(const std::string& volume,
                                                                const std::string& origin) {
  ASSIGN_OR_RETURN(repo::SnapshotId id, repo::SnapshotId::Parse(origin));
  SnapshotBlockSourceOptions options;
  options.from_recycle_bin = true;
  ASSIGN_OR_RETURN(auto source, SnapshotBlockSource::Open(*repo_, id, options));
  if (const auto& bin = source->recycled()) {
    events_->Warning(volume, fmt::format("origin snapshot {} is in the recycle bin (deleted {}, kept "
                                         "until {}): hydration goes on from it; let it finish "
                                         "before then, or `cairn snapshot undelete {}`",
                                         origin, bin->deleted, bin->expires, origin));
  }
  return source;
}

Status Daemon::RestartHydration(const std::string& id, Hydration& hy) {
  // The network first, without mu_ (S3 may be slow to answer, or not at all).
  VolumeRecord probe;
  probe.id = id;
  probe.origin_snapshot = hy.origin;
  RETURN_IF_ERROR(EnsureIndexLoaded());
  ASSIGN_OR_RETURN(std::unique_ptr<repo::RepoLock> lock, LockForHydration(probe));
  Result<std::shared_ptr<SnapshotBlockSource>> source = OpenOrigin(id, hy.origin);
  if (!source.ok()) {
    lock->Release().IgnoreError();
    return source.status();
  }
  // Then under mu_, so a delete cannot run in between.
  std::lock_guard lock_mu(mu_);
  Result<VolumeRecord> got = catalog_->GetVolume(id);
  {
    std::lock_guard g(hy.mu);
    if (hy.stopping || !got.ok()) {
      lock->Release().IgnoreError();
      return AbortedError("hydration of " + id + " stopped");
    }
  }
  VolumeRecord r = *std::move(got);
  RETURN_IF_ERROR(InstallHydrator(r, hy, *std::move(source), std::move(lock)));
  bool stopping = false;
  {
    std::lock_guard g(hy.mu);
    stopping = hy.stopping;
  }
  if (stopping) {  // a shutdown began meanwhile (it does not take mu_)
    if (auto h = hy.Get()) h->Stop().IgnoreError();
    hy.ReleaseLock();
    return AbortedError("hydration of " + id + " stopped");
  }
  if (Status u = catalog_->UpdateVolume(r); !u.ok()) {
    events_->Warning(id, "recording the hydration: " + u.ToString());
  }
  return Status::OK();
}

void Daemon::WatchHydration(std::string id, std::shared_ptr<Hydration> hy) {
  for (int failures = 1;; ++failures) {
    std::shared_ptr<volume::Hydrator> h = hy->Get();
    Status s = hy->start_error;
    if (h) {
      s = h->WaitDone();
      if (s.code() == StatusCode::kAborted) return;  // stopped: shutdown or delete
      if (s.ok()) {
        EndHydration(id, hy);
        return;
      }
    } else if (s.ok()) {  // InstallHydrator found it done
      EndHydration(id, hy);
      return;
    }
    const int64_t delay = RetryDelayMs(options_.hydration_retry_ms, failures);
    {
      std::lock_guard lock(mu_);
      Result<VolumeRecord> got = catalog_->GetVolume(id);
      if (!got.ok()) return;  // deleted meanwhile
      VolumeRecord r = *std::move(got);
      r.hydration = kHydrationFailed;
      r.hydration_error = s.message();
      if (h) r.hydration_done = h->progress().done_bytes;
      Status recorded;
      if (r.state == kVolumeCreating) {  // eager: its create is waiting; no retry
        events_->Warning(id, "hydration failed: " + s.message() + " (delete the volume)");
        recorded = SetState(r, kVolumeError, "hydration failed: " + s.message());
      } else {
        events_->Warning(
            id, fmt::format("hydration failed (attempt {}): {}; next attempt in {} (reads of "
                            "blocks not yet fetched fail until then)",
                            failures, s.message(), Seconds(delay)));
        recorded = catalog_->UpdateVolume(r);
      }
      if (!recorded.ok()) events_->Warning(id, "recording the hydration: " + recorded.ToString());
      if (r.state == kVolumeError) {
        hy->ReleaseLock();
        return;
      }
    }
    {
      std::unique_lock lock(hy->mu);
      if (hy->cv.wait_for(lock, std::chrono::milliseconds(delay), [&] { return hy->stopping; })) {
        return;
      }
    }
    {
      std::lock_guard lock(mu_);
      Result<VolumeRecord> got = catalog_->GetVolume(id);
      if (!got.ok()) return;
      VolumeRecord r = *std::move(got);
      r.hydration = kHydrating;
      r.hydration_error.clear();
      if (Status u = catalog_->UpdateVolume(r); !u.ok()) {
        events_->Warning(id, "recording the hydration: " + u.ToString());
      }
      events_->Info(id, fmt::format("hydration retrying (attempt {}) from {}", failures + 1,
                                    hy->origin));
    }
    if (h) {
      if (h->Retry().code() == StatusCode::kAborted) return;
      continue;
    }
    hy->start_error = RestartHydration(id, *hy);
    if (hy->start_error.code() == StatusCode::kAborted && hy->Get() == nullptr) {
      bool stopping = false;
      {
        std::lock_guard g(hy->mu);
        stopping = hy->stopping;
      }
      if (stopping) return;
    }
  }
}

void Daemon::EndHydration(const std::string& id, const std::shared_ptr<Hydration>& hy) {
  volume::Hydrator::Progress p;
  double secs = 0;
  uint64_t fetched = 0;
  {
    std::lock_guard g(hy->mu);
    if (hy->hydrator) {
      p = hy->hydrator->progress();
      secs = SecondsSince(hy->started);
      fetched = p.done_bytes - std::min(p.done_bytes, hy->done_at_start);
    }
  }
  // The lock first: whoever sees `done` (and an eager volume `available`)
  // may run gc at once.
  hy->ReleaseLock();
  {
    std::lock_guard lock(mu_);
    Result<VolumeRecord> got = catalog_->GetVolume(id);
    if (!got.ok()) return;  // deleted meanwhile
    VolumeRecord r = *std::move(got);
    if (p.total_bytes != 0) r.hydration_done = p.done_bytes;
    r.hydration = kHydrated;
    r.hydration_error.clear();
    events_->Info(id, fmt::format("hydration finished: {} fetched from {} in {:.1f} s ({})",
                                  FormatBytes(fetched), hy->origin, secs,
                                  Rate(secs > 0 ? static_cast<double>(fetched) / secs : 0)));
    const Status recorded =
        r.state == kVolumeCreating ? SetState(r, kVolumeAvailable) : catalog_->UpdateVolume(r);
    if (!recorded.ok()) events_->Warning(id, "recording the hydration: " + recorded.ToString());
  }
  // Done: the hydrator has uninstalled itself and dropped its source; forget
  // it (this thread is joined at shutdown).
  std::lock_guard lock(hydrations_mu_);
  auto it = hydrations_.find(id);
  if (it != hydrations_.end() && it->second == hy) {
    hydrations_.erase(it);
    ended_watchers_.push_back(std::move(hy->watcher));
  }
}

void Daemon::StopHydration(const std::string& id, bool discard) {
  std::shared_ptr<Hydration> hy;
  {
    std::lock_guard lock(hydrations_mu_);
    auto it = hydrations_.find(id);
    if (it == hydrations_.end()) return;
    hy = it->second;
    hydrations_.erase(it);
  }
  std::shared_ptr<volume::Hydrator> h;
  {
    std::lock_guard lock(hy->mu);
    hy->stopping = true;
    hy->cv.notify_all();
    h = hy->hydrator;
  }
  if (h == nullptr) {
    // Never started (a resume that keeps failing): nothing to save.
  } else if (discard) {
    h->Abandon();
  } else if (Status s = h->Stop(); !s.ok()) {
    events_->Warning(id, "saving the hydration state: " + s.ToString());
  }
  hy->ReleaseLock();
  std::lock_guard lock(hydrations_mu_);
  ended_watchers_.push_back(std::move(hy->watcher));
}

void Daemon::StopHydrations() {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(hydrations_mu_);
    for (const auto& [id, hy] : hydrations_) ids.push_back(id);
  }
  for (const auto& id : ids) {
    std::shared_ptr<Hydration> hy;
    {
      std::lock_guard lock(hydrations_mu_);
      auto it = hydrations_.find(id);
      if (it == hydrations_.end()) continue;
      hy = it->second;
    }
    StopHydration(id, /*discard=*/false);
    // Record how far it got, for `volume show` while the daemon is down.
    std::lock_guard lock(mu_);
    std::shared_ptr<volume::Hydrator> h = hy->Get();
    if (auto r = catalog_->GetVolume(id); h && r.ok() && r->hydration == kHydrating) {
      r->hydration_done = h->progress().done_bytes;
      catalog_->UpdateVolume(*r).IgnoreError();
    }
  }
  std::vector<std::thread> watchers;
  {
    std::lock_guard lock(hydrations_mu_);
    watchers.swap(ended_watchers_);
  }
  for (auto& t : watchers) {
    if (t.joinable()) t.join();
  }
}

void Daemon::FillHydration(VolumeStatus& st) {
  const VolumeRecord& r = st.record;
  if (r.origin_snapshot.empty()) return;
  HydrationStatus& h = st.hydration;
  h.state = r.hydration;
  h.total_bytes = r.hydration_total;
  h.done_bytes = r.hydration_done;
  h.error = r.hydration_error;
  h.rate_limit = r.initialization_rate << 20;
  std::shared_ptr<Hydration> hy;
  {
    std::lock_guard lock(hydrations_mu_);
    if (auto it = hydrations_.find(r.id); it != hydrations_.end()) hy = it->second;
  }
  if (hy && r.hydration == kHydrating) {
    std::lock_guard g(hy->mu);
    if (hy->hydrator) {
      const volume::Hydrator::Progress p = hy->hydrator->progress();
      h.total_bytes = p.total_bytes;
      h.done_bytes = p.done_bytes;
      const double secs = SecondsSince(hy->started);
      const uint64_t fetched = p.done_bytes - std::min(p.done_bytes, hy->done_at_start);
      if (secs > 0) h.bytes_per_sec = static_cast<double>(fetched) / secs;
      // `done` only once the watcher recorded it (lock released, an eager
      // volume `available`): until then 100 % hydrating.
    }
  }
  h.percent = h.total_bytes == 0
                  ? 100.0
                  : 100.0 * static_cast<double>(h.done_bytes) / static_cast<double>(h.total_bytes);
  if (h.state == kHydrated) {
    h.percent = 100.0;
    h.done_bytes = h.total_bytes;
    h.eta_seconds = 0;
  } else if (h.state == kHydrating && h.bytes_per_sec > 0) {
    h.eta_seconds = static_cast<double>(h.total_bytes - h.done_bytes) / h.bytes_per_sec;
  }
}

}  // namespace cairn::service
