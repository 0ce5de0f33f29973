// cairn repo gc [--dry-run] [--grace-period 1h]
//
// Removes data no snapshot uses: packs wholly unused are deleted, mostly
// unused ones repacked. Packs younger than the grace period are kept, so a
// backup running elsewhere loses nothing. Snapshots in the recycle bin keep
// their data until their period ends; after it, their deleted manifests go
// first, then the data only they used. --dry-run prints the plan only.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "cli/recycle.h"
#include "core/units.h"
#include "repo/gc.h"

namespace cairn::cli {
namespace {

struct Options {
  bool dry_run = false;
  std::string grace = "1h";
};

nlohmann::json PlanJson(const repo::GcPlan& p) {
  return {{"packs_to_remove", p.remove.size()},
          {"packs_to_repack", p.repack.size()},
          {"packs_kept_young", p.kept_young.size()},
          {"unindexed_packs", p.unindexed.size()},
          {"unindexed_packs_to_remove", p.remove_unindexed.size()},
          {"chunks_used", p.chunks_used},
          {"chunks_unused", p.chunks_unused},
          {"bytes_to_free", p.bytes_freed},
          {"bytes_to_repack", p.bytes_repacked},
          {"recycle_bin_expired", [&] {
             nlohmann::json ids = nlohmann::json::array();
             for (const auto& id : p.bin_expired) ids.push_back(id.str());
             return ids;
           }()},
          {"recycle_bin_kept", p.bin_kept}};
}

std::string PlanText(const repo::GcPlan& p) {
  std::string out;
  out += "chunks: " + std::to_string(p.chunks_used) + " used, " +
         std::to_string(p.chunks_unused) + " unused\n";
  out += "packs:  " + std::to_string(p.remove.size() + p.remove_unindexed.size()) +
         " to remove, " + std::to_string(p.repack.size()) + " to repack (" +
         FormatBytes(p.bytes_repacked) + " to copy), " +
         std::to_string(p.kept_young.size() + p.unindexed.size() -
                        p.remove_unindexed.size()) +
         " kept as younger than the grace period\n";
  if (!p.bin_expired.empty() || p.bin_kept > 0) {
    out += "recycle bin: " + std::to_string(p.bin_expired.size()) +
           " expired snapshots to remove, " + std::to_string(p.bin_kept) +
           " kept with their data until their period ends\n";
  }
  return out;
}

Status Run(Context& ctx, const Options& o) {
  repo::GcOptions options;
  ASSIGN_OR_RETURN(options.grace, ParseDuration(o.grace));
  options.dry_run = o.dry_run;
  ASSIGN_OR_RETURN(options.now, CommandNow());
  ASSIGN_OR_RETURN(auto repository, ctx.OpenRepository());
  ASSIGN_OR_RETURN(repo::GcResult result,
                   repo::CollectGarbage(*repository, options));
  if (ctx.json()) {
    nlohmann::json doc = {{"dry_run", o.dry_run}, {"plan", PlanJson(result.plan)}};
    if (!o.dry_run) {
      doc["packs_removed"] = result.packs_removed;
      doc["packs_written"] = result.packs_written;
      doc["bytes_freed"] = result.bytes_freed;
      doc["temporaries_removed"] = result.temporaries_removed;
      doc["seconds"] = result.seconds;
    }
    ctx.PrintJson(doc);
    return Status::OK();
  }
  std::string out = PlanText(result.plan);
  if (o.dry_run) {
    out += "dry run: would free " + FormatBytes(result.plan.bytes_freed) +
           "; nothing was changed\n";
  } else {
    out += "removed " + std::to_string(result.packs_removed) + " packs, wrote " +
           std::to_string(result.packs_written) + " packs, freed " +
           FormatBytes(result.bytes_freed) + " in " + FormatSeconds(result.seconds) +
           "\n";
  }
  ctx.Print(out);
  return Status::OK();
}

}  // namespace

void RegisterRepoGc(CLI::App& repo, Context& ctx) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = repo.add_subcommand("gc", "Remove data that no snapshot uses");
  cmd->add_flag("--dry-run", o->dry_run, "Print what would be removed; change nothing");
  cmd->add_option("--grace-period", o->grace,
                  "Keep packs younger than this (30s, 5m, 1h, 7d, 0)")
      ->capture_default_str();
  cmd->callback([&ctx, o] { ctx.SetAction([&ctx, o] { return Run(ctx, *o); }); });
}

}  // namespace cairn::cli
