// ExtFilesystem: open, path lookup, stat, directory listing. File contents,
// symlinks and xattrs are in ext_file_reader.cc.
extern "C" {  // com_err.h has no C++ guard
#include <et/com_err.h>
}
#include <fmt/format.h>
#include <sys/stat.h>

#include <cstddef>
#include <cstring>

#include "core/log.h"
#include "fs/ext_filesystem_internal.h"
#include "fs/fs_probe.h"

namespace cairn::fs {
namespace {

bool IsCorruption(errcode_t err) {
  switch (err) {
    case EXT2_ET_BAD_MAGIC:
    case EXT2_ET_SB_CSUM_INVALID:
    case EXT2_ET_INODE_CSUM_INVALID:
    case EXT2_ET_DIR_CSUM_INVALID:
    case EXT2_ET_EXTENT_CSUM_INVALID:
    case EXT2_ET_BLOCK_BITMAP_CSUM_INVALID:
    case EXT2_ET_INODE_BITMAP_CSUM_INVALID:
    case EXT2_ET_EXT_ATTR_CSUM_INVALID:
    case EXT2_ET_DIR_CORRUPTED:
    case EXT2_ET_CORRUPT_SUPERBLOCK:
    case EXT2_ET_EXTENT_HEADER_BAD:
    case EXT2_ET_EA_BAD_NAME_LEN:
    case EXT2_ET_EA_BAD_VALUE_SIZE:
    case EXT2_ET_BAD_EA_HEADER:
    case EXT2_ET_GDESC_BAD_INODE_TABLE:
    case EXT2_ET_BAD_INODE_NUM:
      return true;
    default:
      return false;
  }
}

std::string UuidString(const __u8* u) {
  return fmt::format(
      "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-"
      "{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
      u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
      u[15]);
}

// Seconds (32 bits, with 2 epoch bits in `extra`) and nanoseconds.
int64_t TimeNs(uint32_t seconds, uint32_t extra, bool has_extra) {
  int64_t s = static_cast<int32_t>(seconds);
  int64_t ns = 0;
  if (has_extra) {
    s += static_cast<int64_t>(extra & EXT4_EPOCH_MASK) << 32;
    ns = extra >> EXT4_EPOCH_BITS;
  }
  return s * 1'000'000'000 + ns;
}

// Whether the large inode's extra part holds the field ending at `end`.
bool HasExtra(const ext2_inode_large& inode, size_t end, int inode_size) {
  return inode_size > EXT2_GOOD_OLD_INODE_SIZE &&
         size_t{EXT2_GOOD_OLD_INODE_SIZE} + inode.i_extra_isize >= end;
}

struct ListState {
  std::vector<DirEntry>* out;
};

int ListCallback(ext2_ino_t /*dir*/, int entry, struct ext2_dir_entry* dirent, int /*offset*/,
                 int /*blocksize*/, char* /*buf*/, void* priv) {
  auto* state = static_cast<ListState*>(priv);
  const int len = ext2fs_dirent_name_len(dirent);
  std::string name(dirent->name, len);
  // The directory's own "." and ".." are left out; a crafted entry with
  // such a name elsewhere is listed (its users decide what to do with it).
  if (dirent->inode == 0 || entry == DIRENT_DOT_FILE || entry == DIRENT_DOT_DOT_FILE) return 0;
  state->out->push_back({std::move(name), dirent->inode});
  return 0;
}

}  // namespace

Status ExtFilesystem::Impl::Error(errcode_t err, std::string_view what) {
  if (!dev->last_error.ok()) {
    Status s = dev->last_error.WithContext(what);
    dev->last_error = Status::OK();
    return s;
  }
  std::string message = fmt::format("{}: {} ({})", what, error_message(err), description);
  if (IsCorruption(err)) return CorruptionError(std::move(message));
  if (err == EXT2_ET_NO_MEMORY) return ResourceExhaustedError(std::move(message));
  return IoError(std::move(message));
}

Status ExtFilesystem::Impl::ReadInode(uint32_t ino, ext2_inode_large* inode) {
  if (ino == 0 || ino > fs->super->s_inodes_count) {
    return InvalidArgumentError(
        fmt::format("inode {} is out of range (the filesystem has {} "
                    "inodes)",
                    ino, fs->super->s_inodes_count));
  }
  std::memset(inode, 0, sizeof(*inode));
  errcode_t err =
      ext2fs_read_inode_full(fs, ino, reinterpret_cast<ext2_inode*>(inode), sizeof(*inode));
  if (err) return Error(err, fmt::format("reading inode {}", ino));
  return Status::OK();
}

ExtFilesystem::ExtFilesystem(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ExtFilesystem::~ExtFilesystem() = default;

Result<std::unique_ptr<ExtFilesystem>> ExtFilesystem::Open(
    std::shared_ptr<volume::BlockDevice> device, const ReadaheadOptions& readahead) {
  const std::string where = device->Describe();
  ASSIGN_OR_RETURN_CTX(std::string type, ProbeFilesystem(*device), "probing " + where);
  if (type.empty()) {
    return InvalidArgumentError("no filesystem found on " + where +
                                " (a partitioned disk? see `cairn snapshot partitions`)");
  }
  if (type != "ext2" && type != "ext3" && type != "ext4") {
    return InvalidArgumentError(where + ": unsupported filesystem: " + type +
                                " (cairn reads ext2, ext3 and ext4)");
  }
  auto impl = std::make_unique<Impl>();
  impl->type = type;
  impl->readahead = readahead;
  impl->dev = std::make_shared<ExtDevice>();
  impl->dev->device = std::move(device);
  impl->description = type + " on " + where;
  const std::string name = RegisterExtDevice(impl->dev);
  errcode_t err = ext2fs_open2(name.c_str(), nullptr, EXT2_FLAG_64BITS | EXT2_FLAG_SKIP_MMP, 0, 0,
                               CairnIoManager(), &impl->fs);
  UnregisterExtDevice(name);
  if (err) {
    impl->fs = nullptr;
    return impl->Error(err, "opening the " + type + " filesystem on " + where);
  }
  ext2_super_block* sb = impl->fs->super;
  std::string label(
      reinterpret_cast<const char*>(sb->s_volume_name),
      strnlen(reinterpret_cast<const char*>(sb->s_volume_name), sizeof(sb->s_volume_name)));
  impl->description = fmt::format("{} on {} ({}{})", type, where, label.empty() ? "" : label + ", ",
                                  UuidString(sb->s_uuid));
  if (ext2fs_has_feature_journal_needs_recovery(sb)) {
    LogWarning(impl->description +
               ": the journal needs recovery (the snapshot was taken while mounted); files "
               "are read as of the last journal checkpoint and the newest changes may be "
               "missing");
  }
  return std::unique_ptr<ExtFilesystem>(new ExtFilesystem(std::move(impl)));
}

std::string ExtFilesystem::Describe() const { return impl_->description; }

Result<uint32_t> ExtFilesystem::Lookup(std::string_view path) {
  uint32_t ino = kRootIno;
  std::string walked;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view part = path.substr(pos, slash - pos);
    pos = slash + 1;
    if (part.empty() || part == ".") continue;
    ASSIGN_OR_RETURN(Inode dir, Stat(ino));
    if (!S_ISDIR(dir.mode)) {
      return FailedPreconditionError(fmt::format("{} is not a directory (looking up {})",
                                                 walked.empty() ? "/" : walked, path));
    }
    walked += "/";
    walked += part;
    ext2_ino_t next = 0;
    errcode_t err =
        ext2fs_lookup(impl_->fs, ino, part.data(), static_cast<int>(part.size()), nullptr, &next);
    if (err == EXT2_ET_FILE_NOT_FOUND) return NotFoundError("no such file: " + walked);
    if (err) return impl_->Error(err, "looking up " + walked);
    ino = next;
    if (pos < path.size()) {
      ASSIGN_OR_RETURN(Inode inode, Stat(ino));
      if (S_ISLNK(inode.mode)) {
        return FailedPreconditionError(walked +
                                       " is a symbolic link (cairn follows none; "
                                       "use the link's target path)");
      }
    }
  }
  return ino;
}

Result<Inode> ExtFilesystem::Stat(uint32_t ino) {
  ext2_inode_large raw;
  RETURN_IF_ERROR(impl_->ReadInode(ino, &raw));
  const int isize = EXT2_INODE_SIZE(impl_->fs->super);
  Inode out;
  out.ino = ino;
  out.mode = raw.i_mode;
  out.uid = inode_uid(raw);
  out.gid = inode_gid(raw);
  out.size = EXT2_I_SIZE(&raw);
  out.links = raw.i_links_count;
  out.atime_ns = TimeNs(raw.i_atime, raw.i_atime_extra,
                        HasExtra(raw, offsetof(ext2_inode_large, i_atime_extra) + 4, isize));
  out.mtime_ns = TimeNs(raw.i_mtime, raw.i_mtime_extra,
                        HasExtra(raw, offsetof(ext2_inode_large, i_mtime_extra) + 4, isize));
  out.ctime_ns = TimeNs(raw.i_ctime, raw.i_ctime_extra,
                        HasExtra(raw, offsetof(ext2_inode_large, i_ctime_extra) + 4, isize));
  if (S_ISCHR(raw.i_mode) || S_ISBLK(raw.i_mode)) {
    if (raw.i_block[0] != 0) {  // old encoding: 8-bit major and minor
      out.rdev_major = (raw.i_block[0] >> 8) & 0xff;
      out.rdev_minor = raw.i_block[0] & 0xff;
    } else {  // new encoding (Linux's new_encode_dev)
      const uint32_t d = raw.i_block[1];
      out.rdev_major = (d & 0xfff00) >> 8;
      out.rdev_minor = (d & 0xff) | ((d >> 12) & 0xfff00);
    }
  }
  return out;
}

Result<std::vector<DirEntry>> ExtFilesystem::List(uint32_t dir_ino) {
  ASSIGN_OR_RETURN(Inode dir, Stat(dir_ino));
  if (!S_ISDIR(dir.mode)) {
    return FailedPreconditionError(fmt::format("inode {} is not a directory", dir_ino));
  }
  std::vector<DirEntry> out;
  ListState state{&out};
  errcode_t err = ext2fs_dir_iterate2(impl_->fs, dir_ino, 0, nullptr, ListCallback, &state);
  if (err) return impl_->Error(err, fmt::format("listing directory inode {}", dir_ino));
  return out;
}

}  // namespace cairn::fs
