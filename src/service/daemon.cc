#include "service/daemon.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <set>

#include "core/crypto.h"
#include "core/log.h"
#include "core/units.h"
#include "service/api.h"
#include "volume/volume_type.h"

namespace cairn::service {
namespace {

constexpr char kAbandoned[] =
    "daemon stopped before the upload finished: take a new snapshot (nothing of this one was "
    "saved in the repository)";

// DIR/daemon.key: created once with 32 random bytes, mode 0600, synced.
Result<Buffer> LoadOrCreateDaemonKey(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno != ENOENT) return ErrnoToStatus(errno, "opening " + path);
  if (fd >= 0) {
    Buffer key(volume::kDaemonKeySize + 1);
    const ssize_t n = ::read(fd, key.data(), key.size());
    ::close(fd);
    if (n != static_cast<ssize_t>(volume::kDaemonKeySize)) {
      return CorruptionError(fmt::format(
          "daemon key {} has {} bytes, expected {}: restore it from a backup (encrypted volumes "
          "cannot be opened without it)",
          path, n, volume::kDaemonKeySize));
    }
    key.resize(volume::kDaemonKeySize);
    return key;
  }
  Buffer key(volume::kDaemonKeySize);
  RandomBytes(key);
  const std::string tmp = path + ".tmp";
  fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoToStatus(errno, "creating " + tmp);
  const bool ok =
      ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    return ErrnoToStatus(ok ? errno : err, "writing " + path);
  }
  return key;
}

std::string FromUnixNanos(int64_t nanos) {
  return FormatTimeUtc(std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(nanos))));
}

Result<volume::QosConfig> QosOf(const VolumeRecord& r) {
  volume::QosConfig q;
  ASSIGN_OR_RETURN(q.type, volume::ParseVolumeType(r.volume_type));
  q.iops = static_cast<uint32_t>(r.iops);
  q.throughput_mibps = static_cast<uint32_t>(r.throughput_mibps);
  return q;
}

}  // namespace

Daemon::Daemon(DaemonOptions options) : options_(std::move(options)) {
  api_socket_ = options_.api_socket.empty() ? options_.data_dir + "/api.sock" : options_.api_socket;
}

Daemon::~Daemon() { Shutdown(); }

std::string Daemon::VolumeDir(const std::string& id) const {
  return options_.data_dir + "/volumes/" + id;
}

Result<std::unique_ptr<Daemon>> Daemon::Start(const DaemonOptions& options,
                                              std::unique_ptr<repo::Repository> repo) {
  if (options.data_dir.empty()) {
    return InvalidArgumentError("--data-dir: a directory for the daemon's state is required");
  }
  std::unique_ptr<Daemon> d(new Daemon(options));
  RETURN_IF_ERROR(d->Open(std::move(repo)));
  return d;
}

Status Daemon::Open(std::unique_ptr<repo::Repository> repo) {
  const std::string& dir = options_.data_dir;
  ASSIGN_OR_RETURN(lock_, DataDirLock::Acquire(dir));
  ASSIGN_OR_RETURN(catalog_, Catalog::Open(dir + "/catalog.db"));
  events_ = std::make_unique<EventLog>(*catalog_, options_.event_retention);
  events_->StartPruning();  // once now, then hourly / every N inserts (event_log.h)
  repo_ = std::move(repo);
  ASSIGN_OR_RETURN(daemon_key_, LoadOrCreateDaemonKey(dir + "/daemon.key"));
  std::error_code ec;
  std::filesystem::create_directories(dir + "/volumes", ec);
  if (ec) return ErrnoToStatus(ec.value(), "creating " + dir + "/volumes");

  ASSIGN_OR_RETURN(auto running, catalog_->GetMeta("running"));
  const bool unclean = running.value_or("0") == "1";
  if (unclean) {
    events_->Warning("daemon",
                     "the last run did not stop cleanly (crash, kill -9 or power loss): what "
                     "volumes acknowledged as flushed is kept; changed-block tracking is not "
                     "trusted until the next snapshot of each volume");
  }
  RETURN_IF_ERROR(catalog_->SetMeta("running", "1"));
  RETURN_IF_ERROR(Recover());

  snapshotter_ = std::make_unique<Snapshotter>(*repo_, *catalog_, *events_);
  snapshotter_->Start();
  StartPolicies();

  if (!options_.nbd_listen.empty() || !options_.nbd_socket.empty()) {
    nbd::ServerOptions nbd_options;
    nbd_options.tcp_listen = options_.nbd_listen;
    nbd_options.unix_socket = options_.nbd_socket;
    ASSIGN_OR_RETURN_CTX(nbd_, nbd::Server::Start(nbd_options, volumes_),
                         "starting the NBD server (--nbd-listen / --nbd-socket)");
  }
  api_ = std::make_unique<ApiServer>(*this);
  RETURN_IF_ERROR_CTX(api_->Start(api_socket_), "starting the API (--api-socket)");
  events_->Info("daemon", fmt::format("serving {} (pid {}): API on {}, NBD on {}, repository {}",
                                      dir, ::getpid(), api_socket_,
                                      nbd_ ? nbd_->UriFor("VOLUME") : std::string("nothing"),
                                      options_.repository));
  return Status::OK();
}

