// Retention policy for `snapshot forget` (restic's semantics): which
// snapshots of a group to keep, and why.
//
// Per group, snapshots are taken newest first (created, then id, descending).
// A snapshot is kept if it is among the newest `last`, or if it is the newest
// of one of the newest `hourly` distinct hours (resp. days, ISO weeks, months,
// years) that hold a snapshot. Buckets are in UTC. A count of -1 means no
// limit (every bucket). Every rule that keeps a snapshot adds a reason
// ("last 1", "hourly 2026-11-30T14", "daily 2026-11-30", "weekly 2026-W48",
// "monthly 2026-11", "yearly 2026"). A snapshot whose created time does not
// parse is always kept (reason "created time unreadable").
//
// Pure functions: no clock, no I/O. Thread-safety: none needed.
#ifndef CAIRN_REPO_RETENTION_H_
#define CAIRN_REPO_RETENTION_H_

#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "repo/manifest.h"

namespace cairn::repo {

struct KeepRules {
  int last = 0, hourly = 0, daily = 0, weekly = 0, monthly = 0, yearly = 0;
  // True when no rule keeps anything (forget refuses that).
  bool empty() const {
    return last == 0 && hourly == 0 && daily == 0 && weekly == 0 && monthly == 0 && yearly == 0;
  }
  // "last 3, daily 7"; "" when empty.
  std::string Describe() const;
  // kInvalidArgument naming the rule if a count is below -1.
  Status Validate() const;
};

struct RetentionDecision {
  SnapshotHeader snapshot;
  bool keep = false;
  std::vector<std::string> reasons;  // empty when removed
};

// One group: the decisions for `snapshots`, newest first.
std::vector<RetentionDecision> ApplyRetention(std::vector<SnapshotHeader> snapshots,
                                              const KeepRules& rules);

// Snapshots grouped by host and source (two hosts' /dev/sdb are different
// disks), groups sorted by (host, source), each decided by ApplyRetention.
// Only snapshots carrying every tag of `tags` take part; the others are in
// no group (forget leaves them alone).
struct RetentionGroup {
  std::string host;
  std::string source;
  std::vector<RetentionDecision> decisions;  // newest first
};
std::vector<RetentionGroup> ApplyRetentionByGroup(
    const std::vector<SnapshotHeader>& snapshots, const KeepRules& rules,
    const std::map<std::string, std::string>& tags = {});

}  // namespace cairn::repo

#endif  // CAIRN_REPO_RETENTION_H_
