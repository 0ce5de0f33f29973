// cairn snapshot restore SNAP TARGET [--force] [--threads N]
//
// Writes the snapshot to TARGET: a file (created sparse) or a block device.
// Refuses (exit 8) a non-empty target without --force and a device smaller
// than the snapshot. Every chunk is verified; damage exits 6 naming the
// block. Ctrl-C stops it (exit 130).
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "core/units.h"
#include "repo/restore.h"

namespace cairn::cli {
namespace {

struct Options {
  std::string snap;
  std::string target;
  bool force = false;
  size_t threads = 0;
};

Status Run(Context& ctx, const Options& o) {
  ASSIGN_OR_RETURN(repo::SnapshotId id, repo::SnapshotId::Parse(o.snap));
  ASSIGN_OR_RETURN(auto repository, ctx.OpenRepository());
  ASSIGN_OR_RETURN(repo::SnapshotHeader header, repository->LoadSnapshotHeader(id));
  // RestoreSnapshot loads the index itself, under its lock.

  Progress progress(ctx.progress_mode(), "restore", header.size);
  repo::RestoreOptions options;
  options.force = o.force;
  options.threads = o.threads;
  options.readers = ctx.io_parallelism(ctx.repo_url);  // S3: one per connection
  options.progress = &progress;
  options.stop = ctx.stop_token();
  ctx.set_cancellable(true);
  auto result = repo::RestoreSnapshot(*repository, id, o.target, options);
  ctx.set_cancellable(false);
  progress.Finish();
  if (!result.ok()) return result.status();

  if (ctx.json()) {
    ctx.PrintJson({{"snapshot_id", id.str()},
                   {"target", o.target},
                   {"size", header.size},
                   {"bytes_written", result->bytes_written},
                   {"blocks_restored", result->blocks_restored},
                   {"seconds", result->seconds},
                   {"retries", ctx.retries()}});
    return Status::OK();
  }
  ctx.Note("restored " + id.str() + " to " + o.target + ": " + FormatBytes(header.size) +
           " (" + FormatBytes(result->bytes_written) + " written) in " +
           FormatSeconds(result->seconds) + " (" +
           FormatRate(header.size, result->seconds) + ")" +
           (ctx.retries() > 0 ? ", retries: " + std::to_string(ctx.retries()) : "") + "\n");
  return Status::OK();
}

}  // namespace

void RegisterSnapshotRestore(CLI::App& snapshot, Context& ctx) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = snapshot.add_subcommand(
      "restore", "Write a snapshot to a file (sparse) or a block device");
  cmd->add_option("SNAP", o->snap, "Snapshot id (snap-…)")->required();
  cmd->add_option("TARGET", o->target, "File or block device to write")->required();
  cmd->add_flag("--force", o->force, "Overwrite a non-empty target");
  cmd->add_option("--threads", o->threads, "Worker threads (default: cores)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([&ctx, o] { ctx.SetAction([&ctx, o] { return Run(ctx, *o); }); });
}

}  // namespace cairn::cli