Status Daemon::Recover() {
  // Uploads never survive the process (views are in memory).
  ASSIGN_OR_RETURN(auto pending, catalog_->ListSnapshots("", kSnapshotPending));
  for (auto& s : pending) {
    s.state = kSnapshotError;
    s.error = kAbandoned;
    s.completed = NowUtc();
    RETURN_IF_ERROR(catalog_->UpdateSnapshot(s));
    events_->State(s.id, std::string("error: ") + kAbandoned);
  }
  ASSIGN_OR_RETURN(auto records, catalog_->ListVolumes());
  for (auto& r : records) {
    if (r.state == kVolumeDeleting) {
      Status s = volume::Volume::Remove(VolumeDir(r.id));
      if (s.ok() || s.code() == StatusCode::kNotFound) {
        RETURN_IF_ERROR(catalog_->DeleteVolume(r.id));
        events_->State(r.id, "deleted (the deletion was interrupted by the last stop)");
      } else {
        RETURN_IF_ERROR(SetState(r, kVolumeError, "deleting: " + s.message()));
      }
      continue;
    }
    Status s = OpenVolume(r);
    if (!s.ok()) {
      RETURN_IF_ERROR(SetState(r, kVolumeError,
                               s.message() +
                                   " (delete it with `cairn volume "
                                   "delete " +
                                   r.id + "`)"));
    }
  }
  return Status::OK();
}

Status Daemon::OpenVolume(VolumeRecord& r) {
  volume::OpenOptions open;
  open.daemon_key = daemon_key_;
  ASSIGN_OR_RETURN(std::unique_ptr<volume::Volume> v, volume::Volume::Open(VolumeDir(r.id), open));
  const uint64_t size = v->Size();
  volumes_.Add(std::shared_ptr<volume::Volume>(std::move(v)));
  if (size != r.size) {  // a resize that was persisted by the volume, not yet here
    r.size = size;
  }
  // Likewise limits (volume modify writes volume.json before the catalog).
  const volume::QosConfig qos = volumes_.Get(r.id)->info().qos;
  r.volume_type = std::string(volume::VolumeTypeName(qos.type));
  r.iops = qos.iops;
  r.throughput_mibps = qos.throughput_mibps;
  RETURN_IF_ERROR(ResumeHydration(r));  // before any client I/O (daemon_hydrate.cc)
  volumes_.SetExported(r.id, !r.attached.empty());
  std::string want = r.attached.empty() ? kVolumeAvailable : kVolumeInUse;
  if (r.hydrate_mode == "eager" && r.hydration == "hydrating") want = kVolumeCreating;
  if (r.state != want || !r.error.empty()) return SetState(r, want);
  return catalog_->UpdateVolume(r);
}

Status Daemon::SetState(VolumeRecord& r, const std::string& state, const std::string& why) {
  r.state = state;
  r.error = state == kVolumeError ? why : "";
  RETURN_IF_ERROR(catalog_->UpdateVolume(r));
  events_->State(r.id, why.empty() ? state : state + ": " + why);
  return Status::OK();
}

