// Daemon: `cairn serve`. Owns a data directory and everything in it, and
// wires the layers together: the catalog (what exists), the volume engine
// (the bytes), the NBD server (attached volumes, to clients), the
// repository (where snapshots go) and the local HTTP API (api.h) through
// which the `cairn volume …` and `cairn snapshot create vol-…` commands ask
// for changes.
//
// Data directory:
//   DIR/daemon.lock      flock()ed by the running daemon; holds its pid
//   DIR/catalog.db       the catalog (SQLite, WAL)
//   DIR/daemon.key       32 random bytes wrapping the volume keys (0600)
//   DIR/volumes/vol-…/   one volume each (volume/volume.h)
//   DIR/api.sock         the API socket (default place)
//
// Lifecycle:
//   Start: lock DIR ─> open catalog ─> fail snapshots left pending by the
//          last run ─> open every volume ─> NBD server ─> API server
//   Shutdown (SIGTERM): stop the API ─> stop NBD (in-flight requests are
//          answered) ─> abandon uploads (their snapshots become `error`)
//          ─> close volumes (flush, mark clean) ─> mark the stop clean.
//
// Thread-safety: the operation methods may be called from many threads (API
// handlers); changes to volumes and snapshots are serialized by one mutex,
// volume I/O is not (it goes straight from NBD to the volume).
#ifndef CAIRN_SERVICE_DAEMON_H_
#define CAIRN_SERVICE_DAEMON_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "fs/fsck.h"
#include "nbd/server.h"
#include "repo/lock.h"
#include "repo/repository.h"
#include "service/catalog.h"
#include "service/data_dir_lock.h"
#include "service/event_log.h"
#include "service/policy.h"
#include "service/policy_change.h"
#include "service/policy_scheduler.h"
#include "service/snapshotter.h"
#include "service/volume_registry.h"

namespace cairn::service {

class ApiServer;
class SnapshotBlockSource;

struct DaemonOptions {
  std::string data_dir;
  std::string api_socket;                      // empty: DIR/api.sock
  std::string nbd_listen = "127.0.0.1:10809";  // empty: no TCP listener
  std::string nbd_socket;                      // empty: no unix listener
  std::string repository;                      // for messages and GET /v1/daemon
  std::string version;
  // A failed lazy hydration is retried after this, then twice as long each
  // time, up to 5 min (daemon_hydrate.cc).
  int64_t hydration_retry_ms = 5000;
  // How long and how many events the catalog keeps (`serve --events-keep-days`,
  // `--events-keep`; event_log.h).
  EventRetention event_retention;
};

struct CreateVolumeRequest {
  uint64_t size = 0;
  std::string volume_type = "gp3";
  uint32_t iops = 0;        // 0: the type's default
  uint32_t throughput = 0;  // MiB/s; 0: the type's default
  bool encrypted = false;
  std::map<std::string, std::string> tags;
  // From a snapshot (daemon_hydrate.cc); size 0 then means the snapshot's.
  std::string snapshot_id;
  uint64_t initialization_rate = 0;  // MiB/s of background hydration; 0 = unlimited
  std::string hydrate = "lazy";      // "lazy": available at once; "eager": when hydrated
};

// Hydration of a volume made from a snapshot, live while it runs.
struct HydrationStatus {
  std::string state;  // "" (not from a snapshot), "hydrating", "done", "failed"
  uint64_t total_bytes = 0;
  uint64_t done_bytes = 0;
  double percent = 0;
  double bytes_per_sec = 0;  // measured since the daemon (re)started it
  double eta_seconds = -1;   // -1: unknown
  uint64_t rate_limit = 0;   // bytes/s; 0 = unlimited
  std::string error;
};

// A volume as the API shows it: the catalog row and its live state.
struct VolumeStatus {
  VolumeRecord record;
  std::string nbd_uri;     // set while attached
  size_t connections = 0;  // NBD sessions on it now
  std::string limits;      // "gp3, 3000 IOPS, 125 MiB/s"
  std::vector<std::string> pending_snapshots;
  HydrationStatus hydration;
};

// ModifyVolume (AWS modify-volume): what to change; unset fields keep the
// volume's value, except that a new type starts from its own defaults.
struct ModifyVolumeRequest {
  std::string volume_type;  // empty: keep the type
  uint32_t iops = 0;        // 0: keep (same type) or the new type's default
  uint32_t throughput = 0;  // MiB/s; 0: keep (same type) or the new type's default
};

struct CreateSnapshotsRequest {
  std::vector<std::string> volume_ids;  // one instant for all of them
  std::string description;
  std::map<std::string, std::string> tags;
};

// What `cairn volume check` reports (daemon_check.cc).
struct VolumeCheckResult {
  std::string volume_id;
  std::string state;  // of the volume when the check began (in-use: it may have changed meanwhile)
  uint64_t size = 0;
  fs::FsckVerdict verdict;
  double seconds = 0;
};

// A policy as the API shows it: the record and whether it runs now.
struct PolicyStatus {
  PolicyRecord record;
  bool running = false;
};

// What ModifyPolicy did (daemon_policy_modify.cc): the policy as it is now,
// and what changed in words ("schedule every 1h → every 30m; keep …").
struct PolicyModified {
  PolicyStatus policy;
  std::string changes;
};

// Opens a policy's copy target as a run does (daemon_policy.cc): its URL
// (S3 settings from the daemon's AWS_* environment) and the passphrase in
// its password file. Errors name the target.
Result<std::unique_ptr<repo::Repository>> OpenPolicyCopyTarget(const PolicyCopyTarget& t);

class Daemon {
 public:
  // Takes the data directory and starts serving. `repo` is open already.
  static Result<std::unique_ptr<Daemon>> Start(const DaemonOptions& options,
                                               std::unique_ptr<repo::Repository> repo);
  ~Daemon();  // Shutdown()s
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // The clean stop (see the top comment). Idempotent.
  void Shutdown();

