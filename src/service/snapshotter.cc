#include "service/snapshotter.h"

#include <fmt/format.h>

#include "core/log.h"
#include "core/units.h"
#include "repo/backup.h"
#include "service/device_source.h"

namespace cairn::service {

Snapshotter::Snapshotter(repo::Repository& repo, Catalog& catalog, EventLog& events)
    : repo_(repo), catalog_(catalog), events_(events) {}

Snapshotter::~Snapshotter() {
  Stop("daemon stopped before the upload finished: take a new snapshot");
}

void Snapshotter::Start() {
  thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
}

void Snapshotter::Enqueue(const SnapshotRecord& record, std::shared_ptr<volume::VolumeView> view) {
  Job job{record, std::move(view)};
  {
    std::lock_guard lock(mu_);
    if (!stopped_) {
      queue_.push_back(std::move(job));
      cv_.notify_all();
      return;
    }
  }
  Fail(job, "daemon is stopping: take the snapshot again after it restarts");
}

std::optional<Snapshotter::Live> Snapshotter::LiveProgress(const std::string& snapshot_id) const {
  std::lock_guard lock(mu_);
  if (running_id_ != snapshot_id || running_progress_ == nullptr) return std::nullopt;
  return Live{running_progress_->done(), running_total_};
}

std::vector<std::string> Snapshotter::PendingFor(const std::string& volume_id) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  if (!running_id_.empty() && running_volume_ == volume_id) out.push_back(running_id_);
  for (const auto& job : queue_) {
    if (job.record.volume_id == volume_id) out.push_back(job.record.id);
  }
  return out;
}

void Snapshotter::Stop(const std::string& reason) {
  {
    std::lock_guard lock(mu_);
    if (!stopped_) {
      stopped_ = true;
      stop_reason_ = reason;
    }
  }
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
  std::deque<Job> left;
  {
    std::lock_guard lock(mu_);
    left.swap(queue_);
  }
  for (auto& job : left) Fail(job, reason);
}

void Snapshotter::Run(std::stop_token stop) {
  while (true) {
    Job job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, stop, [this] { return !queue_.empty(); });
      if (stop.stop_requested()) return;  // Stop() fails what is queued
      job = std::move(queue_.front());
      queue_.pop_front();
      running_id_ = job.record.id;
      running_volume_ = job.record.volume_id;
    }
    Upload(job, stop);
    std::lock_guard lock(mu_);
    running_id_.clear();
    running_volume_.clear();
    running_progress_.reset();
    running_total_ = 0;
  }
}

void Snapshotter::Fail(Job& job, const std::string& reason) {
  SnapshotRecord& r = job.record;
  if (job.view != nullptr) job.view->Release(/*completed=*/false).IgnoreError();
  r.state = kSnapshotError;
  r.error = reason;
  r.completed = NowUtc();
  if (Status s = catalog_.UpdateSnapshot(r); !s.ok()) {
    LogWarning("snapshot " + r.id + ": recording its failure: " + s.ToString());
  }
  events_.State(r.id, "error: " + reason);
}

