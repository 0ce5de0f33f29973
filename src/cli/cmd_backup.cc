// cairn backup SOURCE|vol-… --to URL [--to URL]... [--to-password-file F]...
//              [--keep-local] [--description D] [--tag K=V]...
//              [--parent SNAP | --no-parent] [--threads N]
//
// The seed's backup procedure as one command: a temporary snapshot in the
// primary repository (--repo), copied to every --to repository, then deleted
// from the primary unless --keep-local.
//
//   1. snapshot  SOURCE a file or block device: as `snapshot create`;
//                vol-…: the daemon snapshots the volume (its repository is
//                the primary; --repo defaults to it) and we wait until the
//                upload is completed.
//   2. copy      to each --to in turn (cli/copy_to.h, as `snapshot copy`);
//                a target that fails does not stop the others. After a copy
//                the snapshot's manifest is read back from the target.
//   3. delete    the snapshot from the primary, only when every target holds
//                it. Otherwise it stays there and the command fails naming
//                each target that failed (exit code of the first failure).
//
// Passphrases of the targets: --to-password-file given once applies to all
// targets, given as often as --to pairs with them in order; without it
// CAIRN_TO_PASSWORD_FILE, CAIRN_TO_PASSWORD or a prompt per target.
// Text mode prints the snapshot id on stdout and one line per target on
// stderr; JSON mode prints {"snapshot_id","source","size","primary",
// "snapshot":{"bytes_read","bytes_new","seconds"},"targets":[{"url","to",
// "status":"copied"|"skipped"|"failed","chunks_sent","bytes_sent","seconds",
// "verified","error"}],"kept_local","deleted_from_primary","seconds"}.
#include <CLI/CLI.hpp>
#include <chrono>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/copy_to.h"
#include "cli/daemon_client.h"
#include "cli/file_backup.h"
#include "cli/output.h"
#include "cli/tags.h"
#include "cli/volume_snapshots.h"
#include "core/units.h"
#include "repo/backup.h"
#include "repo/source.h"

