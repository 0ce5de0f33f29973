// Filesystem recognition from magic numbers (offsets as documented by each
// filesystem's on-disk format).
#include "fs/fs_probe.h"

#include <algorithm>
#include <cstring>

namespace cairn::fs {
namespace {

bool Has(ByteSpan b, size_t at, std::string_view magic) {
  return at + magic.size() <= b.size() && AsStringView(b.subspan(at, magic.size())) == magic;
}

// ext2/3/4 from the superblock at 1024: magic 0xEF53 at +56; the feature
// words at +92 (compat), +96 (incompat), +100 (ro_compat) tell the version.
std::string ExtVersion(ByteSpan sb) {
  if (sb.size() < 1024 + 104) return "";
  ByteSpan s = sb.subspan(1024);
  if (s[56] != std::byte{0x53} || s[57] != std::byte{0xEF}) return "";
  const uint32_t compat = GetU32LE(s.subspan(92));
  const uint32_t incompat = GetU32LE(s.subspan(96));
  const uint32_t ro_compat = GetU32LE(s.subspan(100));
  // ext4-only: extents, 64bit, flex_bg, huge_file, dir_nlink, extra_isize,
  // metadata_csum, ...
  constexpr uint32_t kExt4Incompat = 0x0040 | 0x0080 | 0x0200 | 0x0400 | 0x1000 | 0x8000;
  constexpr uint32_t kExt4RoCompat = 0x0008 | 0x0020 | 0x0040 | 0x0400;
  if ((incompat & kExt4Incompat) || (ro_compat & kExt4RoCompat)) return "ext4";
  if (compat & 0x0004) return "ext3";  // has_journal
  return "ext2";
}

}  // namespace

Result<std::string> ProbeFilesystem(volume::BlockDevice& device) {
  // Enough for every magic below except btrfs (64 KiB) and iso9660 (32 KiB).
  Buffer head(std::min<uint64_t>(device.Size(), 8192));
  RETURN_IF_ERROR(device.Read(0, head));
  ByteSpan b(head);
  if (std::string ext = ExtVersion(b); !ext.empty()) return ext;
  if (Has(b, 0, "XFSB")) return std::string("xfs");
  if (Has(b, 3, "NTFS    ")) return std::string("ntfs");
  if (Has(b, 54, "FAT1") || Has(b, 82, "FAT32   ")) return std::string("vfat");
  if (b.size() >= 4096 && (Has(b, 4086, "SWAPSPACE2") || Has(b, 4086, "SWAP-SPACE"))) {
    return std::string("swap");
  }
  auto probe_at = [&](uint64_t offset, std::string_view magic) -> Result<bool> {
    if (device.Size() < offset + magic.size()) return false;
    Buffer buf(magic.size());
    RETURN_IF_ERROR(device.Read(offset, buf));
    return AsStringView(buf) == magic;
  };
  ASSIGN_OR_RETURN(bool iso, probe_at(32768 + 1, "CD001"));
  if (iso) return std::string("iso9660");
  ASSIGN_OR_RETURN(bool btrfs, probe_at(65536 + 64, "_BHRfS_M"));
  if (btrfs) return std::string("btrfs");
  return std::string();
}

}  // namespace cairn::fs
