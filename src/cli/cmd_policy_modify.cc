// cairn policy modify POL [--every DURATION | --cron "M H DOM MON DOW"]
//                         [--keep-last N] … [--keep-yearly N]
//                         [--copy-to URL]... [--no-copy] [--copy-password-file FILE]
//                         [--snapshot-tag K=V]... [--no-snapshot-tags]
//                         [--name NAME] [--description TEXT]
// cairn policy disable POL
// cairn policy enable POL
//
// Changes a lifecycle policy after it was made (EBS DLM's update), keeping
// its id, state and run history. Only the flags given change: each
// --keep-… rule on its own (0 drops it; the others stay); --copy-to gives
// the new list of copy targets (with --copy-password-file as for create),
// --copy-password-file alone gives the current targets a new passphrase
// file, --no-copy removes them; --snapshot-tag gives the new set of extra
// tags, --no-snapshot-tags removes them. The targets (--volume, --tag)
// cannot change. A new schedule takes effect at once (next run from now); a
// changed keep rule from the next run. Same checks as create, naming the
// flag (exit 2); a modify that changes nothing is exit 2 too.
//
// disable: no scheduled runs (`policy run` still runs it); enable: the next
// run is the schedule's next time from now (the times missed are not run).
// Both are idempotent.
//
// Text: what changed, on stderr. JSON: the policy object (docs/api.md), for
// modify with "changes" added.
#include <CLI/CLI.hpp>
#include <iterator>
#include <map>
#include <optional>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/daemon_client.h"
#include "cli/keep_flags.h"
#include "cli/policy_text.h"
#include "cli/tags.h"
#include "repo/retention.h"

