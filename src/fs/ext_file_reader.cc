// ExtFilesystem: file contents, symlink targets, extended attributes.
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>

#include "fs/ext_filesystem_internal.h"
#include "fs/ordered_reader.h"

namespace cairn::fs {
namespace {

constexpr uint64_t kPiece = OrderedReader::kMaxPiece;  // ReadFile hands out at most 1 MiB at a time

struct XattrState {
  std::vector<std::pair<std::string, Buffer>>* out;
};

int XattrCallback(char* name, char* value, size_t value_len, void* priv) {
  auto* state = static_cast<XattrState*>(priv);
  const auto* bytes = reinterpret_cast<const std::byte*>(value);
  state->out->emplace_back(std::string(name), Buffer(bytes, bytes + value_len));
  return 0;
}

// Closes a libext2fs file on every path out.
struct FileCloser {
  ext2_file_t file = nullptr;
  ~FileCloser() {
    if (file != nullptr) ext2fs_file_close(file);
  }
};

}  // namespace

// Inline data (bytes inside the inode): through libext2fs's file reader.
Status ExtFilesystem::Impl::ReadInlineFile(uint32_t ino, uint64_t size,
                                           const std::function<Status(ByteSpan)>& sink) {
  FileCloser closer;
  errcode_t err = ext2fs_file_open(fs, ino, 0, &closer.file);
  if (err) return Error(err, fmt::format("opening file inode {}", ino));
  Buffer piece(std::min<uint64_t>(kPiece, std::max<uint64_t>(size, 1)));
  uint64_t done = 0;
  while (done < size) {
    const unsigned int want =
        static_cast<unsigned int>(std::min<uint64_t>(piece.size(), size - done));
    unsigned int got = 0;
    err = ext2fs_file_read(closer.file, piece.data(), want, &got);
    if (err) return Error(err, fmt::format("reading file inode {} at offset {}", ino, done));
    if (got == 0) {
      return CorruptionError(fmt::format("file inode {} ends at {} bytes but its size is {} ({})",
                                         ino, done, size, description));
    }
    RETURN_IF_ERROR(sink(ByteSpan(piece.data(), got)));
    done += got;
  }
  return Status::OK();
}

Status ExtFilesystem::Impl::StreamSegments(uint32_t ino, const std::vector<Segment>& segments,
                                           const std::function<Status(ByteSpan)>& sink) {
  // Pieces of at most kPiece bytes; a data piece ends at a kPiece boundary
  // of the device, so that pieces line up with the repository's blocks.
  size_t i = 0;
  uint64_t done = 0;  // bytes of segments[i] handed out
  auto next = [&]() -> Result<std::optional<ReadPiece>> {
    while (i < segments.size() && done == segments[i].length) {
      ++i;
      done = 0;
    }
    if (i == segments.size()) return std::optional<ReadPiece>();
    const Segment& seg = segments[i];
    ReadPiece p;
    p.file_offset = seg.offset + done;
    p.zero = seg.hole;
    uint64_t len = std::min<uint64_t>(kPiece, seg.length - done);
    if (!p.zero) {
      p.device_offset = seg.device_offset + done;
      len = std::min<uint64_t>(len, kPiece - p.device_offset % kPiece);
    }
    p.length = static_cast<uint32_t>(len);
    done += len;
    return std::optional<ReadPiece>(p);
  };
  ThreadPool* pool = nullptr;
  if (readahead.window > 0 && readahead.threads > 0) {
    if (!pool_) pool_ = std::make_unique<ThreadPool>(readahead.threads);
    pool = pool_.get();
  }
  OrderedReader reader(dev->device, pool, readahead.window);
  return reader.Run(next, sink, fmt::format("reading file inode {}", ino));
}

Status ExtFilesystem::ReadFile(uint32_t ino, const std::function<Status(ByteSpan)>& sink) {
  ASSIGN_OR_RETURN(Inode inode, Stat(ino));
  if (!S_ISREG(inode.mode)) {
    return FailedPreconditionError(
        fmt::format("inode {} is not a regular file (mode {:o})", ino, inode.mode));
  }
  ASSIGN_OR_RETURN(std::vector<FileExtent> extents, FileExtents(ino));
  if (!extents.empty() && extents.front().in_inode) {
    return impl_->ReadInlineFile(ino, inode.size, sink);
  }
  // Data extents with the holes between them.
  std::vector<Impl::Segment> segments;
  uint64_t at = 0;
  for (const FileExtent& e : extents) {
    if (e.offset > at) segments.push_back({at, e.offset - at, 0, true});
    segments.push_back({e.offset, e.length, e.device_offset, false});
    at = e.offset + e.length;
  }
  if (inode.size > at) segments.push_back({at, inode.size - at, 0, true});
  return impl_->StreamSegments(ino, segments, sink);
}

Status ExtFilesystem::ReadExtents(uint32_t ino, const std::vector<FileExtent>& extents,
                                  const std::function<Status(ByteSpan)>& sink) {
  if (!extents.empty() && extents.front().in_inode) {
    // Inline data: one extent, the whole (small) file.
    ASSIGN_OR_RETURN(Inode inode, Stat(ino));
    return impl_->ReadInlineFile(ino, inode.size, sink);
  }
  std::vector<Impl::Segment> segments;
  for (const FileExtent& e : extents) {
    segments.push_back({e.offset, e.length, e.device_offset, false});
  }
  return impl_->StreamSegments(ino, segments, sink);
}

Result<std::string> ExtFilesystem::ReadLink(uint32_t ino) {
  ext2_inode_large raw;
  RETURN_IF_ERROR(impl_->ReadInode(ino, &raw));
  if (!LINUX_S_ISLNK(raw.i_mode)) {
    return FailedPreconditionError(fmt::format("inode {} is not a symbolic link", ino));
  }
  const uint64_t size = EXT2_I_SIZE(&raw);
  if (size > 65536) {
    return CorruptionError(fmt::format("symbolic link inode {} claims a {}-byte target ({})", ino,
                                       size, impl_->description));
  }
  if (ext2fs_is_fast_symlink(reinterpret_cast<ext2_inode*>(&raw))) {
    const char* target = reinterpret_cast<const char*>(raw.i_block);
    return std::string(target, std::min<uint64_t>(size, sizeof(raw.i_block)));
  }
  // Slow symlink (target in a data block) or inline-data symlink: read it
  // like a file.
  FileCloser closer;
  errcode_t err = ext2fs_file_open(impl_->fs, ino, 0, &closer.file);
  if (err) return impl_->Error(err, fmt::format("opening symbolic link inode {}", ino));
  std::string target(size, '\0');
  unsigned int got = 0;
  err = ext2fs_file_read(closer.file, target.data(), static_cast<unsigned int>(size), &got);
  if (err) return impl_->Error(err, fmt::format("reading symbolic link inode {}", ino));
  target.resize(got);
  return target;
}

Result<std::vector<std::pair<std::string, Buffer>>> ExtFilesystem::Xattrs(uint32_t ino) {
  ext2_inode_large raw;
  RETURN_IF_ERROR(impl_->ReadInode(ino, &raw));  // range check, clear error for a bad inode
  std::vector<std::pair<std::string, Buffer>> out;
  if (!ext2fs_has_feature_xattr(impl_->fs->super)) return out;
  struct ext2_xattr_handle* handle = nullptr;
  errcode_t err = ext2fs_xattrs_open(impl_->fs, ino, &handle);
  if (err) return impl_->Error(err, fmt::format("reading xattrs of inode {}", ino));
  err = ext2fs_xattrs_read(handle);
  if (!err) {
    XattrState state{&out};
    err = ext2fs_xattrs_iterate(handle, XattrCallback, &state);
  }
  ext2fs_xattrs_close(&handle);
  if (err) return impl_->Error(err, fmt::format("reading xattrs of inode {}", ino));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

}  // namespace cairn::fs
