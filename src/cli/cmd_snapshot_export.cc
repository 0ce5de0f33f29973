// cairn snapshot export SNAP [--path P]... [--format tar|tar.gz|tar.zst]
//                            [-o FILE|-] [--partition N] [--force]
//                            [--allow-skipped]
//
// Writes the files of the ext2/3/4 filesystem inside a snapshot to a tar
// archive, reading only the blocks those files need, without a volume, a
// mount or root (fs/tree_export.h says what is written and what is skipped).
// The format comes from --format, else from the suffix of -o (.tar, .tar.gz,
// .tgz, .tar.zst), else tar.gz. "-o -" (the default) streams to stdout,
// which must not be a terminal. An existing FILE is refused (exit 8) unless
// --force; the archive is written beside it and renamed at the end, so an
// interrupted export leaves no file. Summary on stderr; --output json prints
// it as one document on stdout (then the archive needs -o FILE).
// Entries skipped with a warning (fs/tree_export.h) leave a usable archive
// that is still written, but the command exits 10 (kExitPartial) with a last
// line on stderr saying so, so a script can tell a partial archive from a
// whole one; --allow-skipped (for trees expected to hold such names) exits 0.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/exit_codes.h"
#include "cli/output.h"
#include "cli/snapshot_fs.h"
#include "core/log.h"
#include "core/units.h"
#include "fs/archive_writer.h"
#include "fs/tree_export.h"

