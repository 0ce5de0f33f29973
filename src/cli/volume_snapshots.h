// Snapshots of the daemon's live volumes, for `cairn snapshot create
// vol-… [vol-…]` and `cairn snapshot list` (which also shows the daemon's
// snapshots that are not completed in the repository).
//
// Thread-safety: main thread only.
#ifndef CAIRN_CLI_VOLUME_SNAPSHOTS_H_
#define CAIRN_CLI_VOLUME_SNAPSHOTS_H_

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"

namespace cairn::cli {

class Context;

struct VolumeSnapshotOptions {
  std::vector<std::string> volumes;  // one instant for all
  std::string description;
  std::map<std::string, std::string> tags;
  bool wait = false;  // until every snapshot is completed or error
};

// Asks the daemon for the snapshots and returns the daemon's snapshot objects
// (docs/api.md), without printing; with `wait`, only once none is pending
// (Ctrl-C stops waiting: kCancelled). A snapshot that ended in `error` is in
// the result, not an error here.
Result<std::vector<nlohmann::json>> TakeVolumeSnapshots(Context& ctx,
                                                        const VolumeSnapshotOptions& options);

// Asks the daemon; prints the ids (text) or {"snapshot_id", "snapshot_ids",
// "snapshots": [daemon snapshot objects]} (JSON). With `wait`, returns only
// when all are done: kIoError naming each snapshot that ended in `error`.
Status CreateVolumeSnapshots(Context& ctx, const VolumeSnapshotOptions& options);

// The daemon's snapshots in state pending or error, as snapshot objects of
// docs/cli.md (source = the volume id, plus "progress" and "error"). Empty
// when no daemon answers at the API socket (that is not an error here).
std::vector<nlohmann::json> DaemonSnapshotsNotInRepository();

// One snapshot the daemon took, as a snapshot object of docs/cli.md (as
// above), when a daemon answers and knows `id`; null otherwise (no daemon,
// or an id it never handed out). For `snapshot show` of a snapshot that has
// no manifest yet (pending) or never will (error).
nlohmann::json DaemonSnapshot(const std::string& id);

// "key: value" lines of such an object for `snapshot show`: state,
// progress (bytes done of total and percent) while pending, the error.
std::string DaemonSnapshotDetails(const nlohmann::json& snapshot);

}  // namespace cairn::cli

#endif  // CAIRN_CLI_VOLUME_SNAPSHOTS_H_
