// cairn snapshot create SOURCE [--description D] [--tag K=V]...
//                              [--parent SNAP | --no-parent] [--threads N]
// cairn snapshot create vol-… [vol-…]... [--description D] [--tag K=V]... [--wait]
//
// A `vol-…` SOURCE is a volume of the running daemon (cli/volume_snapshots.h):
// the snapshot is taken at once (several volumes at one instant) and
// uploaded in the background; the id is printed while it is `pending`.
//
// Backs up a regular file or block device. Text mode prints the snapshot id
// on stdout and a one-line summary on stderr (unless -q); JSON mode prints
// {"snapshot_id","source","size","bytes_read","bytes_new","bytes_stored",
// "chunks_new","seconds","retries","parent"}. Ctrl-C stops it (exit 130) without
// saving anything.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/file_backup.h"
#include "cli/output.h"
#include "cli/tags.h"
#include "cli/volume_snapshots.h"
#include "core/log.h"
#include "core/units.h"
#include "repo/backup.h"
#include "repo/source.h"

namespace cairn::cli {
namespace {

struct Options {
  std::string source;
  std::vector<std::string> more_volumes;  // vol-… after the first
  bool wait = false;                      // volumes: until uploaded
  std::string description;
  std::vector<std::string> tags;
  std::string parent;
  bool no_parent = false;
  size_t threads = 0;
};

Status Run(Context& ctx, const Options& o) {
  if (o.source.starts_with("vol-")) {
    VolumeSnapshotOptions v;
    v.volumes.push_back(o.source);
    v.volumes.insert(v.volumes.end(), o.more_volumes.begin(), o.more_volumes.end());
    v.description = o.description;
    ASSIGN_OR_RETURN(v.tags, ParseTags(o.tags));
    v.wait = o.wait;
    if (!o.parent.empty() || o.no_parent || o.threads != 0) {
      return InvalidArgumentError(
          "--parent, --no-parent and --threads apply to files and devices, not to volumes (the "
          "daemon chooses the parent: the volume's last completed snapshot)");
    }
    return CreateVolumeSnapshots(ctx, v);
  }
  if (!o.more_volumes.empty()) {
    return InvalidArgumentError("several SOURCEs are allowed only for volumes (vol-…)");
  }
  auto result = BackupFile(
      ctx, FileBackupFlags{o.source, o.description, o.tags, o.parent, o.no_parent, o.threads},
      nullptr);
  if (!result.ok()) return result.status();

  const repo::SnapshotHeader& h = result->snapshot;
  const repo::SnapshotStats& s = h.stats;
  if (ctx.json()) {
    ctx.PrintJson({{"snapshot_id", h.id.str()},
                   {"source", h.source},
                   {"size", h.size},
                   {"bytes_read", s.bytes_read},
                   {"bytes_new", s.bytes_new},
                   {"bytes_stored", s.bytes_stored},
                   {"chunks_new", s.chunks_new},
                   {"seconds", s.seconds},
                   {"retries", ctx.retries()},
                   {"parent", h.parent && !h.parent->empty() ? nlohmann::json(h.parent->str())
                                                             : nlohmann::json(nullptr)}});
    return Status::OK();
  }
  ctx.Print(h.id.str() + "\n");
  ctx.Note(h.id.str() + " " + FormatBytes(s.bytes_read) + " read, " + FormatBytes(s.bytes_new) +
           " new, " + FormatBytes(s.bytes_stored) + " stored in " + FormatSeconds(s.seconds) +
           " (" + FormatRate(s.bytes_read, s.seconds) + ")" +
           (h.parent && !h.parent->empty() ? ", parent " + h.parent->str() : "") +
           (ctx.retries() > 0 ? ", retries: " + std::to_string(ctx.retries()) : "") + "\n");
  return Status::OK();
}

}  // namespace

void RegisterSnapshotCreate(CLI::App& snapshot, Context& ctx) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd =
      snapshot.add_subcommand("create", "Back up a file or block device (prints the snapshot id)");
  cmd->add_option("SOURCE", o->source, "A regular file, a block device, or a volume (vol-…)")
      ->required();
  cmd->add_option("VOLUMES", o->more_volumes, "More volumes to snapshot at the same instant");
  cmd->add_flag("--wait", o->wait, "Volumes: wait until the upload is completed");
  cmd->add_option("--description", o->description, "Free text stored with the snapshot");
  cmd->add_option("--tag", o->tags, "KEY=VALUE (repeatable)")->take_all()->allow_extra_args(false);
  auto* parent = cmd->add_option(
      "--parent", o->parent, "Compare against this snapshot (default: newest of the same source)");
  cmd->add_flag("--no-parent", o->no_parent,
                "No parent: compare blocks with the whole repository only")
      ->excludes(parent);
  cmd->add_option("--threads", o->threads, "Worker threads (default: cores)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([&ctx, o] { ctx.SetAction([&ctx, o] { return Run(ctx, *o); }); });
}

}  // namespace cairn::cli
