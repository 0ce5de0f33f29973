// The drill's export step: every file of the ext2/3/4 filesystem on a
// device (a restored volume) written to a tar.gz, through the fs layer
// (fs::ExtFilesystem, the tree walk, fs::ArchiveWriter), with its counts.
//
// Thread-safety: one call at a time per device (libext2fs is not
// thread-safe per filesystem).
#ifndef CAIRN_SERVICE_DRILL_EXPORT_H_
#define CAIRN_SERVICE_DRILL_EXPORT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "volume/block_device.h"

namespace cairn::service {

struct DrillExport {
  uint64_t files = 0;  // regular files (hard links counted once)
  uint64_t directories = 0;
  uint64_t symlinks = 0;
  uint64_t file_bytes = 0;  // bytes of file data archived
  uint64_t archive_bytes = 0;
};

// Writes the whole tree ("/") of the filesystem on `device` to `path`
// (tar.gz, replaced atomically). Errors name the filesystem and the file.
Result<DrillExport> ExportFiles(std::shared_ptr<volume::BlockDevice> device,
                                const std::string& path);

}  // namespace cairn::service

#endif  // CAIRN_SERVICE_DRILL_EXPORT_H_
