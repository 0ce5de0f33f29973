// Catalog: the daemon's persistent record of volumes, snapshots it took
// (pending, completed or failed) and events, in SQLite (DIR/catalog.db, WAL,
// synchronous=FULL: a call that returned OK survives a crash).
//
// The catalog is metadata only. Volume data lives in the volume engine's
// files; a completed snapshot's data and manifest live in the repository,
// which stays the authority for completed snapshots (the catalog row is the
// daemon's history: progress, how it was read, why it failed).
//
// Volume states (docs/api.md):
//
//   create ──> creating ──> available <──attach/detach──> in-use
//                 │             │
//                 v             v delete
//               error        deleting ──> (row removed)
//
// Snapshot states:
//
//   snapshot create ──> pending ──upload done──> completed
//                          └─────upload failed / daemon stopped──> error
//
// Thread-safety: every method may be called from any thread; calls are
// serialized by an internal mutex. Read-modify-write sequences
// (GetVolume, then UpdateVolume) are the caller's to serialize.
#ifndef CAIRN_SERVICE_CATALOG_H_
#define CAIRN_SERVICE_CATALOG_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "service/policy.h"
#include "service/sqlite.h"

namespace cairn::service {

inline constexpr char kVolumeCreating[] = "creating";
inline constexpr char kVolumeAvailable[] = "available";
inline constexpr char kVolumeInUse[] = "in-use";
inline constexpr char kVolumeDeleting[] = "deleting";
inline constexpr char kVolumeError[] = "error";

inline constexpr char kSnapshotPending[] = "pending";
inline constexpr char kSnapshotCompleted[] = "completed";
inline constexpr char kSnapshotError[] = "error";

struct VolumeRecord {
  std::string id;  // "vol-" + 17 hex digits
  uint64_t size = 0;
  std::string volume_type;        // gp3, io2, st1, sc1, standard
  uint64_t iops = 0;              // 0 = unlimited
  uint64_t throughput_mibps = 0;  // 0 = unlimited
  bool encrypted = false;
  std::string state;
  std::string created;  // RFC 3339 UTC
  std::map<std::string, std::string> tags;
  std::string attached;       // when it was attached; empty = not attached
  std::string last_snapshot;  // newest completed snapshot: the next one's parent
  std::string error;          // why the state is `error`
  // Volumes created from a snapshot (daemon_hydrate.cc); empty otherwise.
  std::string origin_snapshot;
  std::string hydrate_mode;          // "lazy" or "eager"
  std::string hydration;             // "hydrating", "done", "failed"
  uint64_t hydration_total = 0;      // bytes to fetch
  uint64_t hydration_done = 0;       // bytes fetched, as of the last update
  uint64_t initialization_rate = 0;  // MiB/s; 0 = unlimited
  std::string hydration_error;       // why `failed`
};

struct SnapshotRecord {
  std::string id;  // "snap-…", handed out at the instant
  std::string volume_id;
  std::string state;
  std::string created;    // the instant (RFC 3339 UTC)
  std::string completed;  // when it turned completed or error
  std::string description;
  std::map<std::string, std::string> tags;
  std::string parent;    // snapshot whose map fills unread blocks; empty = none
  std::string group_id;  // shared by the snapshots of one multi-volume create
  uint64_t size = 0;
  uint64_t bytes_total = 0;  // bytes the upload will read
  uint64_t bytes_done = 0;   // bytes read so far
  uint64_t bytes_read = 0;   // final stats, from the repository
  uint64_t bytes_new = 0;
  uint64_t bytes_stored = 0;
  std::string read_mode;    // "changed" (changed blocks only) or "full"
  std::string read_reason;  // why "full" (no parent, bitmap not trusted, ...)
  std::string error;        // why the state is `error`
};

struct EventRecord {
  int64_t seq = 0;
  std::string time;    // RFC 3339 UTC
  std::string object;  // "vol-…", "snap-…", "daemon"
  std::string kind;    // "state", "info", "warning"
  std::string message;
};

struct EventFilter {
  int64_t after = 0;
  int64_t limit = 1000;
  std::string object;   // "" = every object
  bool newest = false;  // the newest `limit` instead of the oldest
};

// A read of the event log with where it now begins: events with a seq below
// `first_seq` were removed by retention (event_log.h), so a reader that asked
// for events after A missed some when first_seq > A + 1.
struct EventPage {
  std::vector<EventRecord> events;
  int64_t first_seq = 1;  // oldest event kept; the next seq when none is kept
};

class Catalog {
 public:
  // Opens or creates the catalog at `path`, creating or checking the schema.
  // kFailedPrecondition if it was written by a newer schema version.
  static Result<std::unique_ptr<Catalog>> Open(const std::string& path);

