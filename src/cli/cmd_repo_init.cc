// cairn repo init [--block-size 512K] [--no-encryption]
//
// Creates a repository at --repo (a missing local directory is created) and
// prints its id on stdout. The passphrase comes from --password-file,
// CAIRN_PASSWORD, or two prompts that must agree. An existing repository is
// refused with exit 8.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "core/units.h"
#include "repo/config.h"
#include "repo/repository.h"

namespace cairn::cli {
namespace {

struct Options {
  std::string block_size = "512K";
  bool no_encryption = false;
};

Status Run(Context& ctx, const Options& o) {
  ASSIGN_OR_RETURN(uint64_t block_size, ParseSize(o.block_size));
  RETURN_IF_ERROR(repo::ValidateBlockSize(block_size));
  ASSIGN_OR_RETURN(auto backend, ctx.OpenBackend(/*create=*/true));
  const std::string where = backend->Describe();
  if (backend->Stat(repo::kConfigKey).ok()) {  // before asking a passphrase
    return AlreadyExistsError("a cairn repository already exists at " + where);
  }
  repo::InitOptions init;
  init.block_size = static_cast<uint32_t>(block_size);
  init.encrypted = !o.no_encryption;
  if (init.encrypted) {
    ASSIGN_OR_RETURN(init.passphrase,
                     ctx.ReadNewPassphrase(ctx.password_file, "CAIRN_PASSWORD"));
  }
  ASSIGN_OR_RETURN(auto repository,
                   repo::Repository::Init(std::move(backend), init));
  const repo::RepoConfig& config = repository->config();
  if (ctx.json()) {
    ctx.PrintJson({{"id", config.id},
                   {"repository", where},
                   {"block_size", config.block_size},
                   {"encrypted", config.encrypted}});
    return Status::OK();
  }
  ctx.Print(config.id + "\n");
  ctx.Note("created cairn repository at " + where + " (block size " +
           FormatBytes(config.block_size) +
           (config.encrypted ? ", encrypted" : ", NOT encrypted") + ")\n");
  if (config.encrypted) {
    ctx.Note("keep the passphrase safe: without it the data cannot be read\n");
  }
  return Status::OK();
}

}  // namespace

void RegisterRepoInit(CLI::App& repo, Context& ctx) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = repo.add_subcommand("init", "Create a repository (prints its id)");
  cmd->add_option("--block-size", o->block_size,
                  "Block size, a power of two from 64K to 8M (fixed for the repository)")
      ->capture_default_str();
  cmd->add_flag("--no-encryption", o->no_encryption,
                "Store chunks unencrypted (chunk ids are plain SHA-256)");
  cmd->callback([&ctx, o] { ctx.SetAction([&ctx, o] { return Run(ctx, *o); }); });
}

}  // namespace cairn::cli
