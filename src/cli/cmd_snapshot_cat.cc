// cairn snapshot cat SNAP PATH [--partition N]
//
// Writes one regular file of the ext2/3/4 filesystem inside a snapshot to
// stdout, reading only the blocks it needs, with read-ahead along the file's
// extents (several repository blocks fetched at once; fs/ordered_reader.h). A directory, symlink or device
// is refused (exit 8) with what it is instead.
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/file_format.h"
#include "cli/snapshot_fs.h"

namespace cairn::cli {
namespace {

struct Options {
  std::string snap;
  std::string path;
  int partition = 0;
};

Status WriteAll(int fd, ByteSpan data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, "writing to stdout");
    }
    data = data.subspan(static_cast<size_t>(n));
  }
  return Status::OK();
}

Status Run(Context& ctx, const Options& o) {
  ASSIGN_OR_RETURN(auto opened, OpenSnapshotFilesystem(ctx, o.snap, o.partition));
  fs::ExtFilesystem& fs = *opened->fs;
  ASSIGN_OR_RETURN_CTX(uint32_t ino, fs.Lookup(o.path), o.snap);
  ASSIGN_OR_RETURN(fs::Inode inode, fs.Stat(ino));
  if (S_ISDIR(inode.mode)) {
    return FailedPreconditionError(
        fmt::format("{} in {} is a directory (list it with `cairn snapshot ls {} {}`)", o.path,
                    o.snap, o.snap, o.path));
  }
  if (S_ISLNK(inode.mode)) {
    ASSIGN_OR_RETURN(std::string target, fs.ReadLink(ino));
    return FailedPreconditionError(
        fmt::format("{} in {} is a symbolic link to {} (cat follows none; cat the target instead)",
                    o.path, o.snap, EscapeName(target)));
  }
  if (!S_ISREG(inode.mode)) {
    return FailedPreconditionError(fmt::format("{} in {} is not a regular file but a {}", o.path,
                                               o.snap, FileTypeName(inode.mode)));
  }
  ctx.set_cancellable(true);
  const std::stop_token stop = ctx.stop_token();
  Status s = fs.ReadFile(ino, [&](ByteSpan piece) -> Status {
    if (stop.stop_requested()) return CancelledError("cat of " + o.path + " stopped");
    return WriteAll(STDOUT_FILENO, piece);
  });
  ctx.set_cancellable(false);
  RETURN_IF_ERROR_CTX(s, "reading " + o.path + " from " + o.snap);
  if (ctx.verbose > 0) {
    ctx.Note(fmt::format("{}: {} bytes of {} from {}; {} blocks fetched from the repository\n",
                         o.path, inode.size, o.snap, fs.Describe(),
                         opened->snapshot->blocks_fetched()));
  }
  return Status::OK();
}

}  // namespace

void RegisterSnapshotCat(CLI::App& snapshot, Context& ctx) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = snapshot.add_subcommand(
      "cat", "Write a file from a snapshot's ext2/3/4 filesystem to stdout");
  cmd->add_option("SNAP", o->snap, "Snapshot id (snap-…)")->required();
  cmd->add_option("PATH", o->path, "File in the snapshot, e.g. /etc/fstab")->required();
  cmd->add_option("--partition", o->partition,
                  "Partition number on a partitioned disk (see `snapshot partitions`)")
      ->check(CLI::PositiveNumber);
  cmd->callback([&ctx, o] { ctx.SetAction([&ctx, o] { return Run(ctx, *o); }); });
}

}  // namespace cairn::cli