  const DaemonOptions& options() const { return options_; }
  const std::string& api_socket() const { return api_socket_; }
  // Base NBD URI for an export name.
  std::string NbdUri(const std::string& volume_id) const;

  // Volumes. Errors name the volume and what to do: kNotFound (unknown id),
  // kInvalidArgument (size, type, limits), kFailedPrecondition (wrong state:
  // attached, deleting, error, a snapshot still uploading).
  Result<VolumeStatus> CreateVolume(const CreateVolumeRequest& request);
  Result<std::vector<VolumeStatus>> ListVolumes();
  Result<VolumeStatus> GetVolume(const std::string& id);
  // Refused while attached or while a snapshot of it is pending, unless
  // `force` (which detaches, disconnecting clients, and abandons the
  // uploads).
  Status DeleteVolume(const std::string& id, bool force);
  // Grows online; NBD clients see the new size when they reconnect.
  Result<VolumeStatus> ResizeVolume(const std::string& id, uint64_t new_size);
  // Changes type, IOPS and throughput at once (daemon_modify.cc): volume.json,
  // then the catalog, then an event; the new limits apply at once to the
  // volume's NBD sessions. kInvalidArgument as ValidateQos() (naming the
  // flag and the allowed range) or when nothing is asked for.
  Result<VolumeStatus> ModifyVolume(const std::string& id, const ModifyVolumeRequest& request);
  // Exports it over NBD (idempotent); the status carries the URI.
  Result<VolumeStatus> AttachVolume(const std::string& id);
  // Stops exporting it, ending its NBD sessions (idempotent).
  Result<VolumeStatus> DetachVolume(const std::string& id);

  // Snapshots: frozen at one instant, recorded `pending`, uploaded in the
  // background. Returns the pending records in request order.
  Result<std::vector<SnapshotRecord>> CreateSnapshots(const CreateSnapshotsRequest& request);
  // With live progress filled in for the one uploading.
  Result<std::vector<SnapshotRecord>> ListSnapshots(const std::string& volume_id,
                                                    const std::string& state);
  Result<SnapshotRecord> GetSnapshot(const std::string& id);
  // The events and where the log now begins (daemon_events.cc).
  Result<EventPage> ListEventPage(const EventFilter& filter);

  // e2fsck -fn on the volume's bytes through a private read-only NBD export
  // and nbdfuse (daemon_check.cc); the volume stays as it is (attached or
  // not). What e2fsck finds is the verdict; errors are about running it.
  Result<VolumeCheckResult> CheckVolume(const std::string& id);

  // Policies (daemon_policy.cc, service/policy.h). Create validates the
  // definition (kInvalidArgument naming the flag), that named volumes exist
  // (kNotFound) and that every copy target opens with its password file
  // (the error of opening it, naming the target). Delete keeps the
  // snapshots the policy made; a run in progress finishes. Run queues a run
  // now (after the one in progress, if any).
  Result<PolicyStatus> CreatePolicy(const PolicyDefinition& definition, bool enabled);
  Result<std::vector<PolicyStatus>> ListPolicies();
  Result<PolicyStatus> GetPolicy(const std::string& id);
  Status DeletePolicy(const std::string& id);
  Result<PolicyStatus> RunPolicy(const std::string& id);
  // Changing a policy (daemon_policy_modify.cc, service/policy_change.h).
  // Modify applies `change` to the stored definition in one atomic step:
  // kInvalidArgument naming the flag when the result does not validate (as
  // create), when `change` is empty or changes nothing; each new copy
  // target must open (the error names it). A new schedule sets next_run
  // from now; a run in progress finishes with the definition it started
  // with. Enable/disable are idempotent: disabled, no scheduled runs (a
  // requested run still runs); enabled, next_run from now (no catch-up of
  // the times missed). Events "policy modified: …", "policy disabled",
  // "policy enabled". kNotFound for an unknown policy.
  Result<PolicyModified> ModifyPolicy(const std::string& id, const PolicyChange& change);
  Result<PolicyStatus> SetPolicyEnabled(const std::string& id, bool enabled);

