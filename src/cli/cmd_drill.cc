// cairn drill SNAP [--keep] [--export FILE] [--work-dir DIR] [--partition N]
//
// Proves that a snapshot of --repo restores (service/drill.h): a volume is
// made from it in a temporary directory (lazy hydration), checked with
// e2fsck -fn through NBD and nbdfuse, its files exported to a tar.gz, every
// block verified against the manifest, then removed (unless --keep). No
// daemon is needed. Exit 0 only if every step succeeded and fsck was clean;
// otherwise the first failure's exit code (6 for damaged data, naming the
// block, its offset and the pack).
//
// Text: the report on stdout. JSON: {"snapshot_id","repository","passed",
// "size","block_size","partition","time_to_first_byte","time_until_usable",
// "time_to_full_hydration","bytes_hydrated","fsck":{"clean","exit_code",
// "meaning","summary"},"files","directories","symlinks","file_bytes",
// "archive","archive_bytes","blocks_total","blocks_verified","blocks_zero",
// "blocks_failed","steps":[{"step","ok","seconds","error"}],"work_dir",
// "seconds","error"}; times in seconds from the start (null when not
// reached), "archive"/"work_dir" null when removed.
#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "core/units.h"
#include "service/drill.h"

namespace cairn::cli {
namespace {

struct Options {
  std::string snap;
  bool keep = false;
  std::string export_path;
  std::string work_dir;
  int partition = 0;
};

nlohmann::json Opt(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

std::string OptText(const std::optional<double>& v) {
  return v ? fmt::format("{:.3f} s", *v) : std::string("not reached");
}

nlohmann::json ReportJson(const service::DrillReport& r, const std::string& repository,
                          bool archive_kept) {
  nlohmann::json steps = nlohmann::json::array();
  for (const service::DrillStep& s : r.steps) {
    steps.push_back(
        {{"step", s.name},
         {"ok", s.status.ok()},
         {"seconds", s.seconds},
         {"error", s.status.ok() ? nlohmann::json(nullptr) : nlohmann::json(s.status.message())}});
  }
  nlohmann::json fsck = nullptr;
  if (r.fsck) {
    fsck = {{"clean", r.fsck->clean},
            {"exit_code", r.fsck->exit_code},
            {"meaning", r.fsck->meaning},
            {"summary", r.fsck->summary}};
  }
  const Status failure = r.first_failure();
  return {{"snapshot_id", r.snapshot.str()},
          {"repository", repository},
          {"passed", r.passed},
          {"size", r.size},
          {"block_size", r.block_size},
          {"partition", r.partition},
          {"time_to_first_byte", Opt(r.time_to_first_byte)},
          {"time_until_usable", Opt(r.time_until_usable)},
          {"time_to_full_hydration", Opt(r.time_to_full_hydration)},
          {"bytes_hydrated", r.bytes_hydrated},
          {"fsck", fsck},
          {"files", r.files},
          {"directories", r.directories},
          {"symlinks", r.symlinks},
          {"file_bytes", r.file_bytes},
          {"archive", archive_kept ? nlohmann::json(r.archive) : nlohmann::json(nullptr)},
          {"archive_bytes", r.archive_bytes},
          {"blocks_total", r.blocks_total},
          {"blocks_verified", r.blocks_verified},
          {"blocks_zero", r.blocks_zero},
          {"blocks_failed", r.blocks_failed},
          {"steps", steps},
          {"work_dir", r.work_dir.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.work_dir)},
          {"seconds", r.seconds},
          {"error", failure.ok() ? nlohmann::json(nullptr) : nlohmann::json(failure.message())}};
}

void PrintText(Context& ctx, const service::DrillReport& r, const std::string& repository,
               bool archive_kept) {
  std::string out = "drill of " + r.snapshot.str() + " from " + repository + ": " +
                    (r.passed ? "PASSED" : "FAILED") + "\n";
  out += "  time until usable       " + OptText(r.time_until_usable) + "\n";
  out += "  time to first byte      " + OptText(r.time_to_first_byte) + "\n";
  out += "  time to full hydration  " + OptText(r.time_to_full_hydration) + " (" +
         FormatBytes(r.bytes_hydrated) + " fetched)\n";
  if (r.partition > 0) out += "  partition               " + std::to_string(r.partition) + "\n";
  out += "  fsck                    " +
         (r.fsck ? std::string(r.fsck->clean ? "clean" : "NOT CLEAN") + " (e2fsck -fn exit " +
                       std::to_string(r.fsck->exit_code) + ": " + r.fsck->meaning + ")"
                 : std::string("not run")) +
         "\n";
  out += "  files                   " + std::to_string(r.files) + " files, " +
         std::to_string(r.directories) + " directories, " + std::to_string(r.symlinks) +
         " symlinks, " + FormatBytes(r.file_bytes) + " → " +
         (archive_kept ? r.archive : std::string("archive removed")) + " (" +
         FormatBytes(r.archive_bytes) + ")\n";
  out += "  blocks verified         " + std::to_string(r.blocks_verified) + " data + " +
         std::to_string(r.blocks_zero) + " zero of " + std::to_string(r.blocks_total) +
         (r.blocks_failed ? ", " + std::to_string(r.blocks_failed) + " FAILED" : "") + "\n";
  for (const service::DrillStep& s : r.steps) {
    out +=
        fmt::format("  step {:<11} {:<6} {:>8.3f} s{}\n", s.name, s.status.ok() ? "ok" : "FAILED",
                    s.seconds, s.status.ok() ? "" : "  " + s.status.message());
  }
  if (!r.work_dir.empty()) out += "  kept in " + r.work_dir + "\n";
  ctx.Print(out);
}

Status Run(Context& ctx, const Options& o) {
  ASSIGN_OR_RETURN(repo::SnapshotId id, repo::SnapshotId::Parse(o.snap));
  ASSIGN_OR_RETURN(auto repository, ctx.OpenRepository());
  service::DrillOptions options;
  options.keep = o.keep;
  options.export_path = o.export_path;
  options.work_parent = o.work_dir;
  options.partition = o.partition;
  options.stop = ctx.stop_token();
  ctx.set_cancellable(true);
  auto report = service::RunDrill(*repository, id, options);
  ctx.set_cancellable(false);
  if (!report.ok()) return report.status().WithContext("drill of " + id.str());
  if (!o.keep) report->work_dir.clear();
  const bool archive_kept = o.keep || !o.export_path.empty();
  const std::string where = repository->Describe();
  if (ctx.json()) {
    ctx.PrintJson(ReportJson(*report, where, archive_kept));
  } else {
    PrintText(ctx, *report, where, archive_kept);
  }
  if (report->passed) return Status::OK();
  const Status failure = report->first_failure();
  return Status(failure.code(),
                "drill of " + id.str() + " FAILED: recovery is not proven: " + failure.message());
}

}  // namespace

void RegisterDrill(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "drill",
      "Prove a snapshot restores: volume from it, e2fsck, tar.gz of its files, every block "
      "verified");
  cmd->add_option("SNAP", o->snap, "Snapshot id (snap-…)")->required();
  cmd->add_flag("--keep", o->keep, "Keep the restored volume and the work directory");
  cmd->add_option("--export", o->export_path,
                  "Write the files' tar.gz here (default: in the work directory, removed)");
  cmd->add_option("--partition", o->partition,
                  "Partition to check and export (default: the whole disk, or its only ext "
                  "partition)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--work-dir", o->work_dir,
                  "Where the temporary volume goes (default: the system temp dir); needs room "
                  "for the snapshot's data");
  cmd->callback([&ctx, o] { ctx.SetAction([&ctx, o] { return Run(ctx, *o); }); });
}

}  // namespace cairn::cli