void Daemon::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (api_) api_->Stop();
  if (policies_) policies_->Stop();  // cancels a run: before the uploads stop
  if (nbd_) nbd_->Stop();
  if (snapshotter_) snapshotter_->Stop(kAbandoned);
  if (catalog_) StopHydrations();  // saves hydration state before the volumes close
  for (const auto& v : volumes_.All()) {
    if (Status s = v->Close(); !s.ok() && events_) {
      events_->Warning(v->id().str(), "closing: " + s.ToString());
    }
    volumes_.Remove(v->id().str());
  }
  if (catalog_) {
    if (Status s = catalog_->SetMeta("running", "0"); !s.ok()) {
      LogWarning("recording the clean stop: " + s.ToString());
    }
    events_->Info("daemon", "stopped cleanly");
    events_->StopPruning();
  }
  lock_.reset();
}

std::string Daemon::NbdUri(const std::string& volume_id) const {
  return nbd_ ? nbd_->UriFor(volume_id) : "";
}

VolumeStatus Daemon::StatusOf(const VolumeRecord& r) {
  VolumeStatus st;
  st.record = r;
  if (volumes_.IsExported(r.id)) st.nbd_uri = NbdUri(r.id);
  if (nbd_) {
    for (const auto& c : nbd_->Connections()) {
      if (c.export_name == r.id && c.transmission) ++st.connections;
    }
  }
  if (auto q = QosOf(r); q.ok()) st.limits = volume::DescribeLimits(*q, r.size);
  if (snapshotter_) st.pending_snapshots = snapshotter_->PendingFor(r.id);
  FillHydration(st);
  return st;
}

Result<VolumeRecord> Daemon::UsableVolume(const std::string& id) {
  ASSIGN_OR_RETURN(VolumeRecord r, catalog_->GetVolume(id));
  if (r.state != kVolumeAvailable && r.state != kVolumeInUse) {
    return FailedPreconditionError(
        fmt::format("volume {} is {}{}{}", id, r.state, r.error.empty() ? "" : ": ", r.error));
  }
  if (volumes_.Get(id) == nullptr) {
    return InternalError("volume " + id + " is " + r.state + " in the catalog but not open");
  }
  return r;
}

Result<VolumeStatus> Daemon::CreateVolume(const CreateVolumeRequest& request) {
  CreateVolumeRequest req = request;
  // From a snapshot: default size, checks, the source (daemon_hydrate.cc).
  ASSIGN_OR_RETURN(std::shared_ptr<volume::BlockSource> origin, PrepareFromSnapshot(req));
  volume::QosConfig q;
  ASSIGN_OR_RETURN(q.type, volume::ParseVolumeType(req.volume_type));
  q.iops = req.iops;
  q.throughput_mibps = req.throughput;
  ASSIGN_OR_RETURN(q, volume::ValidateQos(q));
  if (req.size == 0 || req.size % volume::kSectorSize != 0) {
    return InvalidArgumentError(
        fmt::format("--size {}: a volume's size must be a positive multiple of 4 KiB "
                    "(e.g. 10G)",
                    req.size));
  }
  std::lock_guard lock(mu_);
  VolumeRecord r;
  const volume::VolumeId id = volume::VolumeId::Generate();
  r.id = id.str();
  r.size = req.size;
  r.volume_type = std::string(volume::VolumeTypeName(q.type));
  r.iops = q.iops;
  r.throughput_mibps = q.throughput_mibps;
  r.encrypted = req.encrypted;
  r.state = kVolumeCreating;
  r.created = NowUtc();
  r.tags = req.tags;
  if (origin) {
    // The first snapshot of the volume is incremental against its origin.
    r.origin_snapshot = r.last_snapshot = req.snapshot_id;
    r.hydrate_mode = req.hydrate;
    r.initialization_rate = req.initialization_rate;
    r.hydration = "hydrating";
  }
  RETURN_IF_ERROR(catalog_->InsertVolume(r));
  events_->State(
      r.id,
      fmt::format("creating ({}, {}{}{})", FormatBytes(r.size), volume::DescribeLimits(q, r.size),
                  r.encrypted ? ", encrypted" : "", origin ? ", from " + r.origin_snapshot : ""));
  volume::CreateOptions create;
  create.id = id;
  create.size = r.size;
  create.qos = q;
  create.encrypted = r.encrypted;
  volume::OpenOptions open;
  open.daemon_key = daemon_key_;
  auto v = volume::Volume::Create(VolumeDir(r.id), create, open);
  if (!v.ok()) {
    // Nothing usable was made: leave no trace but the event.
    volume::Volume::Remove(VolumeDir(r.id)).IgnoreError();
    catalog_->DeleteVolume(r.id).IgnoreError();
    events_->Warning(r.id, "creation failed: " + v.status().ToString());
    return v.status().WithContext("creating volume " + r.id);
  }
  volumes_.Add(std::shared_ptr<volume::Volume>(std::move(v).value()));
  if (origin) {
    if (Status hs = StartHydration(r, origin); !hs.ok()) {
      if (auto vol = volumes_.Remove(r.id)) vol->Close().IgnoreError();
      volume::Volume::Remove(VolumeDir(r.id)).IgnoreError();
      catalog_->DeleteVolume(r.id).IgnoreError();
      events_->Warning(r.id, "creation failed: " + hs.ToString());
      return hs.WithContext("creating volume " + r.id);
    }
    if (r.hydrate_mode == "eager" && r.hydration == "hydrating") {
      RETURN_IF_ERROR(catalog_->UpdateVolume(r));  // stays creating until hydrated
      return StatusOf(r);
    }
  }
  RETURN_IF_ERROR(SetState(r, kVolumeAvailable));
  return StatusOf(r);
}