 private:
  explicit Daemon(DaemonOptions options);
  Status Open(std::unique_ptr<repo::Repository> repo);
  Status Recover();
  Status OpenVolume(VolumeRecord& record);
  VolumeStatus StatusOf(const VolumeRecord& record);
  Status SetState(VolumeRecord& record, const std::string& state, const std::string& why = "");
  std::string VolumeDir(const std::string& id) const;
  Result<VolumeRecord> UsableVolume(const std::string& id);  // REQUIRES: mu_ held

  // Volumes from snapshots (daemon_hydrate.cc).
  struct Hydration;
  // Checks the snapshot and the flags, fills the default size; opens the
  // source the volume will hydrate from.
  Result<std::shared_ptr<volume::BlockSource>> PrepareFromSnapshot(CreateVolumeRequest& req);
  // Starts (or resumes) hydrating the open volume `r` from `source`; sets
  // r's hydration fields and, for eager volumes, keeps r `creating`.
  // REQUIRES: mu_ held or Recover().
  Status StartHydration(VolumeRecord& r, std::shared_ptr<volume::BlockSource> source);
  // After a restart: reopens the origin snapshot and resumes.
  Status ResumeHydration(VolumeRecord& r);
  // The origin of a hydration begun before: live, or in the recycle bin
  // (deleted since; a warning event on `volume` says until when it stays).
  Result<std::shared_ptr<SnapshotBlockSource>> OpenOrigin(const std::string& volume,
                                                          const std::string& origin);
  void WatchHydration(std::string id, std::shared_ptr<Hydration> h);
  // Records a finished hydration, releases its lock and forgets it.
  void EndHydration(const std::string& id, const std::shared_ptr<Hydration>& h);
  // The shared repository lock a hydrating volume holds ("hydrate vol-…").
  Result<std::unique_ptr<repo::RepoLock>> LockForHydration(const VolumeRecord& r);
  // Starts a Hydrator for r in h (r's hydration fields set; a done one
  // installs nothing and releases `lock`).
  Status InstallHydrator(VolumeRecord& r, Hydration& h, std::shared_ptr<volume::BlockSource> source,
                         std::unique_ptr<repo::RepoLock> lock);
  // A retry of a resume that failed: reopens the origin, locks, installs.
  // kAborted when stopped or deleted meanwhile (or gc holds the lock).
  Status RestartHydration(const std::string& id, Hydration& h);
  // Stops one volume's hydration (saving its state unless `discard`).
  void StopHydration(const std::string& id, bool discard);
  void StopHydrations();  // Shutdown: stop all, save, join the watchers
  void FillHydration(VolumeStatus& status);
  Status EnsureIndexLoaded();
  // Never held while taking mu_.
  std::mutex hydrations_mu_;
  std::map<std::string, std::shared_ptr<Hydration>> hydrations_;  // guarded by hydrations_mu_
  std::vector<std::thread> ended_watchers_;                       // guarded by hydrations_mu_
  std::mutex index_mu_;
  bool index_loaded_ = false;  // guarded by index_mu_

  // Policies (daemon_policy.cc).
  void StartPolicies();  // in Open(), once snapshots can be taken
  // One run of `p`: snapshot its volumes at one instant, wait for the
  // uploads, apply its retention, copy what it keeps to each target and
  // apply the retention there. Never throws away a snapshot of this run.
  PolicyRun RunPolicyOnce(const PolicyRecord& p, uint64_t number, std::stop_token stop);

  const DaemonOptions options_;
  std::string api_socket_;
  std::unique_ptr<DataDirLock> lock_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<EventLog> events_;
  std::unique_ptr<repo::Repository> repo_;
  Buffer daemon_key_;
  VolumeRegistry volumes_;
  std::unique_ptr<Snapshotter> snapshotter_;
  std::unique_ptr<PolicyScheduler> policies_;
  std::unique_ptr<nbd::Server> nbd_;
  std::unique_ptr<ApiServer> api_;
  std::mutex mu_;  // serializes changes to volumes and snapshots
  bool shut_down_ = false;
};

}  // namespace cairn::service

#endif  // CAIRN_SERVICE_DAEMON_H_
