// cairn snapshot undelete SNAP...
//
// Brings snapshots back from the recycle bin (repo/recycle_bin.h), byte for
// byte as they were, under a shared lock. Every id is checked first: one that
// is not in the bin, or whose period ended, is exit 7 and nothing is
// undeleted.
#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "cli/recycle.h"
#include "repo/recycle_bin.h"

namespace cairn::cli {
namespace {

Status Run(Context& ctx, const std::vector<std::string>& snaps) {
  std::vector<repo::SnapshotId> ids;
  for (const std::string& snap : snaps) {
    ASSIGN_OR_RETURN(repo::SnapshotId id, repo::SnapshotId::Parse(snap));
    ids.push_back(id);
  }
  ASSIGN_OR_RETURN(repo::TimePoint now, CommandNow());
  ASSIGN_OR_RETURN(auto repository, ctx.OpenRepository());
  for (const repo::SnapshotId& id : ids) {
    Result<repo::BinEntry> e = repo::LoadBinEntry(*repository, id);
    if (!e.ok()) {
      if (e.status().code() == StatusCode::kNotFound &&
          repository->backend().Stat(repo::SnapshotKey(id)).ok()) {
        return NotFoundError(
            fmt::format("snapshot {} is not deleted (it is not in the recycle "
                        "bin of {}); nothing was undeleted",
                        id.str(), repository->Describe()));
      }
      return e.status().WithContext("nothing was undeleted");
    }
    if (e->record.Expired(now)) {
      return NotFoundError(fmt::format(
          "snapshot {} expired from the recycle bin on {} (deleted {}); `cairn repo gc` removes "
          "it and its data, and it can no longer be undeleted; nothing was undeleted",
          id.str(), e->record.expires, e->record.deleted));
    }
  }
  nlohmann::json doc = nlohmann::json::array();
  for (const repo::SnapshotId& id : ids) {
    ASSIGN_OR_RETURN(repo::SnapshotHeader h, repo::UndeleteSnapshot(*repository, id, now));
    doc.push_back(SnapshotHeaderJson(h));
    if (!ctx.json())
      ctx.Print("undeleted " + id.str() + " (" + h.source + ", " + h.created + ")\n");
  }
  if (ctx.json()) ctx.PrintJson({{"undeleted", doc}});
  return Status::OK();
}

}  // namespace

void RegisterSnapshotUndelete(CLI::App& snapshot, Context& ctx) {
  auto snaps = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = snapshot.add_subcommand(
      "undelete", "Bring deleted snapshots back from the recycle bin before their period ends");
  cmd->add_option("SNAP", *snaps, "Snapshot ids (snap-…); `snapshot list --deleted` lists them")
      ->required();
  cmd->callback([&ctx, snaps] { ctx.SetAction([&ctx, snaps] { return Run(ctx, *snaps); }); });
}

}  // namespace cairn::cli