Result<std::vector<VolumeStatus>> Daemon::ListVolumes() {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto records, catalog_->ListVolumes());
  std::vector<VolumeStatus> out;
  for (const auto& r : records) out.push_back(StatusOf(r));
  return out;
}

Result<VolumeStatus> Daemon::GetVolume(const std::string& id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(VolumeRecord r, catalog_->GetVolume(id));
  return StatusOf(r);
}

Status Daemon::DeleteVolume(const std::string& id, bool force) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(VolumeRecord r, catalog_->GetVolume(id));
  const auto pending = snapshotter_->PendingFor(id);
  if (!force && !r.attached.empty()) {
    return FailedPreconditionError(fmt::format(
        "volume {} is attached ({}): detach it first (`cairn volume detach {}`) or add --force", id,
        NbdUri(id), id));
  }
  if (!force && !pending.empty()) {
    return FailedPreconditionError(fmt::format(
        "snapshot {} of volume {} is still uploading: wait until it is completed (`cairn "
        "snapshot list`) or add --force (the upload is abandoned)",
        pending.front(), id));
  }
  RETURN_IF_ERROR(SetState(r, kVolumeDeleting));
  volumes_.SetExported(id, false);
  if (nbd_) nbd_->Disconnect(id);
  StopHydration(id, /*discard=*/true);  // before the volume closes
  if (auto v = volumes_.Remove(id)) {
    if (Status s = v->Close(); !s.ok()) events_->Warning(id, "closing: " + s.ToString());
  }
  Status removed = volume::Volume::Remove(VolumeDir(id));
  if (!removed.ok() && removed.code() != StatusCode::kNotFound) {
    RETURN_IF_ERROR(SetState(r, kVolumeError, removed.message()));
    return removed;
  }
  RETURN_IF_ERROR(catalog_->DeleteVolume(id));
  events_->State(id, "deleted");
  return Status::OK();
}

Result<VolumeStatus> Daemon::ResizeVolume(const std::string& id, uint64_t new_size) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(VolumeRecord r, UsableVolume(id));
  if (new_size < r.size) {
    return InvalidArgumentError(fmt::format("--size {}: volumes only grow; {} has {} ({} bytes)",
                                            new_size, id, FormatBytes(r.size), r.size));
  }
  if (new_size == r.size) return StatusOf(r);
  RETURN_IF_ERROR(volumes_.Get(id)->Resize(new_size));
  const uint64_t old_size = r.size;
  r.size = new_size;
  RETURN_IF_ERROR(catalog_->UpdateVolume(r));
  events_->Info(id, fmt::format("resized from {} to {} (NBD clients see it when they reconnect)",
                                FormatBytes(old_size), FormatBytes(new_size)));
  return StatusOf(r);
}

