// Partition tables: GPT (with its protective MBR) and MBR (primary, extended
// and logical partitions), parsed by hand from any BlockDevice, so a snapshot
// of a whole disk can be browsed partition by partition (docs/decisions.md
// says why not libfdisk/libblkid).
//
// Thread-safety: ReadPartitions is a pure function of the device's bytes. A
// PartitionDevice is as thread-safe as the device under it.
#ifndef CAIRN_FS_PARTITION_TABLE_H_
#define CAIRN_FS_PARTITION_TABLE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "volume/block_device.h"

namespace cairn::fs {

struct Partition {
  int number = 0;       // 1-based: GPT entry index + 1; MBR 1-4 primary, 5+ logical
  uint64_t offset = 0;  // bytes from the start of the device
  uint64_t size = 0;    // bytes
  std::string scheme;   // "gpt" | "mbr"
  std::string type;     // GPT type GUID (lower case, canonical form) or MBR type "0x83"
  std::string name;     // GPT partition name (UTF-8); "" for MBR
};

// Partitions of `device` (GPT, with protective MBR; else MBR primary +
// extended/logical), sorted by number. Empty vector: no partition table (a
// bare filesystem). kCorruption naming the table and what is wrong. A GPT
// whose primary header fails its CRC falls back to the backup header at the
// end of the device, with a warning through the log.
Result<std::vector<Partition>> ReadPartitions(volume::BlockDevice& device);

// A read-only BlockDevice over [p.offset, p.offset + p.size) of `device`
// (clipped to the device's size). Describe(): "<device> partition <n>".
std::shared_ptr<volume::BlockDevice> PartitionDevice(std::shared_ptr<volume::BlockDevice> device,
                                                     const Partition& p);

}  // namespace cairn::fs

#endif  // CAIRN_FS_PARTITION_TABLE_H_
