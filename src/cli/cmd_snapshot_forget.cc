// cairn snapshot forget [--keep-last N] [--keep-hourly N] [--keep-daily N]
//                       [--keep-weekly N] [--keep-monthly N] [--keep-yearly N]
//                       [--source S] [--tag K=V]... [--dry-run]
//                       [--skip-recycle-bin] [--prune]
//
// Applies a retention policy (repo/retention.h: restic's semantics, UTC
// buckets) to each group of snapshots (same host and source; only those with
// every --tag, of --source when given): prints per group what is kept and
// why, and what is removed; removes (into the recycle bin, like `snapshot
// delete`) unless --dry-run; --prune runs `repo gc` afterwards. No rule at
// all is refused: it would remove everything.
#include <CLI/CLI.hpp>
#include <filesystem>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/keep_flags.h"
#include "cli/output.h"
#include "cli/recycle.h"
#include "cli/tags.h"
#include "core/log.h"
#include "core/units.h"
#include "repo/gc.h"
#include "repo/retention.h"

namespace cairn::cli {
namespace {

struct Options {
  repo::KeepRules rules;
  std::string source;
  std::vector<std::string> tags;
  bool dry_run = false;
  bool skip_recycle_bin = false;
  bool prune = false;
};

// --source matches the recorded name as given, or as an absolute path (as
// in `snapshot list`).
bool SourceMatches(const std::string& recorded, const std::string& wanted) {
  if (wanted.empty() || recorded == wanted) return true;
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(wanted, ec).lexically_normal();
  return !ec && recorded == absolute.string();
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

Status Run(Context& ctx, const Options& o) {
  RETURN_IF_ERROR(o.rules.Validate());
  if (o.rules.empty()) {
    return InvalidArgumentError(
        "snapshot forget: no --keep-… rule given, so every snapshot would be removed; give at "
        "least one (--keep-last 1 keeps the newest of each source)");
  }
  ASSIGN_OR_RETURN(auto wanted_tags, ParseTags(o.tags));
  ASSIGN_OR_RETURN(repo::TimePoint now, CommandNow());
  ASSIGN_OR_RETURN(auto repository, ctx.OpenRepository());
  ASSIGN_OR_RETURN(repo::Repository::SnapshotList list, repository->ListSnapshots());
  for (const auto& [key, why] : list.damaged) {
    LogWarning(key + " unreadable, left alone: " + why.message() + " (run `cairn repo check`)");
  }
  std::vector<repo::SnapshotHeader> candidates;
  for (const auto& h : list.snapshots) {
    if (SourceMatches(h.source, o.source)) candidates.push_back(h);
  }
  const std::vector<repo::RetentionGroup> groups =
      repo::ApplyRetentionByGroup(candidates, o.rules, wanted_tags);

  nlohmann::json groups_doc = nlohmann::json::array();
  std::string text;
  std::vector<repo::SnapshotId> doomed;
  for (const repo::RetentionGroup& g : groups) {
    nlohmann::json keep = nlohmann::json::array(), remove = nlohmann::json::array();
    std::vector<std::vector<std::string>> rows;
    for (const repo::RetentionDecision& d : g.decisions) {
      const repo::SnapshotHeader& h = d.snapshot;
      if (d.keep) {
        keep.push_back({{"id", h.id.str()}, {"created", h.created}, {"reasons", d.reasons}});
      } else {
        remove.push_back({{"id", h.id.str()}, {"created", h.created}});
        doomed.push_back(h.id);
      }
      rows.push_back({h.id.str(), h.created, d.keep ? "keep" : "remove", Join(d.reasons)});
    }
    groups_doc.push_back(
        {{"host", g.host}, {"source", g.source}, {"keep", keep}, {"remove", remove}});
    text += "host " + g.host + ", source " + g.source + ": keep " + std::to_string(keep.size()) +
            ", remove " + std::to_string(remove.size()) + "\n";
    text += FormatTable({"id", "created", "action", "reasons"}, rows) + "\n";
  }
  if (!ctx.json()) {
    ctx.Print(text);
    ctx.Note("rules: " + o.rules.Describe() + " (buckets in UTC); " +
             std::to_string(doomed.size()) + " snapshot" + (doomed.size() == 1 ? "" : "s") +
             " to remove" + (o.dry_run ? " (dry run: nothing was changed)" : "") + "\n");
  }

  nlohmann::json removed = nlohmann::json::array();
  if (!o.dry_run) {
    for (const repo::SnapshotId& id : doomed) {
      ASSIGN_OR_RETURN_CTX(Removal r, RemoveOrRecycle(*repository, id, o.skip_recycle_bin, now),
                           "forget: removing " + id.str());
      removed.push_back(
          {{"id", id.str()},
           {"recycle_bin_until", r.binned ? nlohmann::json(r.expires) : nlohmann::json(nullptr)}});
      if (!ctx.json()) {
        ctx.Print("removed " + id.str() +
                  (r.binned ? " (in the recycle bin until " + r.expires + ")" : "") + "\n");
      }
    }
  }
  nlohmann::json gc_doc = nullptr;
  if (o.prune && !o.dry_run) {
    repo::GcOptions gc;
    gc.now = now;
    ASSIGN_OR_RETURN_CTX(repo::GcResult result, repo::CollectGarbage(*repository, gc),
                         "forget --prune");
    gc_doc = {{"packs_removed", result.packs_removed},
              {"packs_written", result.packs_written},
              {"bytes_freed", result.bytes_freed},
              {"recycle_bin_expired", result.plan.bin_expired.size()},
              {"recycle_bin_kept", result.plan.bin_kept}};
    if (!ctx.json()) {
      ctx.Note("gc: removed " + std::to_string(result.packs_removed) + " packs, freed " +
               FormatBytes(result.bytes_freed) +
               (result.plan.bin_kept > 0
                    ? "; the data of " + std::to_string(result.plan.bin_kept) +
                          " snapshots in the recycle bin stays until their period ends"
                    : "") +
               "\n");
    }
  }
  if (ctx.json()) {
    ctx.PrintJson({{"dry_run", o.dry_run},
                   {"rules",
                    {{"last", o.rules.last},
                     {"hourly", o.rules.hourly},
                     {"daily", o.rules.daily},
                     {"weekly", o.rules.weekly},
                     {"monthly", o.rules.monthly},
                     {"yearly", o.rules.yearly}}},
                   {"groups", groups_doc},
                   {"removed", removed},
                   {"gc", gc_doc}});
  }
  return Status::OK();
}

}  // namespace

void RegisterSnapshotForget(CLI::App& snapshot, Context& ctx) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = snapshot.add_subcommand(
      "forget", "Remove snapshots a retention policy does not keep (per host and source)");
  AddKeepFlags(*cmd, o->rules);
  cmd->add_option("--source", o->source, "Only snapshots of this source");
  cmd->add_option("--tag", o->tags, "Only snapshots with this KEY=VALUE tag (repeatable)")
      ->allow_extra_args(false);
  cmd->add_flag("--dry-run", o->dry_run, "Print what would be kept and removed; change nothing");
  cmd->add_flag("--skip-recycle-bin", o->skip_recycle_bin,
                "Remove for good instead of into the recycle bin");
  cmd->add_flag("--prune", o->prune, "Run `repo gc` afterwards");
  cmd->callback([&ctx, o] { ctx.SetAction([&ctx, o] { return Run(ctx, *o); }); });
}

}  // namespace cairn::cli