namespace cairn::cli {
namespace {

struct Options {
  std::string source;
  std::vector<std::string> to;
  std::vector<std::string> to_password_files;
  bool keep_local = false;
  std::string description;
  std::vector<std::string> tags;
  std::string parent;
  bool no_parent = false;
  size_t threads = 0;
};

// What step 1 made.
struct Taken {
  repo::SnapshotId id;
  std::string source;
  uint64_t size = 0;
  uint64_t bytes_read = 0;
  uint64_t bytes_new = 0;
  double seconds = 0;
};

struct TargetOutcome {
  std::string url;
  std::string to;  // the repository as it describes itself ("" if not opened)
  Status status;
  bool skipped = false;
  bool verified = false;
  uint64_t chunks_sent = 0;
  uint64_t bytes_sent = 0;
  double seconds = 0;
};

double Since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

Result<Taken> SnapshotFile(Context& ctx, const Options& o, repo::Repository& primary) {
  auto result = BackupFile(
      ctx, FileBackupFlags{o.source, o.description, o.tags, o.parent, o.no_parent, o.threads},
      &primary);
  if (!result.ok()) return result.status().WithContext("snapshot of " + o.source);
  const repo::SnapshotHeader& h = result->snapshot;
  return Taken{h.id, h.source, h.size, h.stats.bytes_read, h.stats.bytes_new, h.stats.seconds};
}

Result<Taken> SnapshotVolume(Context& ctx, const Options& o) {
  if (!o.parent.empty() || o.no_parent || o.threads != 0) {
    return InvalidArgumentError(
        "--parent, --no-parent and --threads apply to files and devices, not to volumes (the "
        "daemon chooses the parent: the volume's last completed snapshot)");
  }
  VolumeSnapshotOptions v;
  v.volumes.push_back(o.source);
  v.description = o.description;
  ASSIGN_OR_RETURN(v.tags, ParseTags(o.tags));
  v.wait = true;
  ASSIGN_OR_RETURN(std::vector<nlohmann::json> snaps, TakeVolumeSnapshots(ctx, v));
  if (snaps.size() != 1) return InternalError("the daemon answered no snapshot of " + o.source);
  const nlohmann::json& s = snaps.front();
  const std::string id_text = s.value("id", "");
  if (s.value("state", "") != "completed") {
    const auto err = s.find("error");
    return IoError("snapshot " + id_text + " of " + o.source + " ended in state " +
                   s.value("state", "") + ": " +
                   (err != s.end() && err->is_string() ? err->get<std::string>() : "no reason") +
                   "; nothing was copied");
  }
  ASSIGN_OR_RETURN(repo::SnapshotId id, repo::SnapshotId::Parse(id_text));
  const auto stats = s.value("stats", nlohmann::json::object());
  return Taken{id,
               o.source,
               s.value("size", uint64_t{0}),
               stats.value("bytes_read", uint64_t{0}),
               stats.value("bytes_new", uint64_t{0}),
               stats.value("seconds", 0.0)};
}

TargetOutcome CopyTo(Context& ctx, repo::Repository& primary, const Taken& taken,
                     const CopyTarget& target) {
  TargetOutcome out;
  out.url = target.url;
  auto copy = CopyToRepository(ctx, primary, target, {taken.id}, 0);
  if (!copy.ok()) {
    out.status = copy.status();
    return out;
  }
  out.to = copy->to->Describe();
  const repo::CopyResult& r = copy->result;
  out.skipped = r.skipped > 0;
  out.chunks_sent = r.chunks_sent;
  out.bytes_sent = r.bytes_sent;
  out.seconds = r.seconds;
  // Proof the target holds it: its manifest reads back (authenticated) with
  // the size the primary has.
  auto h = copy->to->LoadSnapshotHeader(taken.id);
  if (!h.ok()) {
    out.status = h.status().WithContext("reading back " + taken.id.str() + " after the copy");
  } else if (h->size != taken.size) {
    out.status = CorruptionError("snapshot " + taken.id.str() + " in " + out.to + " has size " +
                                 std::to_string(h->size) + ", the primary's has " +
                                 std::to_string(taken.size));
  } else {
    out.verified = true;
  }
  return out;
}

nlohmann::json OutcomeJson(const TargetOutcome& t) {
  return {{"url", t.url},
          {"to", t.to.empty() ? nlohmann::json(nullptr) : nlohmann::json(t.to)},
          {"status", !t.status.ok() ? "failed"
                     : t.skipped    ? "skipped"
                                    : "copied"},
          {"chunks_sent", t.chunks_sent},
          {"bytes_sent", t.bytes_sent},
          {"seconds", t.seconds},
          {"verified", t.verified},
          {"error", t.status.ok() ? nlohmann::json(nullptr) : nlohmann::json(t.status.message())}};
}

Status Run(Context& ctx, const Options& o) {
  if (o.to_password_files.size() > 1 && o.to_password_files.size() != o.to.size()) {
    return InvalidArgumentError("--to-password-file is given " +
                                std::to_string(o.to_password_files.size()) + " times for " +
                                std::to_string(o.to.size()) +
                                " --to targets: give it once (for all) or once per --to, in order");
  }
  const auto start = std::chrono::steady_clock::now();
  const bool volume = LooksLikeVolumeId(o.source);
  std::string daemon_repository;
  if (volume) {
    // The daemon snapshots into its own repository: that is the primary.
    ASSIGN_OR_RETURN(nlohmann::json daemon, CallDaemon("GET", "/v1/daemon"));
    daemon_repository = daemon.value("repository", "");
    if (ctx.repo_url.empty()) ctx.repo_url = daemon_repository;
  }
  ASSIGN_OR_RETURN(auto primary, ctx.OpenRepository());
  if (volume && primary->Describe() != daemon_repository) {
    return InvalidArgumentError("the daemon snapshots " + o.source + " into " + daemon_repository +
                                ", but -r names " + primary->Describe() +
                                ": leave -r out for volumes (or point it at the daemon's)");
  }
  Taken taken;
  if (volume) {
    ASSIGN_OR_RETURN(taken, SnapshotVolume(ctx, o));
  } else {
    ASSIGN_OR_RETURN(taken, SnapshotFile(ctx, o, *primary));
  }
  ctx.Note(taken.id.str() + " of " + taken.source + " in " + primary->Describe() + ": " +
           FormatBytes(taken.bytes_read) + " read, " + FormatBytes(taken.bytes_new) + " new in " +
           FormatSeconds(taken.seconds) + "\n");

  std::vector<TargetOutcome> outcomes;
  std::string failed;
  Status first_failure;
  for (size_t i = 0; i < o.to.size(); ++i) {
    CopyTarget target{o.to[i], o.to_password_files.empty()       ? ""
                               : o.to_password_files.size() == 1 ? o.to_password_files[0]
                                                                 : o.to_password_files[i]};
    outcomes.push_back(CopyTo(ctx, *primary, taken, target));
    const TargetOutcome& t = outcomes.back();
    if (!t.status.ok()) {
      if (first_failure.ok()) first_failure = t.status;
      failed += (failed.empty() ? "" : "; ") + t.url + ": " + t.status.message();
      ctx.Note("copy to " + t.url + " FAILED: " + t.status.message() + "\n");
      if (t.status.code() == StatusCode::kCancelled) break;
    } else {
      ctx.Note(std::string("copy to ") + t.to + (t.skipped ? ": already there" : ": ") +
               (t.skipped ? ""
                          : FormatBytes(t.bytes_sent) + " sent (" + std::to_string(t.chunks_sent) +
                                " chunks)") +
               " in " + FormatSeconds(t.seconds) + ", verified\n");
    }
  }

  const bool all_ok = first_failure.ok() && outcomes.size() == o.to.size();
  bool deleted = false;
  if (all_ok && !o.keep_local) {
    RETURN_IF_ERROR_CTX(primary->DeleteSnapshot(taken.id),
                        "deleting " + taken.id.str() + " from the primary " + primary->Describe() +
                            " after copying it to every target (the copies are complete)");
    deleted = true;
  }
  if (ctx.json()) {
    nlohmann::json targets = nlohmann::json::array();
    for (const TargetOutcome& t : outcomes) targets.push_back(OutcomeJson(t));
    ctx.PrintJson({{"snapshot_id", taken.id.str()},
                   {"source", taken.source},
                   {"size", taken.size},
                   {"primary", primary->Describe()},
                   {"snapshot",
                    {{"bytes_read", taken.bytes_read},
                     {"bytes_new", taken.bytes_new},
                     {"seconds", taken.seconds}}},
                   {"targets", targets},
                   {"kept_local", !deleted},
                   {"deleted_from_primary", deleted},
                   {"seconds", Since(start)},
                   {"retries", ctx.retries()}});
  } else {
    ctx.Print(taken.id.str() + "\n");
    if (deleted) {
      ctx.Note(taken.id.str() + " deleted from " + primary->Describe() +
               " (its data goes at the next `cairn repo gc`)\n");
    } else if (all_ok) {
      ctx.Note(taken.id.str() + " kept in " + primary->Describe() + " (--keep-local)\n");
    }
  }
  if (!all_ok) {
    return Status(first_failure.code(),
                  "backup " + taken.id.str() + " was not copied to every target (" + failed +
                      "); it is kept in the primary repository " + primary->Describe() +
                      ": fix the target and run `cairn -r " + primary->Describe() +
                      " snapshot copy " + taken.id.str() + " --to URL`, then delete it");
  }
  return Status::OK();
}

}  // namespace

void RegisterBackup(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "backup", "Snapshot, copy to other repositories, then delete the snapshot from the primary");
  cmd->add_option("SOURCE", o->source, "A regular file, a block device, or a volume (vol-…)")
      ->required();
  cmd->add_option("--to", o->to, "Target repository URL or path (repeatable)")
      ->required()
      ->take_all()
      ->allow_extra_args(false);
  cmd->add_option("--to-password-file", o->to_password_files,
                  "Passphrase file of the targets: once for all, or once per --to in order")
      ->envname("CAIRN_TO_PASSWORD_FILE")
      ->take_all()
      ->allow_extra_args(false);
  cmd->add_flag("--keep-local", o->keep_local,
                "Keep the snapshot in the primary repository after the copies");
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
