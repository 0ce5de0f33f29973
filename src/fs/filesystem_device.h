// Where on a disk the filesystem to read is: the whole device, or one of its
// partitions.
//
// Thread-safety: as the device under it.
#ifndef CAIRN_FS_FILESYSTEM_DEVICE_H_
#define CAIRN_FS_FILESYSTEM_DEVICE_H_

#include <memory>
#include <string_view>

#include "core/status.h"
#include "volume/block_device.h"

namespace cairn::fs {

struct FilesystemDevice {
  std::shared_ptr<volume::BlockDevice> device;  // the partition, or `whole`
  int partition = 0;                            // 0: the whole device
};

// `partition` > 0 picks partition N (kNotFound listing the partitions when
// there is none such); 0 means: the whole device when it has no partition
// table, else the only partition holding an ext filesystem, else
// kInvalidArgument listing the partitions and asking for "--partition N".
// `what` names the disk in messages ("snap-…").
Result<FilesystemDevice> ChooseFilesystemDevice(std::shared_ptr<volume::BlockDevice> whole,
                                                int partition, std::string_view what);

}  // namespace cairn::fs

#endif  // CAIRN_FS_FILESYSTEM_DEVICE_H_
