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
#include <set>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/other_repository.h"
#include "cli/output.h"
#include "core/units.h"
#include "repo/copy.h"

namespace cairn::cli {
namespace {

struct Options {
  std::vector<std::string> snaps;
  std::string to;
  std::string to_password_file;
  size_t threads = 0;
};

nlohmann::json CopyJson(const repo::SnapshotCopy& c) {
  return {{"snapshot_id", c.id.str()},
          {"status", c.skipped ? "skipped" : "copied"},
          {"path", c.skipped ? nlohmann::json(nullptr) : nlohmann::json(c.fast ? "fast" : "rekey")},
          {"size", c.size},
          {"chunks_sent", c.chunks_sent},
          {"bytes_sent", c.bytes_sent},
          {"chunks_present", c.chunks_present},
          {"bytes_read", c.bytes_read},
          {"seconds", c.seconds}};
}

void PrintText(Context& ctx, const repo::CopyResult& r, const std::string& to) {
  for (const repo::SnapshotCopy& c : r.snapshots) {
    if (c.skipped) {
      ctx.Note(c.id.str() + " is already in " + to + ": skipped\n");
      continue;
    }
    ctx.Print(c.id.str() + "\n");
    ctx.Note(c.id.str() + " copied" + (c.fast ? "" : " (re-keyed)") + ": " +
             std::to_string(c.chunks_sent) + " chunks sent (" + FormatBytes(c.bytes_sent) + "), " +
             std::to_string(c.chunks_present) + " already there, in " + FormatSeconds(c.seconds) +
             "\n");
  }
  ctx.Note(std::to_string(r.copied) + " copied, " + std::to_string(r.skipped) + " skipped to " +
           to + ": " + std::to_string(r.chunks_sent) + " chunks (" + FormatBytes(r.bytes_sent) +
           ") sent in " + FormatSeconds(r.seconds) + " (" + FormatRate(r.bytes_sent, r.seconds) +
           ")\n");
}

Status Run(Context& ctx, const Options& o) {
  std::vector<repo::SnapshotId> ids;
  for (const std::string& s : o.snaps) {
    ASSIGN_OR_RETURN(repo::SnapshotId id, repo::SnapshotId::Parse(s));
    ids.push_back(id);
  }
  ASSIGN_OR_RETURN(auto from, ctx.OpenRepository());
  // Unknown snapshots fail here (exit 7), before the destination's prompt.
  uint64_t total = 0;
  for (const repo::SnapshotId& id : std::set<repo::SnapshotId>(ids.begin(), ids.end())) {
    ASSIGN_OR_RETURN(repo::SnapshotHeader h, from->LoadSnapshotHeader(id));
    total += h.size;
  }
  ASSIGN_OR_RETURN(
      auto to,
      OpenOtherRepository(ctx, OtherRepository{o.to, "destination", o.to_password_file,
                                               "CAIRN_TO_PASSWORD", "CAIRN_TO_PASSWORD_FILE"}));

  Progress progress(ctx.progress_mode(), "copy", total);
  repo::CopyOptions options;
  options.threads = o.threads;
  options.readers = ctx.io_parallelism(ctx.repo_url);  // S3: one per connection
  options.uploaders = ctx.io_parallelism(o.to);        // S3: one per connection
  options.progress = &progress;
  options.stop = ctx.stop_token();
  ctx.set_cancellable(true);
  auto result = repo::CopySnapshots(*from, *to, ids, options);
  ctx.set_cancellable(false);
  progress.Finish();
  if (!result.ok()) return result.status();

  if (ctx.json()) {
    nlohmann::json snaps = nlohmann::json::array();
    for (const repo::SnapshotCopy& c : result->snapshots) snaps.push_back(CopyJson(c));
    ctx.PrintJson({{"from", from->Describe()},
                   {"to", to->Describe()},
                   {"snapshots", snaps},
                   {"snapshots_copied", result->copied},
                   {"snapshots_skipped", result->skipped},
                   {"chunks_sent", result->chunks_sent},
                   {"bytes_sent", result->bytes_sent},
                   {"chunks_present", result->chunks_present},
                   {"seconds", result->seconds},
                   {"retries", ctx.retries()}});
    return Status::OK();
  }
  PrintText(ctx, *result, to->Describe());
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
