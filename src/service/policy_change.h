// PolicyChange: what `cairn policy modify` (POST /v1/policies/{id}/modify)
// changes in a lifecycle policy's definition (service/policy.h), and how it
// applies. Each field that is set replaces the stored one; the others stay.
// Keep rules count one by one: a set rule replaces that rule's count (0
// drops the rule), the other rules stay. Copy targets and snapshot tags are
// replaced as a whole (an empty list: no copies, no extra tags). Targets
// (volume ids, target tags) cannot change: a policy on other volumes is
// another policy.
//
// Pure values and functions; thread-safe.
#ifndef CAIRN_SERVICE_POLICY_CHANGE_H_
#define CAIRN_SERVICE_POLICY_CHANGE_H_

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "service/policy.h"

namespace cairn::service {

struct PolicyChange {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::string> schedule;  // canonical text (Schedule::ToString())
  std::map<std::string, int> keep;      // rule ("last", "hourly", … "yearly") → new count
  std::optional<std::vector<PolicyCopyTarget>> copy_to;
  std::optional<std::map<std::string, std::string>> snapshot_tags;

  bool empty() const {
    return !name && !description && !schedule && keep.empty() && !copy_to && !snapshot_tags;
  }
};

// Parses the body of POST /v1/policies/{id}/modify: any of "name",
// "description", "every" or "cron", "keep" (an object with some of "last",
// "hourly", "daily", "weekly", "monthly", "yearly"), "copy_to"
// ([{"url", "password_file"}]), "snapshot_tags" ({K: V}). kInvalidArgument
// naming the field or flag: a wrong type, both "every" and "cron", a bad
// duration or cron field (Schedule's message), "volume_ids" or "tags"
// (targets are fixed), "enabled" (…/enable and …/disable do that), or a
// field it does not know (so a typo is not a silent no-op).
Result<PolicyChange> PolicyChangeFromJson(const nlohmann::json& body);

struct AppliedPolicyChange {
  PolicyDefinition definition;       // the definition with the change applied
  std::vector<std::string> changes;  // what differs, in words; empty: nothing
  bool schedule_changed = false;
};

// `before` with `change` applied, and what that changed, e.g.
//   schedule every 1h → every 30m
//   keep last 7 → last 7, daily 14
//   copy to none → s3://dr/cairn
// A field set to the value it has already is not a change.
AppliedPolicyChange ApplyPolicyChange(const PolicyDefinition& before, const PolicyChange& change);

// The checks of a changed definition: at least one keep rule (naming the
// --keep-… flags), then ValidateDefinition. kInvalidArgument naming the flag.
Status ValidateChangedDefinition(const PolicyDefinition& d);

}  // namespace cairn::service

#endif  // CAIRN_SERVICE_POLICY_CHANGE_H_
