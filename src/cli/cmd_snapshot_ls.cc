// cairn snapshot ls SNAP [PATH] [-l] [--partition N]
//
// Lists a directory (default "/") of the ext2/3/4 filesystem inside a
// snapshot, reading only the blocks it needs, without a volume, a mount or
// root; PATH naming a non-directory lists that one entry. Names are sorted
// bytewise. Text: one name per line; with -l "mode uid/gid size mtime name
// [-> target]" as a table. JSON: {"snapshot_id","partition","path","entries":
// [{"name","ino","type","mode","uid","gid","size","links","mtime","target"}]}
// (mode as a number, mtime in UTC, target for symlinks only).
#include <fmt/format.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <algorithm>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/file_format.h"
#include "cli/output.h"
#include "cli/snapshot_fs.h"

namespace cairn::cli {
namespace {

struct Options {
  std::string snap;
  std::string path = "/";
  bool long_format = false;
  int partition = 0;
};

struct Row {
  std::string name;
  fs::Inode inode;
  std::string target;
};

Status Run(Context& ctx, const Options& o) {
  ASSIGN_OR_RETURN(auto opened, OpenSnapshotFilesystem(ctx, o.snap, o.partition));
  fs::ExtFilesystem& fs = *opened->fs;
  ASSIGN_OR_RETURN_CTX(uint32_t ino, fs.Lookup(o.path), o.snap);
  ASSIGN_OR_RETURN(fs::Inode top, fs.Stat(ino));
  std::vector<Row> rows;
  if (S_ISDIR(top.mode)) {
    ASSIGN_OR_RETURN_CTX(std::vector<fs::DirEntry> entries, fs.List(ino), "listing " + o.path);
    std::sort(entries.begin(), entries.end(),
              [](const fs::DirEntry& a, const fs::DirEntry& b) { return a.name < b.name; });
    for (fs::DirEntry& e : entries) rows.push_back({std::move(e.name), {}, {}});
    const bool need_stat = o.long_format || ctx.json();  // plain names need no inodes
    for (size_t i = 0; need_stat && i < rows.size(); ++i) {
      ASSIGN_OR_RETURN_CTX(rows[i].inode, fs.Stat(entries[i].ino),
                           "reading " + EscapeName(rows[i].name) + " in " + o.path);
    }
  } else {
    std::string_view name = o.path;
    if (size_t slash = name.rfind('/'); slash != std::string_view::npos) {
      name = name.substr(slash + 1);
    }
    rows.push_back({std::string(name), top, {}});
  }
  for (Row& r : rows) {
    if (S_ISLNK(r.inode.mode)) {
      ASSIGN_OR_RETURN_CTX(r.target, fs.ReadLink(r.inode.ino), "reading link " + r.name);
    }
  }

  if (ctx.json()) {
    nlohmann::json entries = nlohmann::json::array();
    for (const Row& r : rows) {
      nlohmann::json e = {{"name", r.name},
                          {"ino", r.inode.ino},
                          {"type", FileTypeName(r.inode.mode)},
                          {"mode", r.inode.mode},
                          {"uid", r.inode.uid},
                          {"gid", r.inode.gid},
                          {"size", r.inode.size},
                          {"links", r.inode.links},
                          {"mtime", FormatTimeNs(r.inode.mtime_ns)}};
      if (S_ISLNK(r.inode.mode)) e["target"] = r.target;
      entries.push_back(std::move(e));
    }
    ctx.PrintJson({{"snapshot_id", opened->snapshot->snapshot_id},
                   {"partition", opened->partition},
                   {"path", o.path},
                   {"entries", std::move(entries)}});
  } else if (o.long_format) {
    std::vector<std::vector<std::string>> table;
    for (const Row& r : rows) {
      std::string name = EscapeName(r.name);
      if (S_ISLNK(r.inode.mode)) name += " -> " + EscapeName(r.target);
      std::string size = std::to_string(r.inode.size);
      if (S_ISCHR(r.inode.mode) || S_ISBLK(r.inode.mode)) {
        size = std::to_string(r.inode.rdev_major) + ", " + std::to_string(r.inode.rdev_minor);
      }
      table.push_back({ModeString(r.inode.mode),
                       std::to_string(r.inode.uid) + "/" + std::to_string(r.inode.gid), size,
                       FormatTimeNs(r.inode.mtime_ns), std::move(name)});
    }
    ctx.Print(FormatTable({"MODE", "OWNER", "SIZE", "MODIFIED (UTC)", "NAME"}, table));
  } else {
    std::string out;
    for (const Row& r : rows) out += EscapeName(r.name) + "\n";
    ctx.Print(out);
  }
  if (ctx.verbose > 0) {
    ctx.Note(fmt::format("{}: {} blocks fetched from the repository\n", fs.Describe(),
                         opened->snapshot->blocks_fetched()));
  }
  return Status::OK();
}

}  // namespace

void RegisterSnapshotLs(CLI::App& snapshot, Context& ctx) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = snapshot.add_subcommand(
      "ls", "List files in a snapshot's ext2/3/4 filesystem (no volume, mount or root needed)");
  cmd->add_option("SNAP", o->snap, "Snapshot id (snap-…)")->required();
  cmd->add_option("PATH", o->path, "Directory or file in the snapshot (default /)");
  cmd->add_flag("-l,--long", o->long_format, "Mode, owner, size, time and link target");
  cmd->add_option("--partition", o->partition,
                  "Partition number on a partitioned disk (see `snapshot partitions`)")
      ->check(CLI::PositiveNumber);
  cmd->callback([&ctx, o] { ctx.SetAction([&ctx, o] { return Run(ctx, *o); }); });
}

}  // namespace cairn::cli