  // Volumes. kNotFound "volume vol-… not found" for unknown ids;
  // kAlreadyExists if InsertVolume repeats an id.
  Status InsertVolume(const VolumeRecord& v);
  Status UpdateVolume(const VolumeRecord& v);  // every field, by id
  Status DeleteVolume(const std::string& id);
  Result<VolumeRecord> GetVolume(const std::string& id);
  Result<std::vector<VolumeRecord>> ListVolumes();  // by created, then id
  // Sets only last_snapshot (the snapshot uploader's one write to a volume
  // row, so it never races with the daemon's read-modify-write of others).
  Status SetLastSnapshot(const std::string& volume_id, const std::string& snapshot_id);

  // Snapshots. InsertSnapshots writes all rows in one transaction (a group
  // is all or nothing).
  Status InsertSnapshots(const std::vector<SnapshotRecord>& snapshots);
  Status UpdateSnapshot(const SnapshotRecord& s);  // every field, by id
  Result<SnapshotRecord> GetSnapshot(const std::string& id);
  // Filters: empty = any. Sorted by created, then id.
  Result<std::vector<SnapshotRecord>> ListSnapshots(const std::string& volume_id = "",
                                                    const std::string& state = "");

  // Events, numbered from 1 in the order they were added.
  Result<int64_t> AddEvent(const EventRecord& e);
  // Events with seq > `after` (and of `object`, unless empty), oldest first:
  // the first `limit` of them, or with `newest` the last `limit`.
  Result<std::vector<EventRecord>> ListEvents(const EventFilter& filter);
  // ListEvents and the log's first_seq, read together (no prune in between).
  Result<EventPage> ListEventPage(const EventFilter& filter);
  // Seq numbers are never reused: the events table is AUTOINCREMENT, so a
  // seq handed out once stays taken after its row is removed.
  //
  // Retention (event_log.h), in two steps so a prune never holds the catalog
  // long. FirstEventToKeep: the oldest event to keep when none may be
  // older than `older_than` (RFC 3339 UTC, as EventRecord::time; "" = no age
  // rule) and at most `keep` may remain (0 = no count rule); whichever rule
  // removes more wins. The kept events are always a run of the newest ones:
  // the age rule stops at the oldest event not older than `older_than`, in
  // seq order (so a clock that went back never removes newer events). 0 when
  // nothing is to be removed.
  Result<int64_t> FirstEventToKeep(const std::string& older_than, int64_t keep);
  // Removes the events with seq < `first_kept`, at most `max_rows` of them
  // (the oldest) in one DELETE on the seq key; returns how many it removed.
  // REQUIRES: max_rows > 0.
  Result<int64_t> DeleteEventsBefore(int64_t first_kept, int64_t max_rows);
  Result<int64_t> CountEvents();

  // Policies (catalog_policy.cc): the definition and the state are stored
  // apart (service/policy.h). kNotFound "policy pol-… not found".
  Status InsertPolicy(const PolicyRecord& p);
  // Only the state half: the scheduler's one write, so it never undoes a
  // concurrent delete's effect or rewrites the definition.
  Status UpdatePolicyState(const std::string& id, const PolicyState& state);
  // Read-modify-write of one policy, atomic against every other catalog
  // call (policy modify, enable/disable, and the scheduler's record of a
  // run): reads the record, calls `change` on it and, if that returns OK,
  // stores both halves. `change`'s error is returned and nothing is
  // written. REQUIRES: `change` does not call the catalog (it runs under
  // the catalog's mutex) and is quick.
  Status UpdatePolicy(const std::string& id, const std::function<Status(PolicyRecord&)>& change);
  Status DeletePolicy(const std::string& id);
  Result<PolicyRecord> GetPolicy(const std::string& id);
  Result<std::vector<PolicyRecord>> ListPolicies();  // by created, then id

  // Small daemon settings ("clean_shutdown", ...). nullopt when unset.
  Result<std::optional<std::string>> GetMeta(const std::string& key);
  Status SetMeta(const std::string& key, const std::string& value);

 private:
  explicit Catalog(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
  Status Migrate();
  Result<int64_t> FirstEventSeqLocked();                                    // REQUIRES: mu_ held
  Result<std::vector<EventRecord>> ListEventsLocked(const EventFilter& f);  // REQUIRES: mu_ held
  Result<PolicyRecord> GetPolicyLocked(const std::string& id);              // REQUIRES: mu_ held

  std::mutex mu_;
  std::unique_ptr<SqliteDb> db_;  // guarded by mu_
};

}  // namespace cairn::service

#endif  // CAIRN_SERVICE_CATALOG_H_
