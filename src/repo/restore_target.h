// RestoreTarget (internal to restore.cc): the regular file or block device a
// snapshot is written to, opened and checked per RestoreSnapshot's contract.
//
// A regular file is created if missing, and sized to the snapshot with
// ftruncate so unwritten ranges are holes (zero blocks are then never
// written). A block device must be at least the snapshot's size and, without
// force, start with 1 MiB of zeros; its zero blocks must be written
// (ZeroRange).
//
// Writes go through the page cache; Sync() makes them durable once at the
// end (faster here than O_DIRECT, which was measured and dropped). With a
// large page cache the kernel would start writing only at that Sync, after
// all the decoding: StartBackgroundWriteback() has a thread ask for
// write-out (sync_file_range) as data accumulates, so writing to disk
// overlaps with decoding.
//
// Thread-safety: WriteAt and ZeroRange may be called from several threads
// (pwrite/ioctl on one descriptor); Open and Sync from one.
#ifndef CAIRN_REPO_RESTORE_TARGET_H_
#define CAIRN_REPO_RESTORE_TARGET_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

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
  // Takes ownership of `fd`.
  RestoreTarget(int fd, std::string path, bool is_device)
      : fd_(fd), path_(std::move(path)), is_device_(is_device) {}
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

  // Idempotent; Stop joins the thread. Failures of the early write-out are
  // ignored: Sync() reports any error that matters.
  void StartBackgroundWriteback();
  void StopBackgroundWriteback();

 private:
  void WritebackLoop();

  const int fd_;
  const std::string path_;
  const bool is_device_;
  std::atomic<uint64_t> written_{0};  // bytes passed to WriteAt so far
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_writeback_ = false;  // guarded by mu_
  std::thread writeback_;
};

}  // namespace cairn::repo

#endif  // CAIRN_REPO_RESTORE_TARGET_H_
