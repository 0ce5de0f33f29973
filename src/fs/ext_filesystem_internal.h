// ExtFilesystem::Impl, shared by ext_filesystem.cc (open, lookup, stat,
// list) and ext_file_reader.cc (file contents, symlinks, xattrs). Internal
// to fs/: the only header that includes libext2fs (callers see
// ext_filesystem.h, which does not).
#ifndef CAIRN_FS_EXT_FILESYSTEM_INTERNAL_H_
#define CAIRN_FS_EXT_FILESYSTEM_INTERNAL_H_

#include <ext2fs/ext2fs.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "fs/ext_filesystem.h"
#include "fs/ext_io_manager.h"

namespace cairn::fs {

struct ExtFilesystem::Impl {
  std::shared_ptr<ExtDevice> dev;
  ext2_filsys fs = nullptr;
  std::string type;  // ext2/ext3/ext4
  std::string description;
  ReadaheadOptions readahead;
  std::unique_ptr<ThreadPool> pool_;  // read-ahead threads, started on first use

  ~Impl() {
    pool_.reset();
    if (fs != nullptr) ext2fs_close_free(&fs);
  }

  // A Status for libext2fs error `err` while doing `what`: the device's own
  // error when a read failed (it names the snapshot block), else the
  // errcode's text. kCorruption for checksum and structure errors.
  Status Error(errcode_t err, std::string_view what);
  // Reads the inode (large form, so that nanosecond times are there).
  Status ReadInode(uint32_t ino, ext2_inode_large* inode);
  // A stretch of a file to stream: data at `device_offset`, or a hole.
  struct Segment {
    uint64_t offset = 0;
    uint64_t length = 0;
    uint64_t device_offset = 0;
    bool hole = false;
  };
  // Streams `segments` in order: data read from the device with read-ahead,
  // holes as zeros.
  Status StreamSegments(uint32_t ino, const std::vector<Segment>& segments,
                        const std::function<Status(ByteSpan)>& sink);
  // An inline-data file's `size` bytes, through libext2fs.
  Status ReadInlineFile(uint32_t ino, uint64_t size, const std::function<Status(ByteSpan)>& sink);
};

}  // namespace cairn::fs

#endif  // CAIRN_FS_EXT_FILESYSTEM_INTERNAL_H_