Result<VolumeStatus> Daemon::AttachVolume(const std::string& id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(VolumeRecord r, UsableVolume(id));
  if (!nbd_) {
    return FailedPreconditionError(
        "the daemon serves no NBD listener: restart `cairn serve` with --nbd-listen HOST:PORT "
        "or --nbd-socket PATH");
  }
  volumes_.SetExported(id, true);
  if (r.attached.empty()) {
    r.attached = NowUtc();
    RETURN_IF_ERROR(SetState(r, kVolumeInUse));
    events_->Info(id, "attached at " + NbdUri(id));
  }
  return StatusOf(r);
}

Result<VolumeStatus> Daemon::DetachVolume(const std::string& id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(VolumeRecord r, catalog_->GetVolume(id));
  if (r.attached.empty()) return StatusOf(r);
  volumes_.SetExported(id, false);
  const size_t ended = nbd_ ? nbd_->Disconnect(id) : 0;
  r.attached.clear();
  if (r.state == kVolumeInUse) {
    RETURN_IF_ERROR(SetState(r, kVolumeAvailable));
  } else {
    RETURN_IF_ERROR(catalog_->UpdateVolume(r));
  }
  events_->Info(id, fmt::format("detached ({} NBD session{} ended)", ended, ended == 1 ? "" : "s"));
  return StatusOf(r);
}

Result<std::vector<SnapshotRecord>> Daemon::CreateSnapshots(const CreateSnapshotsRequest& req) {
  if (req.volume_ids.empty()) {
    return InvalidArgumentError("snapshot create: name at least one volume (vol-…)");
  }
  std::lock_guard lock(mu_);
  std::set<std::string> seen;
  std::vector<std::shared_ptr<volume::Volume>> vols;
  std::vector<volume::Volume*> raw;
  for (const auto& id : req.volume_ids) {
    if (!seen.insert(id).second) {
      return InvalidArgumentError("volume " + id + " is named twice; name each volume once");
    }
    RETURN_IF_ERROR(UsableVolume(id).status());
    vols.push_back(volumes_.Get(id));
    raw.push_back(vols.back().get());
  }
  ASSIGN_OR_RETURN(auto views, volume::Volume::FreezeGroup(raw));
  const std::string created = FromUnixNanos(views.front()->frozen_unix_nanos());
  std::string group;
  if (views.size() > 1) {
    std::array<std::byte, 8> g{};
    RandomBytes(g);
    group = "grp-";
    for (std::byte b : g) group += fmt::format("{:02x}", static_cast<unsigned>(b));
  }
  std::vector<SnapshotRecord> records;
  for (size_t i = 0; i < views.size(); ++i) {
    SnapshotRecord s;
    s.id = repo::SnapshotId::Generate().str();
    s.volume_id = req.volume_ids[i];
    s.state = kSnapshotPending;
    s.created = created;
    s.description = req.description;
    s.tags = req.tags;
    s.group_id = group;
    s.size = views[i]->Size();
    s.bytes_total = s.size;
    records.push_back(std::move(s));
  }
  if (Status st = catalog_->InsertSnapshots(records); !st.ok()) {
    for (auto& v : views) v->Release(/*completed=*/false).IgnoreError();
    return st;
  }
  for (size_t i = 0; i < records.size(); ++i) {
    events_->State(records[i].id, fmt::format("pending: {} at {}{}", records[i].volume_id, created,
                                              group.empty() ? "" : " (group " + group + ")"));
    snapshotter_->Enqueue(records[i], views[i]);
  }
  return records;
}

Result<std::vector<SnapshotRecord>> Daemon::ListSnapshots(const std::string& volume_id,
                                                          const std::string& state) {
  ASSIGN_OR_RETURN(auto list, catalog_->ListSnapshots(volume_id, state));
  for (auto& s : list) {
    if (auto live = snapshotter_->LiveProgress(s.id)) {
      s.bytes_done = live->bytes_done;
      s.bytes_total = live->bytes_total;
    }
  }
  return list;
}

Result<SnapshotRecord> Daemon::GetSnapshot(const std::string& id) {
  ASSIGN_OR_RETURN(SnapshotRecord s, catalog_->GetSnapshot(id));
  if (auto live = snapshotter_->LiveProgress(s.id)) {
    s.bytes_done = live->bytes_done;
    s.bytes_total = live->bytes_total;
  }
  return s;
}

}  // namespace cairn::service
