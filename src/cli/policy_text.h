// Text forms of a policy object of the daemon's API (docs/api.md
// "Policies"; EBS Data Lifecycle Manager) for the `cairn policy …`
// commands: the table of `policy list`, the details of `policy show`, the
// one-line summary of a run. Fields missing from the object print as "-"
// (never throw), so an older or newer daemon still shows what it sends.
//
// Thread-safety: plain functions.
#ifndef CAIRN_CLI_POLICY_TEXT_H_
#define CAIRN_CLI_POLICY_TEXT_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace cairn::cli {

// kInvalidArgument naming `flag` unless `id` looks like "pol-" followed by
// letters and digits (so it can go into an API path as it is).
Status CheckPolicyId(std::string_view id, std::string_view flag);

// "vol-a, vol-b" (by id) or "tags env=prod,tier=db" (every volume with all
// of them); "-" when the object names neither.
std::string PolicyTargetsText(const nlohmann::json& policy);

// "ok at 2026-12-02T03:00:02Z in 2.1 s: 2 snapshots, 1 removed, copied 2"
// / "failed at …: <message>"; "-" for null (never ran).
std::string LastRunText(const nlohmann::json& last_run);

// "running", "ok", "failed" or "-": the state of the newest run.
std::string LastResultWord(const nlohmann::json& policy);

// policy list: id, name, targets, schedule, keep, next run, last result, runs.
std::vector<std::string> PolicyTableHeader();
std::vector<std::string> PolicyTableRow(const nlohmann::json& policy);

// policy show: "key:  value" lines of every field and of the last run.
std::string PolicyDetails(const nlohmann::json& policy);

}  // namespace cairn::cli

#endif  // CAIRN_CLI_POLICY_TEXT_H_
