// NbdFileMount: an NBD export shown as a regular file, for tools that want a
// path (e2fsck, libext2fs, dd): nbdfuse mounts the export at DIR/disk.
// There is no kernel NBD on many hosts (containers, machine-facts.md), and
// e2fsck works on a regular file, so no loop device is needed.
//
//   Mount ─> spawn `nbdfuse [-r] -P DIR.pid DIR/disk URI`, wait until the
//            pid file appears (nbdfuse writes it once the file is served)
//   Unmount (or the destructor) ─> `fusermount3 -u DIR`, wait for nbdfuse
//            to exit (SIGTERM after 10 s, then SIGKILL)
//
// nbdfuse aborts if its NBD server goes away: stop the server only after
// Unmount. Thread-safety: one thread uses an instance.
#ifndef CAIRN_SERVICE_NBD_FILE_MOUNT_H_
#define CAIRN_SERVICE_NBD_FILE_MOUNT_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "core/status.h"

namespace cairn::service {

class NbdFileMount {
 public:
  // Mounts `uri` (nbd://…, nbd+unix:///NAME?socket=…) at `dir`/disk; `dir`
  // is created if missing and must not be a mount point already. Errors
  // name the URI: kFailedPrecondition when nbdfuse or fusermount3 is
  // missing (install libnbd-bin and fuse3) or /dev/fuse is absent, kIoError
  // with nbdfuse's own message when it exits or does not get ready in time.
  static Result<std::unique_ptr<NbdFileMount>> Mount(const std::string& uri, const std::string& dir,
                                                     bool read_only);
  ~NbdFileMount();  // Unmount(), errors logged
  NbdFileMount(const NbdFileMount&) = delete;
  NbdFileMount& operator=(const NbdFileMount&) = delete;

  // DIR/disk: the export's bytes.
  const std::string& file() const { return file_; }
  // Unmounts and reaps nbdfuse. Idempotent.
  Status Unmount();

 private:
  NbdFileMount(std::string dir, std::string file, std::string log, pid_t pid)
      : dir_(std::move(dir)), file_(std::move(file)), log_(std::move(log)), pid_(pid) {}

  const std::string dir_;
  const std::string file_;
  const std::string log_;  // nbdfuse's stderr
  pid_t pid_;              // -1 once reaped
};

}  // namespace cairn::service

#endif  // CAIRN_SERVICE_NBD_FILE_MOUNT_H_
