// RestoreTarget (internal to restore.cc): the regular file or block device a
// snapshot is written to, opened and checked per RestoreSnapshot's contract.
//
// A regular file is created if missing, and sized to the snapshot with
// ftruncate so unwritten ranges are holes (zero blocks are then never
// written). A block device must be at least the snapshot's size and, without
// force, start with 1 MiB of zeros; its zero blocks must be written
// (ZeroRange).
//
// Writes of whole aligned blocks bypass the page cache (O_DIRECT, through a
// per-thread aligned bounce buffer) where the file system allows it: filling
// fresh page-cache pages costs more than the disk write on the VMs we run on,
// and the final fsync then has little left to do. Other writes are buffered.
//
// Thread-safety: WriteAt and ZeroRange may be called from several threads
// (pwrite/ioctl on one descriptor); Open and Sync from one.
#ifndef CAIRN_REPO_RESTORE_TARGET_H_
#define CAIRN_REPO_RESTORE_TARGET_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "core/bytes.h"
#include "core/status.h"

namespace cairn::repo {

class RestoreTarget {
 public:
  // kFailedPrecondition for a non-empty file without force, a device that is
  // too small or not blank without force; kInvalidArgument for other file
  // types; errno-mapped errors naming the path otherwise.
  static Result<std::unique_ptr<RestoreTarget>> Open(const std::string& path,
                                                     uint64_t snapshot_size, bool force);
  // Takes ownership of `fd` and of `direct_fd` (-1 for none).
  RestoreTarget(int fd, int direct_fd, std::string path, bool is_device)
      : fd_(fd), direct_fd_(direct_fd), path_(std::move(path)), is_device_(is_device) {}
  ~RestoreTarget();
  RestoreTarget(const RestoreTarget&) = delete;
  RestoreTarget& operator=(const RestoreTarget&) = delete;

  const std::string& path() const { return path_; }
  bool is_device() const { return is_device_; }

  Status WriteAt(uint64_t offset, ByteSpan data);
  // Makes [offset, offset+length) read as zeros: FALLOC_FL_ZERO_RANGE, else
  // BLKZEROOUT, else writing zeros.
  Status ZeroRange(uint64_t offset, uint64_t length);
  Status Sync();

 private:
  Status WriteBuffered(uint64_t offset, ByteSpan data);

  const int fd_;
  const int direct_fd_;  // O_DIRECT descriptor of the same file, or -1
  std::atomic<bool> direct_ok_{true};
  const std::string path_;
  const bool is_device_;
};

}  // namespace cairn::repo

#endif  // CAIRN_REPO_RESTORE_TARGET_H_
