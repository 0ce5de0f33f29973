// cairn repo unlock [--all]
//
// Removes stale locks (past their lease, or held by a dead process on this
// host); with --all every lock, which is only safe when no other cairn
// process uses the repository. Needs no passphrase: locks are plaintext.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "core/units.h"
#include "repo/lock.h"

namespace cairn::cli {
namespace {

Status Run(Context& ctx, bool all) {
  ASSIGN_OR_RETURN(auto backend, ctx.OpenExistingBackend());
  ASSIGN_OR_RETURN(size_t removed, repo::RemoveLocks(*backend, all));
  ASSIGN_OR_RETURN(std::vector<repo::LockInfo> left, repo::ListLocks(*backend));
  if (ctx.json()) {
    nlohmann::json remaining = nlohmann::json::array();
    for (const auto& lock : left) {
      remaining.push_back({{"id", lock.id},
                           {"host", lock.host},
                           {"pid", lock.pid},
                           {"exclusive", lock.exclusive},
                           {"operation", lock.operation},
                           {"created", FormatTimeUtc(lock.created)},
                           {"expires", FormatTimeUtc(lock.expires)}});
    }
    ctx.PrintJson({{"removed", removed}, {"remaining", remaining}});
    return Status::OK();
  }
  std::string out = "removed " + std::to_string(removed) + " lock" +
                    (removed == 1 ? "" : "s") + "\n";
  for (const auto& lock : left) out += "still held: " + lock.Describe() + "\n";
  ctx.Print(out);
  return Status::OK();
}

}  // namespace

void RegisterRepoUnlock(CLI::App& repo, Context& ctx) {
  auto all = std::make_shared<bool>(false);
  CLI::App* cmd = repo.add_subcommand("unlock", "Remove stale locks (all locks with --all)");
  cmd->add_flag("--all", *all, "Remove every lock, not only stale ones");
  cmd->callback([&ctx, all] { ctx.SetAction([&ctx, all] { return Run(ctx, *all); }); });
}

}  // namespace cairn::cli
