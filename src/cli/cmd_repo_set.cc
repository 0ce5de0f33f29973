// cairn repo set --recycle-days N
//
// Changes the repository's settable parameters; today only the recycle bin
// period (days a deleted snapshot can be undeleted; 0 turns the bin off). It
// is a field of the `config` object (docs/format.md), rewritten atomically.
// Snapshots already in the bin keep the expiry they were given.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "repo/config.h"

namespace cairn::cli {
namespace {

struct Options {
  int recycle_days = -1;  // -1: not given
};

Status Run(Context& ctx, const Options& o) {
  if (o.recycle_days < 0) {
    return InvalidArgumentError("repo set: nothing to set; give --recycle-days N");
  }
  RETURN_IF_ERROR(repo::ValidateRecycleDays(o.recycle_days));
  ASSIGN_OR_RETURN(auto repository, ctx.OpenRepository());
  const int before = repository->config().recycle_days;
  RETURN_IF_ERROR(repository->SetRecycleDays(o.recycle_days));
  if (ctx.json()) {
    ctx.PrintJson({{"recycle_days", o.recycle_days}, {"previous_recycle_days", before}});
    return Status::OK();
  }
  ctx.Print(o.recycle_days == 0
                ? "recycle bin off: `snapshot delete` removes snapshots for good\n"
                : "recycle bin period: " + std::to_string(o.recycle_days) + " days\n");
  if (before != o.recycle_days) {
    ctx.Note("was " + std::to_string(before) +
             " days; snapshots already in the bin keep their expiry\n");
  }
  return Status::OK();
}

}  // namespace

void RegisterRepoSet(CLI::App& repo, Context& ctx) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = repo.add_subcommand("set", "Change repository settings (the recycle bin period)");
  cmd->add_option("--recycle-days", o->recycle_days,
                  "Days a deleted snapshot stays in the recycle bin (0 turns the bin off)")
      ->check(CLI::Range(0, repo::kMaxRecycleDays));
  cmd->callback([&ctx, o] { ctx.SetAction([&ctx, o] { return Run(ctx, *o); }); });
}

}  // namespace cairn::cli
