// cairn repo init [--block-size 512K] [--no-encryption] [--recycle-days 7]
//                 [--copy-params-from URL [--from-password-file F]]
//
// Creates a repository at --repo (a missing local directory is created) and
// prints its id on stdout. The passphrase comes from --password-file,
// CAIRN_PASSWORD, or two prompts that must agree. An existing repository is
// refused with exit 8. With --copy-params-from, the new repository takes the
// block size and chunk-id key of the repository at URL (opened with
// --from-password-file, CAIRN_FROM_PASSWORD_FILE, CAIRN_FROM_PASSWORD or a
// prompt), so the two compute the same chunk ids and `snapshot copy` between
// them moves sealed chunks without re-hashing; its encryption key is new.
#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/other_repository.h"
#include "core/units.h"
#include "repo/config.h"
#include "repo/repository.h"

namespace cairn::cli {
namespace {

struct Options {
  std::string block_size = "512K";
  bool block_size_given = false;
  bool no_encryption = false;
  std::string copy_params_from;
  std::string from_password_file;
  int recycle_days = repo::kDefaultRecycleDays;
};

// Takes block size and chunk-id key from the repository at
// o.copy_params_from into `init`.
Status CopyParams(Context& ctx, const Options& o, repo::InitOptions& init) {
  ASSIGN_OR_RETURN(auto params,
                   OpenOtherRepository(ctx, OtherRepository{o.copy_params_from, "parameter source",
                                                            o.from_password_file,
                                                            "CAIRN_FROM_PASSWORD",
                                                            "CAIRN_FROM_PASSWORD_FILE"}));
  const std::string where = params->Describe();
  const repo::RepoConfig& config = params->config();
  if (o.block_size_given && init.block_size != config.block_size) {
    return InvalidArgumentError(fmt::format(
        "--block-size {} differs from the block size {} of {}, which --copy-params-from copies; "
        "drop --block-size",
        o.block_size, FormatBytes(config.block_size), where));
  }
  init.block_size = config.block_size;
  if (!config.encrypted) {
    if (init.encrypted) {
      return InvalidArgumentError(
          where + " is unencrypted (its chunk ids are plain SHA-256): pass --no-encryption to "
                  "make a repository with the same chunk ids");
    }
    return Status::OK();
  }
  if (!init.encrypted) {
    return InvalidArgumentError(where +
                                " is encrypted: its chunk-id key needs an encrypted repository; "
                                "drop --no-encryption");
  }
  init.id_key = params->cipher().master_key().id_key;
  return Status::OK();
}

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
  init.recycle_days = o.recycle_days;
  if (!o.copy_params_from.empty()) RETURN_IF_ERROR(CopyParams(ctx, o, init));
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
                   {"encrypted", config.encrypted},
                   {"recycle_days", config.recycle_days},
                   {"params_from", o.copy_params_from.empty()
                                       ? nlohmann::json(nullptr)
                                       : nlohmann::json(o.copy_params_from)}});
    return Status::OK();
  }
  ctx.Print(config.id + "\n");
  ctx.Note("created cairn repository at " + where + " (block size " +
           FormatBytes(config.block_size) +
           (config.encrypted ? ", encrypted" : ", NOT encrypted") + ", recycle bin " +
           (config.recycle_days == 0 ? std::string("off")
                                     : std::to_string(config.recycle_days) + " days") +
           ")\n");
  if (!o.copy_params_from.empty()) {
    ctx.Note("block size and chunk ids shared with " + o.copy_params_from +
             " (snapshot copy between them sends chunks without re-hashing)\n");
  }
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
  cmd->add_option("--recycle-days", o->recycle_days,
                  "Days a deleted snapshot stays in the recycle bin (0 turns the bin off; "
                  "`repo set` changes it)")
      ->check(CLI::Range(0, repo::kMaxRecycleDays))
      ->capture_default_str();
  cmd->add_option("--copy-params-from", o->copy_params_from,
                  "Take block size and chunk-id key from this repository (so copies between "
                  "the two need no re-hashing)");
  cmd->add_option("--from-password-file", o->from_password_file,
                  "Passphrase file of the --copy-params-from repository")
      ->envname("CAIRN_FROM_PASSWORD_FILE");
  cmd->callback([&ctx, o, cmd] {
    o->block_size_given = cmd->get_option("--block-size")->count() > 0;
    ctx.SetAction([&ctx, o] { return Run(ctx, *o); });
  });
}

}  // namespace cairn::cli
