// ExtFilesystem::FileExtents: where a regular file's data lives, from its
// extent tree (ext4) or its block map (ext2/3), so that holes and unwritten
// extents are known (sparse export) and data can be read straight from the
// device with read-ahead (ext_file_reader.cc).
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>

#include "fs/ext_filesystem_internal.h"

namespace cairn::fs {
namespace {

// A run of filesystem blocks: `count` blocks from logical `lblk` at `pblk`.
struct BlockRun {
  uint64_t lblk = 0, pblk = 0, count = 0;
};

// Closes an extent handle on every path out.
struct ExtentCloser {
  ext2_extent_handle_t handle = nullptr;
  ~ExtentCloser() {
    if (handle != nullptr) ext2fs_extent_free(handle);
  }
};

struct BlockMapState {
  std::vector<BlockRun>* runs;
};

int BlockMapCallback(ext2_filsys /*fs*/, blk64_t* blocknr, e2_blkcnt_t blockcnt,
                     blk64_t /*ref_blk*/, int /*ref_offset*/, void* priv) {
  if (blockcnt < 0 || *blocknr == 0) return 0;  // metadata (indirect) blocks, holes
  auto* state = static_cast<BlockMapState*>(priv);
  const auto l = static_cast<uint64_t>(blockcnt);
  if (!state->runs->empty()) {
    BlockRun& last = state->runs->back();
    if (last.lblk + last.count == l && last.pblk + last.count == *blocknr) {
      ++last.count;
      return 0;
    }
  }
  state->runs->push_back({l, *blocknr, 1});
  return 0;
}

}  // namespace

Result<std::vector<FileExtent>> ExtFilesystem::FileExtents(uint32_t ino) {
  ext2_inode_large raw;
  RETURN_IF_ERROR(impl_->ReadInode(ino, &raw));
  if (!LINUX_S_ISREG(raw.i_mode)) {
    return FailedPreconditionError(
        fmt::format("inode {} is not a regular file (mode {:o})", ino, raw.i_mode));
  }
  const uint64_t size = EXT2_I_SIZE(&raw);
  std::vector<FileExtent> out;
  if (size == 0) return out;
  if (raw.i_flags & EXT4_INLINE_DATA_FL) {
    out.push_back({0, size, 0, true});
    return out;
  }
  ext2_filsys fs = impl_->fs;
  std::vector<BlockRun> runs;
  if (raw.i_flags & EXT4_EXTENTS_FL) {
    ExtentCloser closer;
    errcode_t err =
        ext2fs_extent_open2(fs, ino, reinterpret_cast<ext2_inode*>(&raw), &closer.handle);
    if (err) return impl_->Error(err, fmt::format("reading the extent tree of inode {}", ino));
    ext2fs_extent extent;
    err = ext2fs_extent_get(closer.handle, EXT2_EXTENT_ROOT, &extent);
    while (!err) {
      if ((extent.e_flags & EXT2_EXTENT_FLAGS_LEAF) &&
          !(extent.e_flags & EXT2_EXTENT_FLAGS_SECOND_VISIT) &&
          !(extent.e_flags & EXT2_EXTENT_FLAGS_UNINIT) && extent.e_len > 0) {
        runs.push_back({extent.e_lblk, extent.e_pblk, extent.e_len});
      }
      err = ext2fs_extent_get(closer.handle, EXT2_EXTENT_NEXT, &extent);
    }
    if (err != EXT2_ET_EXTENT_NO_NEXT && err != EXT2_ET_EXTENT_NO_DOWN) {
      return impl_->Error(err, fmt::format("reading the extent tree of inode {}", ino));
    }
  } else {
    BlockMapState state{&runs};
    errcode_t err = ext2fs_block_iterate3(fs, ino, BLOCK_FLAG_READ_ONLY | BLOCK_FLAG_DATA_ONLY,
                                          nullptr, BlockMapCallback, &state);
    if (err) return impl_->Error(err, fmt::format("reading the block map of inode {}", ino));
  }
  std::sort(runs.begin(), runs.end(),
            [](const BlockRun& a, const BlockRun& b) { return a.lblk < b.lblk; });
  const uint64_t bs = fs->blocksize;
  const uint64_t fs_blocks = ext2fs_blocks_count(fs->super);
  const uint64_t device_size = impl_->dev->device->Size();
  for (const BlockRun& r : runs) {
    if (r.pblk == 0 || r.pblk >= fs_blocks || r.count > fs_blocks - r.pblk ||
        (r.pblk + r.count) * bs > device_size) {
      return CorruptionError(fmt::format(
          "inode {}: blocks {}..{} (file block {}) lie outside the filesystem of {} blocks "
          "or its device ({})",
          ino, r.pblk, r.pblk + r.count - 1, r.lblk, fs_blocks, impl_->description));
    }
    const uint64_t offset = r.lblk * bs;
    if (offset >= size) break;
    if (!out.empty() && offset < out.back().offset + out.back().length) {
      return CorruptionError(fmt::format("inode {}: file block {} is mapped twice ({})", ino,
                                         r.lblk, impl_->description));
    }
    const uint64_t length = std::min(r.count * bs, size - offset);
    const uint64_t device_offset = r.pblk * bs;
    if (!out.empty()) {
      FileExtent& last = out.back();
      if (last.offset + last.length == offset &&
          last.device_offset + last.length == device_offset) {
        last.length += length;
        continue;
      }
    }
    out.push_back({offset, length, device_offset, false});
  }
  return out;
}

}  // namespace cairn::fs
