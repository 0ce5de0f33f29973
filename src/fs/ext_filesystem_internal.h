// ExtFilesystem::Impl, shared by ext_filesystem.cc (open, lookup, stat,
// list) and ext_file_reader.cc (file contents, symlinks, xattrs). Internal
// to fs/: the only header that includes libext2fs (callers see
// ext_filesystem.h, which does not).
#ifndef CAIRN_FS_EXT_FILESYSTEM_INTERNAL_H_
#define CAIRN_FS_EXT_FILESYSTEM_INTERNAL_H_

#include <ext2fs/ext2fs.h>

#include <memory>
#include <string>

#include "fs/ext_filesystem.h"
#include "fs/ext_io_manager.h"

namespace cairn::fs {

struct ExtFilesystem::Impl {
  std::shared_ptr<ExtDevice> dev;
  ext2_filsys fs = nullptr;
  std::string type;  // ext2/ext3/ext4
  std::string description;

  ~Impl() {
    if (fs != nullptr) ext2fs_close_free(&fs);
  }

  // A Status for libext2fs error `err` while doing `what`: the device's own
  // error when a read failed (it names the snapshot block), else the
  // errcode's text. kCorruption for checksum and structure errors.
  Status Error(errcode_t err, std::string_view what);
  // Reads the inode (large form, so that nanosecond times are there).
  Status ReadInode(uint32_t ino, ext2_inode_large* inode);
};

}  // namespace cairn::fs

#endif  // CAIRN_FS_EXT_FILESYSTEM_INTERNAL_H_
