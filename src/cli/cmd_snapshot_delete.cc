// cairn snapshot delete SNAP... [--skip-recycle-bin]
//
// Moves snapshots into the repository's recycle bin (docs/format.md
// "deleted/"), from which `snapshot undelete` brings them back until their
// period ends; their data goes at the first `repo gc` after it. With the
// period 0 (`repo set --recycle-days 0`) or --skip-recycle-bin, the manifests
// are removed for good and their data goes at the next gc; --skip-recycle-bin
// also empties the bin of the ids that are in it. Every id is checked first:
// if one is malformed (exit 2) or absent (exit 7), nothing is deleted.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/recycle.h"
#include "repo/ids.h"
#include "repo/recycle_bin.h"

namespace cairn::cli {
namespace {

struct Options {
  std::vector<std::string> snaps;
  bool skip_recycle_bin = false;
};

Status Run(Context& ctx, const Options& o) {
  std::vector<repo::SnapshotId> ids;
  for (const std::string& snap : o.snaps) {
    ASSIGN_OR_RETURN(repo::SnapshotId id, repo::SnapshotId::Parse(snap));
    ids.push_back(id);
  }
  ASSIGN_OR_RETURN(repo::TimePoint now, CommandNow());
  ASSIGN_OR_RETURN(auto repository, ctx.OpenRepository());
  std::vector<bool> live(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    // Stat, not LoadSnapshotHeader: a damaged manifest can still be deleted.
    auto info = repository->backend().Stat(repo::SnapshotKey(ids[i]));
    if (info.ok()) {
      live[i] = true;
      continue;
    }
    if (info.status().code() != StatusCode::kNotFound) return info.status();
    const bool binned = repository->backend().Stat(repo::DeletedKey(ids[i])).ok();
    if (binned && o.skip_recycle_bin) continue;  // emptied from the bin below
    return NotFoundError("snapshot " + ids[i].str() + " not found in " + repository->Describe() +
                         (binned ? " (it is in the recycle bin already; --skip-recycle-bin "
                                   "removes it from there for good)"
                                 : "") +
                         "; nothing was deleted");
  }
  nlohmann::json deleted = nlohmann::json::array();
  nlohmann::json bin = nlohmann::json::array();
  nlohmann::json purged = nlohmann::json::array();
  for (size_t i = 0; i < ids.size(); ++i) {
    const repo::SnapshotId& id = ids[i];
    if (!live[i]) {
      RETURN_IF_ERROR_CTX(repo::PurgeFromRecycleBin(*repository, id),
                          "removing " + id.str() + " from the recycle bin");
      purged.push_back(id.str());
      if (!ctx.json()) ctx.Print("removed " + id.str() + " from the recycle bin for good\n");
      continue;
    }
    ASSIGN_OR_RETURN_CTX(Removal r, RemoveOrRecycle(*repository, id, o.skip_recycle_bin, now),
                         "deleting " + id.str());
    deleted.push_back(id.str());
    if (r.binned) bin.push_back({{"id", id.str()}, {"expires", r.expires}});
    if (ctx.json()) continue;
    if (r.binned) {
      ctx.Print("deleted " + id.str() + " (in the recycle bin until " + r.expires +
                ": `cairn snapshot undelete " + id.str() + "` brings it back)\n");
    } else {
      ctx.Print("deleted " + id.str() + "\n");
    }
  }
  if (ctx.json()) {
    ctx.PrintJson({{"deleted", deleted}, {"recycle_bin", bin}, {"purged", purged}});
  } else if (!bin.empty()) {
    ctx.Note("their data stays until the recycle bin period ends; `repo gc` frees it after that\n");
  } else {
    ctx.Note("run `cairn repo gc` to free the space their data used\n");
  }
  return Status::OK();
}

}  // namespace

void RegisterSnapshotDelete(CLI::App& snapshot, Context& ctx) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = snapshot.add_subcommand(
      "delete",
      "Move snapshots into the recycle bin (or remove them for good with --skip-recycle-bin)");
  cmd->add_option("SNAP", o->snaps, "Snapshot ids (snap-…)")->required();
  cmd->add_flag("--skip-recycle-bin", o->skip_recycle_bin,
                "Remove for good, not into the recycle bin; also empties the bin of these ids");
  cmd->callback([&ctx, o] { ctx.SetAction([&ctx, o] { return Run(ctx, *o); }); });
}

}  // namespace cairn::cli