namespace cairn::cli {
namespace {

using nlohmann::json;

constexpr const char* kKeepNames[] = {"last", "hourly", "daily", "weekly", "monthly", "yearly"};

struct Options {
  std::string id;
  std::string every;
  std::string cron;
  repo::KeepRules keep;
  std::vector<std::string> copy_to;
  bool no_copy = false;
  std::string copy_password_file;
  std::vector<std::string> snapshot_tags;
  bool no_snapshot_tags = false;
  std::string name;
  std::string description;
  std::vector<std::string> volumes, tags;  // refused: targets are fixed
  // Which flags were given (an empty --name "" is a change too).
  std::map<std::string, size_t> given;
  size_t Given(const std::string& flag) const {
    auto it = given.find(flag);
    return it == given.end() ? 0 : it->second;
  }
};

Status CheckLocally(const Options& o) {
  if (!o.volumes.empty() || !o.tags.empty()) {
    return InvalidArgumentError(
        "policy modify: a policy's targets (--volume, --tag) cannot change; create a policy for "
        "the other volumes, then delete this one (its snapshots stay)");
  }
  if (!o.every.empty() && !o.cron.empty()) {
    return InvalidArgumentError(
        "policy modify: --every and --cron cannot be combined: give one schedule");
  }
  if (o.no_copy && (!o.copy_to.empty() || o.Given("--copy-password-file") > 0)) {
    return InvalidArgumentError(
        "policy modify: --no-copy removes the copy targets; it cannot be combined with "
        "--copy-to or --copy-password-file");
  }
  if (o.no_snapshot_tags && !o.snapshot_tags.empty()) {
    return InvalidArgumentError(
        "policy modify: --no-snapshot-tags removes the extra snapshot tags; it cannot be "
        "combined with --snapshot-tag");
  }
  RETURN_IF_ERROR(o.keep.Validate());
  return Status::OK();
}

// The copy targets to send: the new list, or the current one with a new
// password file; nullopt when the copy targets do not change.
Result<std::optional<json>> CopyTargets(const Options& o) {
  if (o.no_copy) return std::optional<json>(json::array());
  std::string password_file;
  if (o.Given("--copy-password-file") > 0) {
    ASSIGN_OR_RETURN(password_file,
                     AbsoluteForDaemon(o.copy_password_file, "--copy-password-file"));
  }
  json copies = json::array();
  if (!o.copy_to.empty()) {
    for (const std::string& url : o.copy_to) {
      ASSIGN_OR_RETURN(std::string target, AbsoluteForDaemon(url, "--copy-to"));
      copies.push_back({{"url", target}, {"password_file", password_file}});
    }
    return std::optional<json>(copies);
  }
  if (o.Given("--copy-password-file") == 0) return std::optional<json>();
  // A new passphrase file for the targets the policy has.
  ASSIGN_OR_RETURN(json p, CallDaemon("GET", "/v1/policies/" + o.id));
  for (const auto& t : p.value("copy_to", json::array())) {
    copies.push_back({{"url", t.value("url", "")}, {"password_file", password_file}});
  }
  if (copies.empty()) {
    return InvalidArgumentError("policy modify: --copy-password-file: " + o.id +
                                " has no copy targets; give --copy-to URL too");
  }
  return std::optional<json>(copies);
}

Result<json> RequestBody(const Options& o) {
  json body = json::object();
  if (o.Given("--name") > 0) body["name"] = o.name;
  if (o.Given("--description") > 0) body["description"] = o.description;
  if (!o.every.empty()) body["every"] = o.every;
  if (!o.cron.empty()) body["cron"] = o.cron;
  const int repo::KeepRules::*members[] = {&repo::KeepRules::last,    &repo::KeepRules::hourly,
                                           &repo::KeepRules::daily,   &repo::KeepRules::weekly,
                                           &repo::KeepRules::monthly, &repo::KeepRules::yearly};
  for (size_t i = 0; i < std::size(kKeepNames); ++i) {
    if (o.Given(std::string("--keep-") + kKeepNames[i]) > 0) {
      body["keep"][kKeepNames[i]] = o.keep.*members[i];
    }
  }
  ASSIGN_OR_RETURN(std::optional<json> copies, CopyTargets(o));
  if (copies) body["copy_to"] = *copies;
  if (o.no_snapshot_tags) body["snapshot_tags"] = json::object();
  if (!o.snapshot_tags.empty()) {
    ASSIGN_OR_RETURN_CTX(auto tags, ParseTags(o.snapshot_tags), "--snapshot-tag");
    body["snapshot_tags"] = tags;
  }
  if (body.empty()) {
    return InvalidArgumentError(
        "policy modify " + o.id +
        ": nothing to change; give at least one of --every, --cron, --keep-…, --copy-to, "
        "--no-copy, --copy-password-file, --snapshot-tag, --no-snapshot-tags, --name, "
        "--description");
  }
  return body;
}

// ", next run 2026-12-02T03:00:00.000Z" or ", disabled".
std::string NextRunText(const json& p) {
  if (!p.value("enabled", true)) return ", disabled";
  const json next = p.value("next_run", json());
  return next.is_string() ? ", next run " + next.get<std::string>() : "";
}

Status RunModify(Context& ctx, const Options& o) {
  RETURN_IF_ERROR(CheckPolicyId(o.id, "POLICY"));
  RETURN_IF_ERROR(CheckLocally(o));
  ASSIGN_OR_RETURN(json body, RequestBody(o));
  ASSIGN_OR_RETURN(json p, CallDaemon("POST", "/v1/policies/" + o.id + "/modify", body));
  if (ctx.json()) {
    ctx.PrintJson(p);
    return Status::OK();
  }
  std::string note = "modified " + o.id + ": " + p.value("changes", "?") + NextRunText(p);
  if (body.contains("keep")) note += " (the keep rules apply from the next run)";
  ctx.Note(note + "\n");
  return Status::OK();
}

Status RunEnable(Context& ctx, const std::string& id, bool enable) {
  RETURN_IF_ERROR(CheckPolicyId(id, "POLICY"));
  ASSIGN_OR_RETURN(json p,
                   CallDaemon("POST", "/v1/policies/" + id + (enable ? "/enable" : "/disable")));
  if (ctx.json()) {
    ctx.PrintJson(p);
  } else if (enable) {
    ctx.Note(id + " enabled" + NextRunText(p) + "\n");
  } else {
    ctx.Note(id + " disabled: no scheduled runs until `cairn policy enable " + id +
             "` (`cairn policy run " + id + "` still runs it)\n");
  }
  return Status::OK();
}

}  // namespace

void RegisterPolicyModify(CLI::App& policy, Context& ctx) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = policy.add_subcommand(
      "modify", "Change a policy's schedule, keep rules, copies, tags, name or description");
  cmd->add_option("POLICY", o->id, "The policy id (pol-…)")->required();
  cmd->add_option("--every", o->every, "Run every DURATION from now on: 30m, 1h, 12h, 1d");
  cmd->add_option("--cron", o->cron, "Run on a cron schedule from now on, in UTC: \"0 3 * * *\"");
  AddKeepFlags(*cmd, o->keep);
  cmd->add_option("--copy-to", o->copy_to,
                  "The new copy target repositories (repeatable; replaces the current ones)")
      ->allow_extra_args(false);
  cmd->add_flag("--no-copy", o->no_copy, "Copy to no other repository any more");
  cmd->add_option("--copy-password-file", o->copy_password_file,
                  "The passphrase file of the copy targets (with --copy-to: of the new ones; "
                  "alone: of the current ones)");
  cmd->add_option("--snapshot-tag", o->snapshot_tags,
                  "KEY=VALUE: the new extra tags of the policy's snapshots (repeatable; "
                  "replaces the current ones)")
      ->allow_extra_args(false);
  cmd->add_flag("--no-snapshot-tags", o->no_snapshot_tags,
                "No extra tags on the policy's snapshots any more");
  cmd->add_option("--name", o->name, "A new name");
  cmd->add_option("--description", o->description, "A new description");
  // Not changeable; accepted only to say so.
  cmd->add_option("--volume", o->volumes)->group("")->allow_extra_args(false);
  cmd->add_option("--tag", o->tags)->group("")->allow_extra_args(false);
  cmd->callback([&ctx, o, cmd] {
    for (const char* flag : {"--name", "--description", "--copy-password-file"}) {
      o->given[flag] = cmd->count(flag);
    }
    for (const char* rule : kKeepNames) {
      const std::string flag = std::string("--keep-") + rule;
      o->given[flag] = cmd->count(flag);
    }
    ctx.SetAction([&ctx, o] { return RunModify(ctx, *o); });
  });

  for (const bool enable : {false, true}) {
    auto id = std::make_shared<std::string>();
    CLI::App* sub = policy.add_subcommand(
        enable ? "enable" : "disable",
        enable ? "Enable a policy: scheduled runs again, the next from now"
               : "Disable a policy: no scheduled runs (`policy run` still runs it)");
    sub->add_option("POLICY", *id, "The policy id (pol-…)")->required();
    sub->callback([&ctx, id, enable] {
      ctx.SetAction([&ctx, id, enable] { return RunEnable(ctx, *id, enable); });
    });
  }
}

}  // namespace cairn::cli
