// Snapshotter: turns frozen volume views into repository snapshots in the
// background. `cairn snapshot create vol-…` freezes (Daemon), records the
// snapshot as `pending` and hands the view here; one uploader thread takes
// the jobs in order (FIFO, so a volume's snapshots complete in the order of
// their instants, which changed-block tracking relies on) and runs the
// repository's normal backup pipeline over the view:
//
//   job ──> parent = the volume's last completed snapshot
//           changed extents known, parent present, same size?
//             yes: read only the changed extents (read_mode "changed")
//             no:  read everything, and record why (read_mode "full")
//       ──> repo::CreateSnapshot(id and instant fixed at freeze time)
//       ──> ok:    state completed, stats; volume.last_snapshot = id;
//                  view released as completed (the bitmap forgets those blocks)
//           error: state error with the reason; view released not completed
//                  (its blocks stay marked for the next snapshot)
//
// Stop() abandons what is not finished: the upload in progress is
// cancelled (nothing is saved in the repository), it and the queued jobs
// become `error` ("daemon stopped before the upload finished: take a new
// snapshot"). Views do not survive the process, so there is nothing to
// resume after a restart.
//
// Thread-safety: Enqueue, LiveProgress, PendingFor and Stop may be called from
// any thread.
#ifndef CAIRN_SERVICE_SNAPSHOTTER_H_
#define CAIRN_SERVICE_SNAPSHOTTER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "core/progress.h"
#include "core/status.h"
#include "repo/repository.h"
#include "service/catalog.h"
#include "service/event_log.h"
#include "volume/volume.h"

namespace cairn::service {

class Snapshotter {
 public:
  // `repo`, `catalog` and `events` must outlive the Snapshotter.
  Snapshotter(repo::Repository& repo, Catalog& catalog, EventLog& events);
  ~Snapshotter();  // Stop()s
  Snapshotter(const Snapshotter&) = delete;
  Snapshotter& operator=(const Snapshotter&) = delete;

  void Start();

  // Queues the upload of `view` as snapshot `record` (already in the catalog
  // as pending). After Stop(), the record is marked error at once.
  void Enqueue(const SnapshotRecord& record, std::shared_ptr<volume::VolumeView> view);

  // Live progress of a pending snapshot: {bytes_done, bytes_total}; nullopt
  // when it is not being uploaded right now (queued or finished).
  struct Live {
    uint64_t bytes_done = 0;
    uint64_t bytes_total = 0;
  };
  std::optional<Live> LiveProgress(const std::string& snapshot_id) const;
  // Ids of the snapshots of `volume_id` queued or uploading.
  std::vector<std::string> PendingFor(const std::string& volume_id) const;

  // Cancels the running upload, marks it and every queued job `error` with
  // `reason`, joins the thread. Idempotent.
  void Stop(const std::string& reason);

 private:
  struct Job {
    SnapshotRecord record;
    std::shared_ptr<volume::VolumeView> view;
  };
  void Run(std::stop_token stop);
  void Upload(Job& job, std::stop_token stop);
  void Fail(Job& job, const std::string& reason);

  repo::Repository& repo_;
  Catalog& catalog_;
  EventLog& events_;

  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::deque<Job> queue_;                             // guarded by mu_
  std::string running_id_;                            // guarded by mu_
  std::string running_volume_;                        // guarded by mu_
  std::shared_ptr<const Progress> running_progress_;  // guarded by mu_
  uint64_t running_total_ = 0;                        // guarded by mu_
  bool stopped_ = false;                              // guarded by mu_
  std::string stop_reason_;                           // guarded by mu_
  std::jthread thread_;
};

}  // namespace cairn::service

#endif  // CAIRN_SERVICE_SNAPSHOTTER_H_
