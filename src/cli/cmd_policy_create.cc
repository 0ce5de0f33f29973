// cairn policy create (--volume VOL)... | (--tag K=V)...
//                     (--every DURATION | --cron "M H DOM MON DOW")
//                     [--keep-last N] [--keep-hourly N] [--keep-daily N]
//                     [--keep-weekly N] [--keep-monthly N] [--keep-yearly N]
//                     [--copy-to URL]... [--copy-password-file FILE]
//                     [--snapshot-tag K=V]... [--name NAME] [--description TEXT]
//                     [--disabled]
//
// A lifecycle policy of the daemon (EBS Data Lifecycle Manager): on its
// schedule the daemon snapshots the volumes (by id, or every volume having
// all the --tag tags at run time), copies the snapshots to each --copy-to
// repository, and applies the --keep-… rules (those of `snapshot forget`)
// to the snapshots the policy made, per volume, in the primary repository
// and in each copy target. The CLI checks what it can (one kind of target,
// one schedule, a keep rule), naming the flags; the daemon checks the rest
// (durations, cron fields, volume ids, that each copy target opens).
//
// Text: the policy id on stdout, a summary on stderr. JSON: the policy
// object (docs/api.md).
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/daemon_client.h"
#include "cli/keep_flags.h"
#include "cli/policy_text.h"
#include "cli/tags.h"
#include "repo/retention.h"
#include "service/policy.h"

namespace cairn::cli {
namespace {

struct Options {
  std::vector<std::string> volumes;
  std::vector<std::string> tags;
  std::string every;
  std::string cron;
  repo::KeepRules keep;
  std::vector<std::string> copy_to;
  std::string copy_password_file;
  std::vector<std::string> snapshot_tags;
  std::string name;
  std::string description;
  bool disabled = false;
};

// The checks the CLI can make without the daemon; each names its flags.
Status CheckLocally(const Options& o) {
  if (o.volumes.empty() && o.tags.empty()) {
    return InvalidArgumentError(
        "policy create: no target: give --volume VOL (repeatable) for volumes by id, or --tag "
        "K=V (repeatable) for every volume with all those tags");
  }
  if (!o.volumes.empty() && !o.tags.empty()) {
    return InvalidArgumentError(
        "policy create: --volume and --tag cannot be combined: a policy targets volumes by id "
        "or by tags; make two policies for both");
  }
  if (o.every.empty() == o.cron.empty()) {
    return InvalidArgumentError(
        o.every.empty()
            ? "policy create: no schedule: give --every DURATION (30m, 1h, 1d) or --cron "
              "\"M H DOM MON DOW\" (UTC)"
            : "policy create: --every and --cron cannot be combined: give one schedule");
  }
  RETURN_IF_ERROR(o.keep.Validate());
  if (o.keep.empty()) {
    return InvalidArgumentError(
        "policy create: no --keep-… rule given, so every snapshot the policy takes would be "
        "removed; give at least one (--keep-last 3 keeps the newest 3 of each volume)");
  }
  if (!o.copy_password_file.empty() && o.copy_to.empty()) {
    return InvalidArgumentError(
        "policy create: --copy-password-file is for the --copy-to repositories; give --copy-to "
        "URL too, or drop it");
  }
  for (const std::string& v : o.volumes) {
    if (!LooksLikeVolumeId(v)) {
      return InvalidArgumentError("--volume \"" + v +
                                  "\": not a volume id (vol-…); `cairn volume list` shows them");
    }
  }
  return Status::OK();
}

Result<nlohmann::json> RequestBody(const Options& o) {
  nlohmann::json body = {{"name", o.name},
                         {"description", o.description},
                         {"keep", service::KeepToJson(o.keep)},
                         {"enabled", !o.disabled}};
  if (!o.volumes.empty()) {
    body["volume_ids"] = o.volumes;
  } else {
    ASSIGN_OR_RETURN_CTX(auto tags, ParseTags(o.tags), "--tag");
    body["tags"] = tags;
  }
  if (!o.every.empty()) {
    body["every"] = o.every;
  } else {
    body["cron"] = o.cron;
  }
  std::string password_file;
  if (!o.copy_password_file.empty()) {
    ASSIGN_OR_RETURN(password_file,
                     AbsoluteForDaemon(o.copy_password_file, "--copy-password-file"));
  }
  nlohmann::json copies = nlohmann::json::array();
  for (const std::string& url : o.copy_to) {
    ASSIGN_OR_RETURN(std::string target, AbsoluteForDaemon(url, "--copy-to"));
    copies.push_back({{"url", target}, {"password_file", password_file}});
  }
  body["copy_to"] = copies;
  ASSIGN_OR_RETURN_CTX(auto snapshot_tags, ParseTags(o.snapshot_tags), "--snapshot-tag");
  body["snapshot_tags"] = snapshot_tags;
  return body;
}

Status Run(Context& ctx, const Options& o) {
  RETURN_IF_ERROR(CheckLocally(o));
  ASSIGN_OR_RETURN(nlohmann::json body, RequestBody(o));
  ASSIGN_OR_RETURN(nlohmann::json p, CallDaemon("POST", "/v1/policies", body));
  if (ctx.json()) {
    ctx.PrintJson(p);
    return Status::OK();
  }
  ctx.Print(p.value("id", "?") + "\n");
  std::string note = p.value("id", "?") + ": " + PolicyTargetsText(p) + ", " +
                     p.value("schedule", "?") + ", keep " + p.value("keep_text", "?");
  if (!o.copy_to.empty()) note += ", copy to " + std::to_string(o.copy_to.size()) + " target(s)";
  if (!p.value("enabled", true)) {
    note += ", disabled";
  } else if (p.value("next_run", nlohmann::json()).is_string()) {
    note += ", next run " + p["next_run"].get<std::string>();
  }
  ctx.Note(note + "\n");
  return Status::OK();
}

}  // namespace

void RegisterPolicyCreate(CLI::App& policy, Context& ctx) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = policy.add_subcommand(
      "create", "Create a policy: snapshot volumes on a schedule, copy, keep N (prints its id)");
  cmd->add_option("--volume", o->volumes, "A volume to snapshot, by id (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--tag", o->tags,
                  "KEY=VALUE: snapshot every volume having all these tags at run time "
                  "(repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--every", o->every, "Run every DURATION: 30m, 1h, 12h, 1d");
  cmd->add_option("--cron", o->cron,
                  "Run on a cron schedule, in UTC: \"M H DOM MON DOW\", e.g. \"0 3 * * *\"");
  AddKeepFlags(*cmd, o->keep);
  cmd->add_option("--copy-to", o->copy_to,
                  "Also copy each snapshot to the repository at URL, with the same keep rules "
                  "there (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--copy-password-file", o->copy_password_file,
                  "The passphrase of the --copy-to repositories (the daemon reads it at each "
                  "run)");
  cmd->add_option("--snapshot-tag", o->snapshot_tags,
                  "KEY=VALUE tag on every snapshot the policy takes, besides "
                  "cairn:policy=POL (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--name", o->name, "A name for people");
  cmd->add_option("--description", o->description, "A description");
  cmd->add_flag("--disabled", o->disabled, "Create it disabled: no scheduled runs");
  cmd->callback([&ctx, o] { ctx.SetAction([&ctx, o] { return Run(ctx, *o); }); });
}

}  // namespace cairn::cli