namespace cairn::cli {
namespace {

struct Options {
  std::string snap;
  std::vector<std::string> paths;
  std::string format;  // "" = from the file name
  std::string file = "-";
  int partition = 0;
  bool force = false;
  bool allow_skipped = false;
};

std::string Plural(uint64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

// After a complete archive: exit 10 when entries were skipped (unless
// --allow-skipped), with the last line on stderr saying so (even with -q:
// it explains the exit status).
Status Partial(Context& ctx, const Options& o, const fs::TreeExportStats& stats,
               const std::string& where) {
  if (stats.skipped == 0 || o.allow_skipped) return Status::OK();
  std::fprintf(stderr,
               "archive written, %s skipped (see warnings above): %s lacks them (exit status "
               "%d; pass --allow-skipped to exit 0 when such entries are expected)\n",
               Plural(stats.skipped, "entry", "entries").c_str(), where.c_str(), kExitPartial);
  ctx.set_exit_code(kExitPartial);
  return Status::OK();
}

Status Run(Context& ctx, const Options& o) {
  fs::ArchiveFormat format = fs::FormatFromFileName(o.file, fs::ArchiveFormat::kTarGz);
  if (!o.format.empty()) {
    ASSIGN_OR_RETURN(format, fs::ParseArchiveFormat(o.format));
  }
  for (const std::string& p : o.paths) RETURN_IF_ERROR(fs::SplitExportPath(p).status());
  const bool to_stdout = o.file == "-";
  if (to_stdout && ctx.json()) {
    return InvalidArgumentError(
        "--output json prints its document on stdout: write the archive with -o FILE");
  }
  if (to_stdout && ::isatty(STDOUT_FILENO)) {
    return InvalidArgumentError(
        "refusing to write an archive to a terminal: redirect stdout or give -o FILE");
  }
  if (!to_stdout && !o.force) {
    std::error_code ec;
    if (std::filesystem::exists(o.file, ec)) {
      return FailedPreconditionError(o.file + " exists: remove it or pass --force to replace it");
    }
  }

  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(auto sfs, OpenSnapshotFilesystem(ctx, o.snap, o.partition));
  ASSIGN_OR_RETURN(auto writer, fs::ArchiveWriter::Create(o.file, format));

  Progress progress(ctx.progress_mode(), "export", 0);
  fs::TreeExportOptions options;
  options.paths = o.paths;
  options.progress = &progress;
  options.stop = ctx.stop_token();
  ctx.set_cancellable(true);
  auto stats = fs::ExportTree(*sfs->fs, *writer, options);
  ctx.set_cancellable(false);
  progress.Finish();
  if (!stats.ok()) {
    return stats.status().WithContext("exporting " + o.snap + " (" + sfs->fs->Describe() + ")");
  }
  RETURN_IF_ERROR(writer->Close());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const uint64_t blocks_read = sfs->snapshot->blocks_fetched();
  const std::string where = to_stdout ? "stdout" : o.file;

  if (ctx.json()) {
    ctx.PrintJson({{"snapshot_id", sfs->snapshot->snapshot_id},
                   {"filesystem", sfs->fs->Describe()},
                   {"partition", sfs->partition},
                   {"output", o.file},
                   {"format", std::string(fs::ArchiveFormatName(format))},
                   {"paths", o.paths.empty() ? std::vector<std::string>{"/"} : o.paths},
                   {"entries", writer->entries()},
                   {"files", stats->files},
                   {"dirs", stats->dirs},
                   {"symlinks", stats->symlinks},
                   {"hardlinks", stats->hardlinks},
                   {"specials", stats->specials},
                   {"bytes", stats->bytes},
                   {"data_bytes", stats->data_bytes},
                   {"sparse_files", stats->sparse_files},
                   {"archive_bytes", writer->archive_bytes()},
                   {"skipped", stats->skipped},
                   {"warnings", stats->warnings},
                   {"blocks_read", blocks_read},
                   {"seconds", seconds},
                   {"retries", ctx.retries()}});
    return Partial(ctx, o, *stats, where);
  }
  std::string summary = "exported " + sfs->snapshot->snapshot_id + " to " + where + " (" +
                        std::string(fs::ArchiveFormatName(format)) +
                        "): " + Plural(stats->files, "file", "files") + ", " +
                        Plural(stats->dirs, "directory", "directories") + ", " +
                        Plural(stats->symlinks, "symlink", "symlinks") + ", " +
                        Plural(stats->hardlinks, "hard link", "hard links");
  if (stats->specials > 0)
    summary += ", " + Plural(stats->specials, "device/fifo", "devices/fifos");
  summary += "; " + FormatBytes(stats->bytes) + " of file data, " +
             FormatBytes(writer->archive_bytes()) + " archive, " +
             Plural(blocks_read, "block", "blocks") + " read from the repository in " +
             FormatSeconds(seconds);
  if (stats->sparse_files > 0) {
    summary += "; " + Plural(stats->sparse_files, "sparse file", "sparse files") +
               " stored without their holes";
  }
  if (stats->skipped > 0) {
    summary += "; " + Plural(stats->skipped, "entry", "entries") + " skipped (see the warnings)";
  }
  if (ctx.retries() > 0) summary += ", retries: " + std::to_string(ctx.retries());
  ctx.Note(summary + "\n");
  return Partial(ctx, o, *stats, where);
}

}  // namespace

void RegisterSnapshotExport(CLI::App& snapshot, Context& ctx) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = snapshot.add_subcommand(
      "export", "Write the files of a snapshot's ext2/3/4 filesystem to a tar archive");
  cmd->add_option("SNAP", o->snap, "Snapshot id (snap-…)")->required();
  cmd->add_option("--path", o->paths,
                  "A file or directory to export, from the filesystem root (repeatable; "
                  "default: everything)");
  cmd->add_option("--format", o->format,
                  "tar, tar.gz or tar.zst (default: from the -o suffix, else tar.gz)");
  cmd->add_option("-o,--file", o->file, "Archive to write, or - for stdout (the default)");
  cmd->add_option("--partition", o->partition,
                  "Partition number on a partitioned disk (see `snapshot partitions`)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--force", o->force, "Replace an existing archive file");
  cmd->add_flag("--allow-skipped", o->allow_skipped,
                "Exit 0 even when entries were skipped with a warning (else exit 10)");
  cmd->callback([&ctx, o] { ctx.SetAction([&ctx, o] { return Run(ctx, *o); }); });
}

}  // namespace cairn::cli
