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

// Asks the daemon; prints the ids (text) or {"snapshot_id", "snapshot_ids",
// "snapshots": [daemon snapshot objects]} (JSON). With `wait`, returns only
// when all are done: kIoError naming each snapshot that ended in `error`.
Status CreateVolumeSnapshots(Context& ctx, const VolumeSnapshotOptions& options);

// The daemon's snapshots in state pending or error, as snapshot objects of
// docs/cli.md (source = the volume id, plus "progress" and "error"). Empty
// when no daemon answers at the API socket (that is not an error here).
std::vector<nlohmann::json> DaemonSnapshotsNotInRepository();

}  // namespace cairn::cli

#endif  // CAIRN_CLI_VOLUME_SNAPSHOTS_H_
