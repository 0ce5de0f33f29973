// ExportTree: writes the files of an ExtFilesystem into an ArchiveWriter —
// the walk behind `cairn snapshot export`.
//
// From each requested path (default "/"), depth-first, the entries of every
// directory in byte order of their names; a directory comes before its
// contents. Archive names are relative to the filesystem root ("etc/passwd";
// the root itself is not a member), like `tar -C mnt -cf x.tar .` without
// the "./". What is written:
//   - directories, regular files (their data read straight from the device
//     with read-ahead; a file with holes or unwritten extents is stored
//     sparse: only its data, with a map that restores the holes), symlinks (stored as links, never
//     followed), character and block devices, fifos — with mode, numeric owner, times in ns and
//     extended attributes (all namespaces, except ext4's internal
//     "system.data" of inline data);
//   - hard links: the second and later names of a non-directory inode with
//     more than one link become hard link members naming the first one.
// What is skipped, each with a warning naming the directory (and inode) and
// the entry (and inode), and never written:
//   - a name SafeArchivePath rejects ("..", ".", "", containing '/' or NUL,
//     including "." and ".." entries other than a directory's own first
//     two), so no member can land outside the extraction directory;
//   - a name that repeats in one directory (a crafted filesystem): the first
//     in on-disk order is kept, the others skipped;
//   - a directory inode reached a second time (a crafted loop);
//   - sockets (tar cannot hold them) and inodes of unknown type.
// Overlapping requested paths are merged: a path inside another requested
// one is exported once.
//
// Errors reading the filesystem (or the repository under it) stop the
// export: the caller must not Close() the writer (it then leaves no file).
//
// Thread-safety: one thread (ExtFilesystem is one-thread-at-a-time).
#ifndef CAIRN_FS_TREE_EXPORT_H_
#define CAIRN_FS_TREE_EXPORT_H_

#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "core/progress.h"
#include "core/status.h"
#include "fs/archive_writer.h"
#include "fs/ext_filesystem.h"

namespace cairn::fs {

struct TreeExportOptions {
  // Absolute or relative paths inside the filesystem ("/", "/etc",
  // "var/lib/app"); empty = {"/"}. A component ".." is kInvalidArgument.
  std::vector<std::string> paths;
  Progress* progress = nullptr;  // file bytes are added as they are archived
  std::stop_token stop;          // requested → kCancelled
  // Receives each warning (default: core/log.h LogWarning).
  std::function<void(std::string_view)> warn;
};

struct TreeExportStats {
  uint64_t files = 0;  // regular files with their data (not hard links)
  uint64_t dirs = 0;
  uint64_t symlinks = 0;
  uint64_t hardlinks = 0;     // hard link members
  uint64_t specials = 0;      // devices and fifos
  uint64_t bytes = 0;         // sizes of the regular files archived
  uint64_t data_bytes = 0;    // their bytes stored (holes of sparse files left out)
  uint64_t sparse_files = 0;  // files stored sparse
  uint64_t skipped = 0;       // entries left out, each with a warning
  std::vector<std::string> warnings;
};

// Normalised form of a requested path: its components ("/a//b/" → {"a","b"};
// "/" → {}). "." components are dropped; ".." is kInvalidArgument naming
// --path.
Result<std::vector<std::string>> SplitExportPath(std::string_view path);

Result<TreeExportStats> ExportTree(ExtFilesystem& fs, ArchiveWriter& out,
                                   const TreeExportOptions& options);

}  // namespace cairn::fs

#endif  // CAIRN_FS_TREE_EXPORT_H_
