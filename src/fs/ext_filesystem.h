// ExtFilesystem: read-only access to an ext2/3/4 filesystem on any
// BlockDevice (a snapshot in a repository, a volume, a file) through
// libext2fs, with an io_manager that reads the device directly, so only the
// blocks the caller needs are read (ext_io_manager.cc).
//
// Its implementation files (ext_filesystem.cc, ext_file_map.cc,
// ext_file_reader.cc, ext_io_manager.cc) are the only places that see
// libext2fs; callers see only the types below. File contents are read
// straight from the device along the file's extents, with read-ahead
// threads (ReadaheadOptions) that only read the device.
//
// Names are raw bytes as stored on disk (no encoding is assumed). Times are
// nanoseconds since the Unix epoch.
//
// Thread-safety: one thread at a time per ExtFilesystem (libext2fs keeps
// per-filesystem caches without locks). Different ExtFilesystem objects may
// be used from different threads.
#ifndef CAIRN_FS_EXT_FILESYSTEM_H_
#define CAIRN_FS_EXT_FILESYSTEM_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "volume/block_device.h"

namespace cairn::fs {

struct Inode {
  uint32_t ino = 0;
  uint32_t mode = 0;  // type + permission bits as st_mode (S_IFREG | 0644, ...)
  uint32_t uid = 0, gid = 0;
  uint64_t size = 0;
  uint32_t links = 0;
  int64_t atime_ns = 0, mtime_ns = 0, ctime_ns = 0;
  uint32_t rdev_major = 0, rdev_minor = 0;  // character and block devices
};

struct DirEntry {
  std::string name;  // raw bytes as stored on disk
  uint32_t ino = 0;
};

// A run of a regular file's bytes that holds data: `length` bytes at
// `offset` in the file, stored at `device_offset` on the filesystem's
// device (consecutive there too). `in_inode`: the bytes live inside the
// inode (ext4 inline data); `device_offset` is then 0.
struct FileExtent {
  uint64_t offset = 0;
  uint64_t length = 0;
  uint64_t device_offset = 0;
  bool in_inode = false;
};

// Read-ahead of file contents: up to `window` pieces of 1 MiB are read from
// the device at once, on `threads` threads (window 0: none; one piece at a
// time by the caller's thread). Memory: window MiB per reading file.
struct ReadaheadOptions {
  size_t window = 16;
  size_t threads = 8;
};

class ExtFilesystem {
 public:
  // Read-only open of an ext2/3/4 filesystem on `device` through an
  // io_manager that reads `device` (so only the blocks the caller needs are
  // read). Another filesystem: kInvalidArgument "unsupported filesystem: xfs
  // (cairn reads ext2, ext3 and ext4)"; no filesystem found: kInvalidArgument
  // "no filesystem found on <Describe()> (a partitioned disk? see `cairn
  // snapshot partitions`)".
  static Result<std::unique_ptr<ExtFilesystem>> Open(std::shared_ptr<volume::BlockDevice> device,
                                                     const ReadaheadOptions& readahead = {});
  ~ExtFilesystem();
  ExtFilesystem(const ExtFilesystem&) = delete;
  ExtFilesystem& operator=(const ExtFilesystem&) = delete;

  static constexpr uint32_t kRootIno = 2;

  // "/a/b" (or "a/b"; "/" is the root); follows no symlinks (a symlink in
  // the middle of the path is kFailedPrecondition); kNotFound
  // "no such file: /a/b".
  Result<uint32_t> Lookup(std::string_view path);
  Result<Inode> Stat(uint32_t ino);
  // Entries of a directory in on-disk order, without the directory's own
  // "." and ".." (the first two entries of its first block); an entry named
  // "." or ".." anywhere else (a crafted or damaged directory) is listed.
  // kFailedPrecondition if `dir_ino` is not a directory.
  Result<std::vector<DirEntry>> List(uint32_t dir_ino);
  // Target of a symlink (fast and slow symlinks); kFailedPrecondition if not
  // a symlink.
  Result<std::string> ReadLink(uint32_t ino);
  // Streams the file's bytes in order to `sink` (holes and unwritten
  // extents as zeros, in pieces of at most 1 MiB). kFailedPrecondition if
  // not a regular file. An error from `sink` stops the stream and is
  // returned. Data is read straight from the device from the file's extent
  // map, with read-ahead (ReadaheadOptions): the next pieces of the file are
  // read in parallel while `sink` runs (`sink` is called on this thread).
  Status ReadFile(uint32_t ino, const std::function<Status(ByteSpan)>& sink);
  // The extents of a regular file that hold data, sorted by offset, not
  // overlapping, adjacent ones merged, clipped to the file's size. Holes
  // and unwritten (preallocated) extents are left out: they read as zeros.
  // kCorruption naming the inode when an extent points outside the
  // filesystem; kFailedPrecondition if not a regular file.
  Result<std::vector<FileExtent>> FileExtents(uint32_t ino);
  // Streams the bytes of `extents` (from FileExtents(ino)) in order to
  // `sink`, with read-ahead as ReadFile; holes are not streamed.
  Status ReadExtents(uint32_t ino, const std::vector<FileExtent>& extents,
                     const std::function<Status(ByteSpan)>& sink);
  // Extended attributes with full names ("user.x", "security.selinux",
  // "system.posix_acl_access" as stored), sorted by name.
  Result<std::vector<std::pair<std::string, Buffer>>> Xattrs(uint32_t ino);
  // "ext4 on snap-… (label, uuid)".
  std::string Describe() const;

  struct Impl;

 private:
  explicit ExtFilesystem(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::fs

#endif  // CAIRN_FS_EXT_FILESYSTEM_H_
