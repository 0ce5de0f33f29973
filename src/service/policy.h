// Policy: a snapshot lifecycle policy (EBS Data Lifecycle Manager) as the
// daemon stores and runs it — which volumes, when, how many snapshots to
// keep, and which other repositories get a copy (docs/api.md "Policies").
//
// A record has two halves, stored apart so the scheduler never overwrites
// what a user asked for:
//   definition  what the user asked for: targets (fixed at create), schedule,
//               keep rules, copy targets, extra snapshot tags, name,
//               description (the rest changes by `policy modify`,
//               service/policy_change.h)
//   state       the scheduler's: enabled, next run, counters, the last run
//
// Every snapshot a policy takes carries the tag cairn:policy=<id>; its
// retention (restic's rules, repo/retention.h) applies to those snapshots
// only, per volume, in the primary repository and in each copy target.
//
// Values; thread-safe to copy.
#ifndef CAIRN_SERVICE_POLICY_H_
#define CAIRN_SERVICE_POLICY_H_

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "repo/retention.h"

namespace cairn::service {

// The tag key every policy snapshot carries (value: the policy id).
inline constexpr char kPolicyTag[] = "cairn:policy";

struct PolicyCopyTarget {
  std::string url;            // another repository (path or s3://)
  std::string password_file;  // its passphrase, read at each run; "" = unencrypted
};

struct PolicyDefinition {
  std::string name;
  std::string description;
  std::vector<std::string> volume_ids;             // targets by id, or
  std::map<std::string, std::string> target_tags;  // volumes having every one of these tags
  std::string schedule;                            // Schedule::ToString()
  repo::KeepRules keep;
  std::vector<PolicyCopyTarget> copy_to;
  std::map<std::string, std::string> snapshot_tags;  // besides cairn:policy
};

struct PolicyRun {
  std::string started, finished;       // RFC 3339 UTC
  std::string result;                  // "ok" or "failed"
  std::string message;                 // what happened, or what failed and what to do
  std::vector<std::string> snapshots;  // taken by this run
  std::vector<std::string> removed;    // forgotten by its retention (all repositories)
  uint64_t copied = 0;                 // snapshots copied to targets
};

struct PolicyState {
  bool enabled = true;
  std::string next_run;   // RFC 3339 UTC; "" while disabled
  uint64_t runs = 0;      // finished runs
  uint64_t failures = 0;  // finished runs that failed
  std::optional<PolicyRun> last_run;
};

struct PolicyRecord {
  std::string id;  // "pol-" + 17 lower-case hex digits
  std::string created;
  PolicyDefinition definition;
  PolicyState state;
};

// A new random policy id.
std::string NewPolicyId();
// kInvalidArgument naming the text unless it is "pol-" + 17 lower-case hex.
Status CheckPolicyId(std::string_view text);

// What the catalog stores (and reads back). FromJson: kCorruption naming the
// policy when a stored document does not parse.
nlohmann::json DefinitionToJson(const PolicyDefinition& d);
Result<PolicyDefinition> DefinitionFromJson(const nlohmann::json& j);
nlohmann::json StateToJson(const PolicyState& s);
Result<PolicyState> StateFromJson(const nlohmann::json& j);
nlohmann::json KeepToJson(const repo::KeepRules& k);
// kInvalidArgument naming the field (e.g. "keep.daily") for non-integers.
Result<repo::KeepRules> KeepFromJson(const nlohmann::json& j);
nlohmann::json RunToJson(const PolicyRun& r);

// Checks a definition before it is stored: exactly one kind of target, a
// schedule that parses, at least one keep rule (none would remove every
// snapshot), copy targets with a URL, no snapshot tag under "cairn:".
// kInvalidArgument naming the flag.
Status ValidateDefinition(const PolicyDefinition& d);

// "vol-a, vol-b" or "tag env=prod" (for tables and events).
std::string DescribeTargets(const PolicyDefinition& d);

}  // namespace cairn::service

#endif  // CAIRN_SERVICE_POLICY_H_
