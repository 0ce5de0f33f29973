// cairn snapshot copy SNAP... --to URL [--to-password-file F] [--threads N]
//
// Copies snapshots from --repo into the repository at URL (EBS
// CopySnapshot), sending only the chunks the destination lacks; a snapshot
// already there is skipped. The destination's passphrase comes from
// --to-password-file, CAIRN_TO_PASSWORD_FILE, CAIRN_TO_PASSWORD or a prompt.
// Text mode prints each copied snapshot's id on stdout and a summary on
// stderr; JSON mode prints {"from","to","snapshots":[...],
// "snapshots_copied","snapshots_skipped","chunks_sent","bytes_sent",
// "chunks_present","seconds"}. Ctrl-C stops it (exit 130): snapshots
// finished before stay copied, the one in progress is not saved.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/copy_to.h"
#include "repo/copy.h"

namespace cairn::cli {
namespace {

struct Options {
  std::vector<std::string> snaps;
  std::string to;
  std::string to_password_file;
  size_t threads = 0;
};

Status Run(Context& ctx, const Options& o) {
  std::vector<repo::SnapshotId> ids;
  for (const std::string& s : o.snaps) {
    ASSIGN_OR_RETURN(repo::SnapshotId id, repo::SnapshotId::Parse(s));
    ids.push_back(id);
  }
  ASSIGN_OR_RETURN(auto from, ctx.OpenRepository());
  // Unknown snapshots fail here (exit 7), before the destination's prompt.
  for (const repo::SnapshotId& id : ids) RETURN_IF_ERROR(from->LoadSnapshotHeader(id).status());
  ASSIGN_OR_RETURN(
      TargetCopy copy,
      CopyToRepository(ctx, *from, CopyTarget{o.to, o.to_password_file}, ids, o.threads));
  const repo::CopyResult& result = copy.result;
  if (ctx.json()) {
    nlohmann::json snaps = nlohmann::json::array();
    for (const repo::SnapshotCopy& c : result.snapshots) snaps.push_back(SnapshotCopyJson(c));
    ctx.PrintJson({{"from", from->Describe()},
                   {"to", copy.to->Describe()},
                   {"snapshots", snaps},
                   {"snapshots_copied", result.copied},
                   {"snapshots_skipped", result.skipped},
                   {"chunks_sent", result.chunks_sent},
                   {"bytes_sent", result.bytes_sent},
                   {"chunks_present", result.chunks_present},
                   {"seconds", result.seconds},
                   {"retries", ctx.retries()}});
    return Status::OK();
  }
  PrintCopyText(ctx, result, copy.to->Describe());
  return Status::OK();
}

}  // namespace

void RegisterSnapshotCopy(CLI::App& snapshot, Context& ctx) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = snapshot.add_subcommand(
      "copy", "Copy snapshots to another repository, sending only what it lacks");
  cmd->add_option("SNAP", o->snaps, "Snapshot ids (snap-…)")->required();
  cmd->add_option("--to", o->to, "Destination repository URL or path")->required();
  cmd->add_option("--to-password-file", o->to_password_file,
                  "Read the destination's passphrase from the first line of this file")
      ->envname("CAIRN_TO_PASSWORD_FILE");
  cmd->add_option("--threads", o->threads,
                  "Hashing threads when chunks are re-keyed (default: cores)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([&ctx, o] { ctx.SetAction([&ctx, o] { return Run(ctx, *o); }); });
}

}  // namespace cairn::cli
