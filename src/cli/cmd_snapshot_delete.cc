// cairn snapshot delete SNAP...
//
// Removes snapshot manifests; their data goes at the next `repo gc`. Every id
// is checked first: if one is malformed (exit 2) or absent (exit 7), nothing
// is deleted.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "repo/ids.h"

namespace cairn::cli {
namespace {

Status Run(Context& ctx, const std::vector<std::string>& snaps) {
  std::vector<repo::SnapshotId> ids;
  for (const std::string& snap : snaps) {
    ASSIGN_OR_RETURN(repo::SnapshotId id, repo::SnapshotId::Parse(snap));
    ids.push_back(id);
  }
  ASSIGN_OR_RETURN(auto repository, ctx.OpenRepository());
  for (const auto& id : ids) {
    // Stat, not LoadSnapshotHeader: a damaged manifest can still be deleted.
    auto info = repository->backend().Stat(repo::SnapshotKey(id));
    if (!info.ok() && info.status().code() == StatusCode::kNotFound) {
      return NotFoundError("snapshot " + id.str() + " not found in " +
                           repository->Describe() + "; nothing was deleted");
    }
    RETURN_IF_ERROR(info.status());
  }
  nlohmann::json deleted = nlohmann::json::array();
  for (const auto& id : ids) {
    RETURN_IF_ERROR_CTX(repository->DeleteSnapshot(id), "deleting " + id.str());
    deleted.push_back(id.str());
    if (!ctx.json()) ctx.Print("deleted " + id.str() + "\n");
  }
  if (ctx.json()) {
    ctx.PrintJson({{"deleted", deleted}});
  } else {
    ctx.Note("run `cairn repo gc` to free the space their data used\n");
  }
  return Status::OK();
}

}  // namespace

void RegisterSnapshotDelete(CLI::App& snapshot, Context& ctx) {
  auto snaps = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = snapshot.add_subcommand(
      "delete", "Remove snapshots (their data goes at the next `repo gc`)");
  cmd->add_option("SNAP", *snaps, "Snapshot ids (snap-…)")->required();
  cmd->callback([&ctx, snaps] { ctx.SetAction([&ctx, snaps] { return Run(ctx, *snaps); }); });
}

}  // namespace cairn::cli
