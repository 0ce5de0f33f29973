// cairn repo rebuild-index
//
// Rebuilds the index from the pack headers (after index objects were lost or
// damaged). Packs whose header cannot be read are listed; then the exit code
// is 6 (data damaged) although the new index was written.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "repo/check.h"

namespace cairn::cli {
namespace {

Status Run(Context& ctx) {
  ASSIGN_OR_RETURN(auto repository, ctx.OpenRepository());
  ASSIGN_OR_RETURN(repo::RebuildIndexResult result, repo::RebuildIndex(*repository));
  if (ctx.json()) {
    ctx.PrintJson({{"packs", result.packs},
                   {"chunks", result.chunks},
                   {"unreadable_packs", result.unreadable}});
  } else {
    std::string out;
    for (const std::string& key : result.unreadable) {
      out += "error: " + key + ": pack header unreadable; its chunks are not indexed\n";
    }
    out += "rebuilt the index: " + std::to_string(result.packs) + " packs, " +
           std::to_string(result.chunks) + " chunks\n";
    ctx.Print(out);
  }
  if (!result.unreadable.empty()) {
    return CorruptionError(std::to_string(result.unreadable.size()) +
                           " packs have damaged headers (run `cairn repo check`)");
  }
  return Status::OK();
}

}  // namespace

void RegisterRepoRebuildIndex(CLI::App& repo, Context& ctx) {
  CLI::App* cmd = repo.add_subcommand("rebuild-index", "Rebuild the index from pack headers");
  cmd->callback([&ctx] { ctx.SetAction([&ctx] { return Run(ctx); }); });
}

}  // namespace cairn::cli
