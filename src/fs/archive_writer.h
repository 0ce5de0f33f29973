// ArchiveWriter: writes a tar archive (plain, gzip or zstd) through
// libarchive — the only file of cairn that includes <archive.h> is
// archive_writer.cc.
//
// The archive is POSIX pax: nanosecond times (mtime, atime, ctime), names
// and link targets of any length (UTF-8 as pax asks; a name that is not
// valid in the locale is stored as its raw bytes with hdrcharset=BINARY and
// a warning), extended attributes as SCHILY.xattr.* records (GNU tar
// --xattrs and libarchive read them).
// Owners are numeric only: no user or group names are looked up or written
// (a snapshot's uids mean nothing on the host that exports it).
//
// Writing to a path goes to a temporary file beside it ("<path>.cairn-tmp-…")
// that Close() renames onto the path, so an interrupted export never leaves a
// file that looks complete; a writer destroyed without a successful Close()
// removes its temporary file. Writing to "-" streams to stdout; there an
// unclosed writer leaves a truncated stream (no end-of-archive marker), which
// tar reports as an error.
//
// Entry order is the caller's: a hard link entry must come after the entry
// it names, a directory before its contents (tar does not require this, but
// extraction with -p restores directory times only when it does).
//
// Thread-safety: one thread at a time per writer.
#ifndef CAIRN_FS_ARCHIVE_WRITER_H_
#define CAIRN_FS_ARCHIVE_WRITER_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"

namespace cairn::fs {

enum class ArchiveFormat { kTar, kTarGz, kTarZst };

// "tar", "tar.gz", "tar.zst" (also "tgz", "tzst"). Else kInvalidArgument
// naming --format and the accepted values.
Result<ArchiveFormat> ParseArchiveFormat(std::string_view name);
// "tar", "tar.gz", "tar.zst".
std::string_view ArchiveFormatName(ArchiveFormat format);
// By the file name's suffix: .tar, .tar.gz / .tgz, .tar.zst / .tzst; any
// other name (and "-") gives `fallback`.
ArchiveFormat FormatFromFileName(std::string_view file_name, ArchiveFormat fallback);

// An archive-safe relative name ("etc/passwd") from raw directory entry
// names, outermost first. kInvalidArgument naming the bad component (escaped
// for printing) when one is empty, ".", "..", or holds '/' or a NUL byte, or
// when `components` is empty. Such a name could make an extracted archive
// write outside its directory or over another entry.
Result<std::string> SafeArchivePath(std::span<const std::string> components);

// `name` with bytes outside printable ASCII, '"' and '\' written as \xNN,
// for messages about names a filesystem may hold.
std::string EscapeName(std::string_view name);

// One archive member. `mode` is an st_mode: the type bits (S_IFREG, S_IFDIR,
// S_IFLNK, S_IFCHR, S_IFBLK, S_IFIFO) plus the permission bits (incl.
// setuid/setgid/sticky). Times are nanoseconds since the epoch.
struct ArchiveEntry {
  std::string path;  // relative, from SafeArchivePath
  uint32_t mode = 0;
  uint32_t uid = 0, gid = 0;
  int64_t atime_ns = 0, mtime_ns = 0, ctime_ns = 0;
  uint64_t size = 0;                        // regular files: the bytes BeginFile's data will have
  std::string symlink_target;               // S_IFLNK: the target, stored as is (never followed)
  std::string hardlink_target;              // non-empty: a hard link to this earlier entry's path
  uint32_t rdev_major = 0, rdev_minor = 0;  // S_IFCHR / S_IFBLK
  std::vector<std::pair<std::string, Buffer>> xattrs;  // full names: "user.k"
  // Regular files: stored sparse when set. `data_ranges` ({offset, length},
  // sorted, not overlapping, non-empty ranges inside [0, size)) hold the
  // data; the rest of the `size` bytes are holes. Only the ranges' bytes are
  // stored (pax with a GNU sparse 1.0 map: GNU tar and libarchive restore
  // the holes as holes), and BeginFile's Write() calls carry only them. A
  // file that is all holes stores its last byte (a zero written by the
  // writer), which libarchive's reader needs.
  bool sparse = false;
  std::vector<std::pair<uint64_t, uint64_t>> data_ranges;
};

class ArchiveWriter {
 public:
  // Starts an archive at `path` ("-" = stdout). The temporary file is
  // created at once (its directory must exist and be writable: else the
  // errno's Status naming the path). Does not check whether `path` exists:
  // Close() replaces it.
  static Result<std::unique_ptr<ArchiveWriter>> Create(const std::string& path,
                                                       ArchiveFormat format);
  ~ArchiveWriter();
  ArchiveWriter(const ArchiveWriter&) = delete;
  ArchiveWriter& operator=(const ArchiveWriter&) = delete;

  // A member without data: a directory, symlink, hard link (hardlink_target
  // set; its size is written as 0), device, fifo, or an empty regular file.
  // A regular file with size > 0: kInvalidArgument (use BeginFile).
  // Sockets: kInvalidArgument (tar cannot hold them).
  Status Add(const ArchiveEntry& e);

  // A regular file whose e.size bytes follow in Write() calls (any sizes),
  // then EndFile(). EndFile() fails (kIoError naming the path) unless exactly
  // e.size bytes were written; Write() fails when more would be. A sparse
  // entry: the same with the sum of its data_ranges' lengths (ranges out of
  // order or outside the file: kInvalidArgument from BeginFile).
  // REQUIRES: no file open; then, between BeginFile and EndFile, only Write.
  Status BeginFile(const ArchiveEntry& e);
  Status Write(ByteSpan data);
  Status EndFile();

  // Writes the end of the archive, flushes the compressor, fsyncs and
  // renames the temporary file onto the path. After Close() (successful or
  // not) no other call is allowed. REQUIRES: no file open.
  Status Close();

  // Members written so far (every Add and BeginFile).
  uint64_t entries() const { return entries_; }
  // File data bytes written so far (uncompressed; headers not counted).
  uint64_t bytes() const { return bytes_; }
  // Bytes of the archive written to its file or stdout (after compression);
  // final after Close().
  uint64_t archive_bytes() const;

  struct Impl;  // libarchive state; defined in archive_writer.cc

 private:
  explicit ArchiveWriter(std::unique_ptr<Impl> impl);
  Status WriteHeader(const ArchiveEntry& e);

  std::unique_ptr<Impl> impl_;
  uint64_t entries_ = 0;
  uint64_t bytes_ = 0;
  bool file_open_ = false;
  bool closed_ = false;
  // Passes `length` hole bytes to libarchive (which stores none of them).
  Status SkipHole(uint64_t length);

  std::string file_path_;      // the open file's archive path
  uint64_t file_size_ = 0;     // bytes it stores (its size, or its ranges' sum)
  uint64_t file_written_ = 0;  // bytes written to it so far
  // Sparse file: its ranges, the one being written, and how far libarchive's
  // logical position in the file is.
  bool file_sparse_ = false;
  uint64_t file_logical_size_ = 0;
  std::vector<std::pair<uint64_t, uint64_t>> ranges_;
  size_t range_ = 0;
  uint64_t logical_ = 0;
};

}  // namespace cairn::fs

#endif  // CAIRN_FS_ARCHIVE_WRITER_H_
