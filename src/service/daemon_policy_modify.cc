// Daemon: changing a lifecycle policy after it was made — modify (the
// definition, service/policy_change.h), enable and disable (its state).
// Each is one Catalog::UpdatePolicy, so it never races the scheduler's
// record of a run; the scheduler is woken to read the new next run.
#include <fmt/format.h>

#include <chrono>

#include "service/daemon.h"

namespace cairn::service {
namespace {

using Clock = std::chrono::system_clock;

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

}  // namespace

Result<PolicyModified> Daemon::ModifyPolicy(const std::string& id, const PolicyChange& change) {
  RETURN_IF_ERROR(CheckPolicyId(id));
  if (change.empty()) {
    return InvalidArgumentError(
        "policy modify " + id +
        ": nothing to change; give at least one of --every, --cron, --keep-…, --copy-to, "
        "--no-copy, --copy-password-file, --snapshot-tag, --no-snapshot-tags, --name, "
        "--description");
  }
  // Unknown policy first (404), then the definition, then the copy targets
  // (opening one may take a while: it is done outside the catalog's lock).
  const Status unchanged = InvalidArgumentError(
      fmt::format("policy modify {}: nothing changes (it has those values already; `cairn policy "
                  "show {}` shows them)",
                  id, id));
  ASSIGN_OR_RETURN(PolicyRecord before, catalog_->GetPolicy(id));
  const AppliedPolicyChange check = ApplyPolicyChange(before.definition, change);
  if (check.changes.empty()) return unchanged;
  RETURN_IF_ERROR(ValidateChangedDefinition(check.definition));
  if (change.copy_to) {
    for (const PolicyCopyTarget& t : *change.copy_to) {
      RETURN_IF_ERROR(OpenPolicyCopyTarget(t).status().WithContext("--copy-to"));
    }
  }

  // Applied to the record as it is now (another modify may have come).
  std::string changes;
  RETURN_IF_ERROR(catalog_->UpdatePolicy(id, [&](PolicyRecord& p) -> Status {
    AppliedPolicyChange applied = ApplyPolicyChange(p.definition, change);
    if (applied.changes.empty()) return unchanged;
    RETURN_IF_ERROR(ValidateChangedDefinition(applied.definition));
    p.definition = std::move(applied.definition);
    if (applied.schedule_changed && p.state.enabled) {
      p.state.next_run = PolicyScheduler::FirstRun(p.definition.schedule, Clock::now());
    }
    changes = Join(applied.changes);
    return Status::OK();
  }));
  events_->State(id, "policy modified: " + changes);
  policies_->Wake();
  ASSIGN_OR_RETURN(PolicyStatus now, GetPolicy(id));
  return PolicyModified{std::move(now), changes};
}

Result<PolicyStatus> Daemon::SetPolicyEnabled(const std::string& id, bool enabled) {
  RETURN_IF_ERROR(CheckPolicyId(id));
  bool changed = false;
  std::string next_run;
  RETURN_IF_ERROR(catalog_->UpdatePolicy(id, [&](PolicyRecord& p) {
    if (p.state.enabled == enabled) return Status::OK();
    changed = true;
    p.state.enabled = enabled;
    // From now: the times missed while disabled are not run.
    p.state.next_run =
        enabled ? PolicyScheduler::FirstRun(p.definition.schedule, Clock::now()) : "";
    next_run = p.state.next_run;
    return Status::OK();
  }));
  if (changed) {
    events_->State(id, enabled ? "policy enabled: next run " + next_run
                               : "policy disabled: no scheduled runs until enabled (`cairn "
                                 "policy run` still runs it)");
    policies_->Wake();
  }
  return GetPolicy(id);
}

}  // namespace cairn::service
