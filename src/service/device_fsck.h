// FsckDevice: the real `e2fsck -fn` against any BlockDevice (a live volume,
// a volume restored for a drill), for `cairn volume check` and `cairn drill`.
//
// The device is served read-only over NBD on a private unix socket (its own
// nbd::Server, not the daemon's listener, so nothing is attached and no
// client can reach it), shown as a file by nbdfuse -r (NbdFileMount), and
// e2fsck runs on that file (fs/fsck.h). Everything is torn down before the
// call returns: unmount, then stop the server, then remove the directory.
//
//   work dir (mkdtemp under `parent`):  nbd.sock  mnt/disk  mnt.log
//
// A device in use by others may change while e2fsck reads it; the verdict
// is then about a moving target (the caller says so).
//
// Thread-safety: any thread; each call has its own server and mount.
#ifndef CAIRN_SERVICE_DEVICE_FSCK_H_
#define CAIRN_SERVICE_DEVICE_FSCK_H_

#include <memory>
#include <string>

#include "core/status.h"
#include "fs/fsck.h"
#include "volume/block_device.h"

namespace cairn::service {

// A read-only view of `device`: reads, extents and size pass through; every
// mutating call is kPermissionDenied naming the device.
std::shared_ptr<volume::BlockDevice> ReadOnlyView(std::shared_ptr<volume::BlockDevice> device);

// Runs e2fsck -fn on `device` through NBD and nbdfuse. `parent`: where the
// work directory goes ("" = the system temp dir; keep it short: unix socket
// paths are limited to 107 bytes). Errors are about running the check
// (nbdfuse, e2fsck missing or failing to start); what e2fsck finds is the
// verdict.
Result<fs::FsckVerdict> FsckDevice(std::shared_ptr<volume::BlockDevice> device,
                                   const std::string& parent = "",
                                   const fs::FsckOptions& options = {});

}  // namespace cairn::service

#endif  // CAIRN_SERVICE_DEVICE_FSCK_H_
