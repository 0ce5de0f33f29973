// Recognizes the filesystem on a BlockDevice from its magic numbers, to give
// a clear message for what cairn cannot read and to label partitions.
//
// Thread-safety: a pure function of the device's bytes.
#ifndef CAIRN_FS_FS_PROBE_H_
#define CAIRN_FS_FS_PROBE_H_

#include <string>

#include "core/status.h"
#include "volume/block_device.h"

namespace cairn::fs {

// "ext2"/"ext3"/"ext4", "xfs", "btrfs", "vfat", "ntfs", "swap", "iso9660",
// or "" (unknown), from magic numbers. Errors only when reading fails.
Result<std::string> ProbeFilesystem(volume::BlockDevice& device);

}  // namespace cairn::fs

#endif  // CAIRN_FS_FS_PROBE_H_