void Snapshotter::Upload(Job& job, std::stop_token stop) {
  SnapshotRecord& r = job.record;
  volume::VolumeView& view = *job.view;

  // The parent is the volume's last completed snapshot: the one the
  // changed-block bitmap is relative to.
  std::string parent;
  if (auto v = catalog_.GetVolume(r.volume_id); v.ok()) parent = v->last_snapshot;
  std::optional<std::vector<repo::Extent>> changed;
  std::string reason;
  uint64_t changed_bytes = 0;
  if (parent.empty()) {
    reason = "first snapshot of " + r.volume_id;
  } else {
    auto parent_id = repo::SnapshotId::Parse(parent);
    Result<repo::SnapshotHeader> header = parent_id.ok()
                                              ? repo_.LoadSnapshotHeader(*parent_id)
                                              : Result<repo::SnapshotHeader>(parent_id.status());
    if (!header.ok()) {
      reason = fmt::format("parent {} cannot be read from the repository ({})", parent,
                           header.status().message());
      parent.clear();
    } else if (header->size != view.Size()) {
      reason = fmt::format("{} was resized since its parent {} ({} to {} bytes)", r.volume_id,
                           parent, header->size, view.Size());
    } else if (header->block_size != repo_.config().block_size) {
      reason = fmt::format("parent {} has another block size", parent);
    } else if (auto ch = view.Changed(); !ch.ok()) {
      reason = "changed blocks unavailable: " + ch.status().message();
    } else if (!ch->known) {
      reason = ch->unknown_reason.empty() ? "changed blocks unknown" : ch->unknown_reason;
    } else {
      changed.emplace();
      for (const auto& range : ch->ranges) changed->push_back({range.offset, range.length});
      changed_bytes = ch->changed_bytes();
    }
  }
  r.parent = parent;
  r.read_mode = changed ? "changed" : "full";
  r.read_reason = changed ? "" : reason;
  r.bytes_total = view.Size();  // the pipeline reports every block, read or not
  if (Status s = catalog_.UpdateSnapshot(r); !s.ok()) {
    LogWarning("snapshot " + r.id + ": recording its progress: " + s.ToString());
  }
  events_.State(r.id, changed ? fmt::format("uploading {} of {}: changed blocks only, {} since {}",
                                            FormatBytes(view.Size()), r.volume_id,
                                            FormatBytes(changed_bytes), parent)
                              : fmt::format("uploading {} of {}: reading everything ({})",
                                            FormatBytes(view.Size()), r.volume_id, reason));

  auto progress = std::make_shared<Progress>(Progress::Mode::kNone, "snapshot", r.bytes_total);
  {
    std::lock_guard lock(mu_);
    running_progress_ = progress;
    running_total_ = r.bytes_total;
  }
  repo::BackupOptions options;
  auto id = repo::SnapshotId::Parse(r.id);
  if (!id.ok()) return Fail(job, id.status().message());
  options.snapshot_id = *id;
  options.created = r.created;
  options.description = r.description;
  options.tags = r.tags;
  options.parent = repo::SnapshotId();  // none, unless:
  if (!parent.empty()) options.parent = repo::SnapshotId::Parse(parent).value_or({});
  options.changed_only = changed;
  options.progress = progress.get();
  options.stop = stop;
  DeviceSource source(job.view, r.volume_id);
  auto result = repo::CreateSnapshot(repo_, source, options);
  progress->Finish();
  if (!result.ok()) {
    std::string why = result.status().code() == StatusCode::kCancelled
                          ? [this] {
                              std::lock_guard lock(mu_);
                              return stop_reason_;
                            }()
                          : "upload failed: " + result.status().ToString();
    return Fail(job, why);
  }

  const repo::SnapshotHeader& h = result->snapshot;
  r.state = kSnapshotCompleted;
  r.completed = h.completed;
  r.bytes_done = r.bytes_total;
  r.bytes_read = h.stats.bytes_read;
  r.bytes_new = h.stats.bytes_new;
  r.bytes_stored = h.stats.bytes_stored;
  r.error.clear();
  if (Status s = catalog_.UpdateSnapshot(r); !s.ok()) {
    LogWarning("snapshot " + r.id +
               " is in the repository, but recording it failed: " + s.ToString());
  }
  // Only now may the bitmap forget the blocks this snapshot holds.
  if (Status s = catalog_.SetLastSnapshot(r.volume_id, r.id);
      !s.ok() && s.code() != StatusCode::kNotFound) {
    LogWarning("volume " + r.volume_id + ": recording its last snapshot: " + s.ToString());
    job.view->Release(/*completed=*/false).IgnoreError();
  } else {
    job.view->Release(/*completed=*/true).IgnoreError();
  }
  events_.State(r.id, fmt::format("completed: {} read, {} new, {} stored in {:.1f} s",
                                  FormatBytes(h.stats.bytes_read), FormatBytes(h.stats.bytes_new),
                                  FormatBytes(h.stats.bytes_stored), h.stats.seconds));
}

}  // namespace cairn::service
