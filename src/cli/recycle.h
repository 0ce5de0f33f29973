// What `snapshot delete` and `snapshot forget` share: the time "now" of a
// command (CAIRN_TEST_NOW, for tests only, see docs/cli.md) and removing one
// snapshot into the recycle bin or for good.
//
// Thread-safety: plain functions.
#ifndef CAIRN_CLI_RECYCLE_H_
#define CAIRN_CLI_RECYCLE_H_

#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "core/status.h"
#include "repo/recycle_bin.h"
#include "repo/repository.h"

namespace cairn::cli {

class Context;

// The clock, or the RFC 3339 time in CAIRN_TEST_NOW when it is set (tests
// use it to move past a recycle bin period without waiting);
// kInvalidArgument naming the variable if it does not parse.
Result<repo::TimePoint> CommandNow();

struct Removal {
  repo::SnapshotId id;
  bool binned = false;  // into the recycle bin (else removed for good)
  std::string expires;  // when binned: until when it can be undeleted
};

// Removes live snapshot `id`: into the recycle bin, unless its period is 0
// or `skip_bin`. kNotFound if it is not live.
Result<Removal> RemoveOrRecycle(repo::Repository& repository, const repo::SnapshotId& id,
                                bool skip_bin, repo::TimePoint now);

// `snapshot list --deleted`: the snapshots in the recycle bin whose source
// matches `matches` and that carry every tag of `tags`: a table (id, source,
// size, created, deleted, expires; expired ones say "expired, gc removes"),
// or in JSON an array of snapshot objects with "deleted", "expires" and
// "expired" added. Unreadable bin objects are warnings.
Status PrintRecycleBin(Context& ctx, repo::Repository& repository,
                       const std::function<bool(const std::string&)>& source_matches,
                       const std::map<std::string, std::string>& tags);

}  // namespace cairn::cli

#endif  // CAIRN_CLI_RECYCLE_H_
