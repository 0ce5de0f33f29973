// The libext2fs io_manager of cairn (internal to fs/): libext2fs opens a
// "device name" through an io_manager; ours maps the name to a registered
// BlockDevice and reads from it, so libext2fs reads exactly the blocks it
// needs from a snapshot, a volume or a file. No libext2fs type appears here
// (only the forward-declared struct), so this header stays free of
// <ext2fs/ext2fs.h>.
//
// Thread-safety: Register/Unregister may be called from any thread. A
// channel is used by one ExtFilesystem, one thread at a time.
#ifndef CAIRN_FS_EXT_IO_MANAGER_H_
#define CAIRN_FS_EXT_IO_MANAGER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "volume/block_device.h"

struct struct_io_manager;  // libext2fs's io_manager

namespace cairn::fs {

// What a channel reads, and what went wrong last (libext2fs passes only an
// errcode through; the Status keeps the message, e.g. a kCorruption naming
// the snapshot block).
struct ExtDevice {
  std::shared_ptr<volume::BlockDevice> device;
  Status last_error;        // the last failed read or write
  uint64_t bytes_read = 0;  // through this channel
};

// The io_manager (static; lives for the process).
struct_io_manager* CairnIoManager();

// Makes `dev` openable by libext2fs as the returned name until
// UnregisterExtDevice(name). The caller keeps `dev` alive while any channel
// on it is open.
std::string RegisterExtDevice(std::shared_ptr<ExtDevice> dev);
void UnregisterExtDevice(const std::string& name);

}  // namespace cairn::fs

#endif  // CAIRN_FS_EXT_IO_MANAGER_H_
