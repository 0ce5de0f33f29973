// Volumes created from snapshots: the daemon's side of lazy hydration
// (volume/hydrator.h does the filling). See docs/volumes.md "Hydration".
//
// A volume made with `--snapshot-id` hydrates from a SnapshotBlockSource
// over the daemon's repository. Lazy volumes are `available` at once; eager
// ones stay `creating` until hydrated (EBS fast snapshot restore). One
// watcher thread per hydrating volume waits for the end and records it
// (catalog, event). A restart resumes hydrations left unfinished.
#include <fmt/format.h>

#include <chrono>

#include "core/units.h"
#include "service/daemon.h"
#include "service/snapshot_block_source.h"
#include "volume/hydrator.h"

namespace cairn::service {
namespace {

constexpr char kHydrating[] = "hydrating";
constexpr char kHydrated[] = "done";
constexpr char kHydrationFailed[] = "failed";

double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::string Rate(double bytes_per_sec) {
  return fmt::format("{:.1f} MiB/s", bytes_per_sec / (1 << 20));
}

}  // namespace

struct Daemon::Hydration {
  std::shared_ptr<volume::Volume> volume;  // outlives the hydrator
  std::shared_ptr<volume::BlockSource> source;
  std::shared_ptr<volume::Hydrator> hydrator;
  std::string origin;
  uint64_t done_at_start = 0;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::thread watcher;
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
  volume::HydratorOptions options;
  options.rate_bytes_per_sec = r.initialization_rate << 20;
  ASSIGN_OR_RETURN_CTX(std::shared_ptr<volume::Hydrator> h,
                       volume::Hydrator::Start(*vol, source, options),
                       fmt::format("hydrating {} from {}", r.id, r.origin_snapshot));
  const volume::Hydrator::Progress p = h->progress();
  r.hydration_total = p.total_bytes;
  r.hydration_done = p.done_bytes;
  r.hydration_error.clear();
  if (p.done) {
    r.hydration = kHydrated;
    return Status::OK();
  }
  r.hydration = kHydrating;
  auto hy = std::make_shared<Hydration>();
  hy->volume = vol;
  hy->source = std::move(source);
  hy->hydrator = h;
  hy->origin = r.origin_snapshot;
  hy->done_at_start = h->done_at_start();
  events_->Info(
      r.id,
      fmt::format(
          "hydration {} from {}: {} of {} to fetch{}{}", h->resumed() ? "resumed" : "started",
          r.origin_snapshot, FormatBytes(p.total_bytes - h->done_at_start()),
          FormatBytes(p.total_bytes),
          r.initialization_rate == 0 ? "" : fmt::format(" at {} MiB/s", r.initialization_rate),
          r.hydrate_mode == "eager" ? " (eager: available when done)" : ""));
  std::lock_guard lock(hydrations_mu_);
  hydrations_[r.id] = hy;
  hy->watcher = std::thread([this, id = r.id, hy] { WatchHydration(id, hy); });
  return Status::OK();
}

Status Daemon::ResumeHydration(VolumeRecord& r) {
  if (r.origin_snapshot.empty() || r.hydration == kHydrated) return Status::OK();
  auto resume = [&]() -> Status {
    ASSIGN_OR_RETURN(repo::SnapshotId id, repo::SnapshotId::Parse(r.origin_snapshot));
    RETURN_IF_ERROR(EnsureIndexLoaded());
    ASSIGN_OR_RETURN(auto source, SnapshotBlockSource::Open(*repo_, id));
    return StartHydration(r, std::move(source));
  };
  return resume().WithContext(
      fmt::format("resuming the hydration of {} from {} (restart the daemon once the repository is "
                  "reachable)",
                  r.id, r.origin_snapshot));
}

void Daemon::WatchHydration(std::string id, std::shared_ptr<Hydration> hy) {
  const Status s = hy->hydrator->WaitDone();
  if (s.code() == StatusCode::kAborted) return;  // stopped: shutdown or delete
  const volume::Hydrator::Progress p = hy->hydrator->progress();
  const double secs = SecondsSince(hy->started);
  const uint64_t fetched = p.done_bytes - std::min(p.done_bytes, hy->done_at_start);
  std::lock_guard lock(mu_);
  Result<VolumeRecord> got = catalog_->GetVolume(id);
  if (!got.ok()) return;  // deleted meanwhile
  VolumeRecord r = *std::move(got);
  r.hydration_done = p.done_bytes;
  Status recorded;
  if (s.ok()) {
    r.hydration = kHydrated;
    r.hydration_error.clear();
    events_->Info(id, fmt::format("hydration finished: {} fetched from {} in {:.1f} s ({})",
                                  FormatBytes(fetched), hy->origin, secs,
                                  Rate(secs > 0 ? static_cast<double>(fetched) / secs : 0)));
    recorded =
        r.state == kVolumeCreating ? SetState(r, kVolumeAvailable) : catalog_->UpdateVolume(r);
  } else {
    r.hydration = kHydrationFailed;
    r.hydration_error = s.message();
    events_->Warning(id, "hydration failed: " + s.message() +
                             " (reads of blocks not yet fetched fail; restart the daemon to "
                             "retry, or delete the volume)");
    recorded = r.state == kVolumeCreating
                   ? SetState(r, kVolumeError, "hydration failed: " + s.message())
                   : catalog_->UpdateVolume(r);
  }
  if (!recorded.ok()) events_->Warning(id, "recording the hydration: " + recorded.ToString());
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
  if (discard) {
    hy->hydrator->Abandon();
  } else if (Status s = hy->hydrator->Stop(); !s.ok()) {
    events_->Warning(id, "saving the hydration state: " + s.ToString());
  }
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
    if (auto r = catalog_->GetVolume(id); r.ok() && r->hydration == kHydrating) {
      r->hydration_done = hy->hydrator->progress().done_bytes;
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
    const volume::Hydrator::Progress p = hy->hydrator->progress();
    h.total_bytes = p.total_bytes;
    h.done_bytes = p.done_bytes;
    const double secs = SecondsSince(hy->started);
    const uint64_t fetched = p.done_bytes - std::min(p.done_bytes, hy->done_at_start);
    if (secs > 0) h.bytes_per_sec = static_cast<double>(fetched) / secs;
    if (p.done) h.state = kHydrated;
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
