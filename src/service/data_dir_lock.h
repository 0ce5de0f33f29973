// DataDirLock: one `cairn serve` per data directory. An exclusive flock() on
// DIR/daemon.lock, held for the life of the process, with the holder's pid
// written inside so a refused second daemon can name it. The kernel drops
// the lock when the process dies, however it dies: no stale lock to clean.
//
// Thread-safety: a value owned by one thread; the lock is per process.
#ifndef CAIRN_SERVICE_DATA_DIR_LOCK_H_
#define CAIRN_SERVICE_DATA_DIR_LOCK_H_

#include <memory>
#include <string>

#include "core/status.h"

namespace cairn::service {

class DataDirLock {
 public:
  // Creates `dir` if missing (mode 0700) and takes the lock. kAborted
  // "data directory D is in use by cairn serve (pid N): stop it (kill -TERM
  // N) or choose another --data-dir" when another process holds it.
  static Result<std::unique_ptr<DataDirLock>> Acquire(const std::string& dir);
  ~DataDirLock();  // releases
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace cairn::service

#endif  // CAIRN_SERVICE_DATA_DIR_LOCK_H_
