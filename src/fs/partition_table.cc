// Hand-written GPT and MBR parsers (docs/format.md of UEFI 2.10 §5 for GPT;
// the classic PC layout for MBR). The layouts are small and fixed, and the
// parser is a few dozen lines, so no libfdisk/libblkid (docs/decisions.md).
#include "fs/partition_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "core/log.h"

namespace cairn::fs {
namespace {

constexpr uint64_t kSector = 512;

uint32_t Crc32(ByteSpan data) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (std::byte b : data) crc = table[(crc ^ std::to_integer<uint32_t>(b)) & 0xff] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

uint16_t GetU16LE(ByteSpan b) {
  return static_cast<uint16_t>(std::to_integer<uint16_t>(b[0]) |
                               (std::to_integer<uint16_t>(b[1]) << 8));
}

Result<Buffer> ReadAt(volume::BlockDevice& device, uint64_t offset, uint64_t length) {
  if (offset > device.Size() || length > device.Size() - offset) {
    return CorruptionError(fmt::format("range at offset {} length {} is outside {} (size {})",
                                       offset, length, device.Describe(), device.Size()));
  }
  Buffer buf(length);
  RETURN_IF_ERROR(device.Read(offset, buf));
  return buf;
}

// "c12a7328-f81f-11d2-ba4b-00a0c93ec93b": the first three fields are stored
// little-endian, the last two as bytes.
std::string GuidString(ByteSpan g) {
  std::string s = fmt::format("{:08x}-{:04x}-{:04x}-", GetU32LE(g), GetU16LE(g.subspan(4)),
                              GetU16LE(g.subspan(6)));
  for (int i = 8; i < 16; ++i) {
    if (i == 10) s += '-';
    s += fmt::format("{:02x}", std::to_integer<unsigned>(g[i]));
  }
  return s;
}

// UTF-16LE (36 code units, NUL-padded) to UTF-8.
std::string GptName(ByteSpan raw) {
  std::string out;
  for (size_t i = 0; i + 1 < raw.size(); i += 2) {
    uint32_t c = GetU16LE(raw.subspan(i));
    if (c == 0) break;
    if (c >= 0xD800 && c <= 0xDBFF && i + 3 < raw.size()) {
      uint32_t low = GetU16LE(raw.subspan(i + 2));
      if (low >= 0xDC00 && low <= 0xDFFF) {
        c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
        i += 2;
      }
    }
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | (c >> 12));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (c >> 18));
      out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

struct GptHeader {
  uint64_t entries_lba = 0;
  uint32_t entry_count = 0;
  uint32_t entry_size = 0;
  uint32_t entries_crc = 0;
};

// The GPT header at `lba`, checked (signature, size, CRC); kCorruption says
// what is wrong with it.
Result<GptHeader> ReadGptHeader(volume::BlockDevice& device, uint64_t lba, uint64_t lba_size,
                                std::string_view which) {
  const std::string what =
      fmt::format("{} GPT header at LBA {} of {}", which, lba, device.Describe());
  ASSIGN_OR_RETURN_CTX(Buffer sector, ReadAt(device, lba * lba_size, lba_size), what);
  if (std::memcmp(sector.data(), "EFI PART", 8) != 0) {
    return CorruptionError(what + ": no \"EFI PART\" signature");
  }
  const uint32_t header_size = GetU32LE(ByteSpan(sector).subspan(12));
  if (header_size < 92 || header_size > lba_size) {
    return CorruptionError(fmt::format("{}: bad header size {}", what, header_size));
  }
  const uint32_t stored_crc = GetU32LE(ByteSpan(sector).subspan(16));
  Buffer copy(sector.begin(), sector.begin() + header_size);
  std::memset(copy.data() + 16, 0, 4);
  const uint32_t crc = Crc32(copy);
  if (crc != stored_crc) {
    return CorruptionError(fmt::format("{}: header CRC32 mismatch (stored {:08x}, computed {:08x})",
                                       what, stored_crc, crc));
  }
  GptHeader h;
  ByteSpan s(sector);
  h.entries_lba = GetU64LE(s.subspan(72));
  h.entry_count = GetU32LE(s.subspan(80));
  h.entry_size = GetU32LE(s.subspan(84));
  h.entries_crc = GetU32LE(s.subspan(88));
  if (h.entry_size < 128 || h.entry_size > 4096 || h.entry_size % 8 != 0 || h.entry_count > 4096) {
    return CorruptionError(fmt::format("{}: implausible partition array ({} entries of {} bytes)",
                                       what, h.entry_count, h.entry_size));
  }
  return h;
}

Result<std::vector<Partition>> ReadGptEntries(volume::BlockDevice& device, const GptHeader& h,
                                              uint64_t lba_size, std::string_view which) {
  const std::string what = fmt::format("{} GPT partition array at LBA {} of {}", which,
                                       h.entries_lba, device.Describe());
  ASSIGN_OR_RETURN_CTX(
      Buffer array,
      ReadAt(device, h.entries_lba * lba_size, uint64_t{h.entry_count} * h.entry_size), what);
  const uint32_t crc = Crc32(array);
  if (crc != h.entries_crc) {
    return CorruptionError(fmt::format("{}: CRC32 mismatch (stored {:08x}, computed {:08x})", what,
                                       h.entries_crc, crc));
  }
  std::vector<Partition> out;
  for (uint32_t i = 0; i < h.entry_count; ++i) {
    ByteSpan e = ByteSpan(array).subspan(uint64_t{i} * h.entry_size, h.entry_size);
    if (IsAllZero(e.subspan(0, 16))) continue;  // unused entry
    const uint64_t first = GetU64LE(e.subspan(32));
    const uint64_t last = GetU64LE(e.subspan(40));
    if (last < first) {
      return CorruptionError(fmt::format("{}: entry {} ends (LBA {}) before it starts (LBA {})",
                                         what, i + 1, last, first));
    }
    Partition p;
    p.number = static_cast<int>(i + 1);
    p.offset = first * lba_size;
    p.size = (last - first + 1) * lba_size;
    p.scheme = "gpt";
    p.type = GuidString(e.subspan(0, 16));
    p.name = GptName(e.subspan(56, std::min<size_t>(72, h.entry_size - 56)));
    out.push_back(std::move(p));
  }
  return out;
}

Result<std::vector<Partition>> ReadGpt(volume::BlockDevice& device, uint64_t lba_size) {
  auto primary = ReadGptHeader(device, 1, lba_size, "primary");
  if (primary.ok()) {
    auto entries = ReadGptEntries(device, *primary, lba_size, "primary");
    if (entries.ok()) return entries;
    primary = entries.status();
  }
  const uint64_t last_lba = device.Size() / lba_size - 1;
  auto backup = ReadGptHeader(device, last_lba, lba_size, "backup");
  if (!backup.ok()) {
    return CorruptionError(fmt::format("no valid GPT on {}: {}; {}", device.Describe(),
                                       primary.status().message(), backup.status().message()));
  }
  auto entries = ReadGptEntries(device, *backup, lba_size, "backup");
  if (!entries.ok()) {
    return CorruptionError(fmt::format("no valid GPT on {}: {}; {}", device.Describe(),
                                       primary.status().message(), entries.status().message()));
  }
  LogWarning(
      fmt::format("{}; using the backup GPT header at LBA {} (repair the disk with "
                  "`sgdisk -e` or `fdisk`)",
                  primary.status().message(), last_lba));
  return entries;
}

struct MbrEntry {
  uint8_t status = 0;
  uint8_t type = 0;
  uint64_t start = 0;  // sectors
  uint64_t sectors = 0;
};

std::array<MbrEntry, 4> MbrEntries(ByteSpan sector) {
  std::array<MbrEntry, 4> out;
  for (int i = 0; i < 4; ++i) {
    ByteSpan e = sector.subspan(446 + 16 * i, 16);
    out[i].status = std::to_integer<uint8_t>(e[0]);
    out[i].type = std::to_integer<uint8_t>(e[4]);
    out[i].start = GetU32LE(e.subspan(8));
    out[i].sectors = GetU32LE(e.subspan(12));
  }
  return out;
}

bool IsExtended(uint8_t type) { return type == 0x05 || type == 0x0F || type == 0x85; }

// Sector 0 of a FAT or NTFS filesystem also ends in 55 AA: such a sector is
// a boot sector, not a partition table.
bool LooksLikeBootSector(ByteSpan s) {
  auto has = [&](size_t at, std::string_view text) {
    return AsStringView(s.subspan(at, text.size())) == text;
  };
  return has(3, "NTFS    ") || has(3, "EXFAT   ") || has(54, "FAT1") || has(82, "FAT32   ");
}

Partition MbrPartition(int number, uint64_t start_sector, const MbrEntry& e) {
  Partition p;
  p.number = number;
  p.offset = start_sector * kSector;
  p.size = e.sectors * kSector;
  p.scheme = "mbr";
  p.type = fmt::format("0x{:02x}", e.type);
  return p;
}

Status ReadLogical(volume::BlockDevice& device, uint64_t ext_start, std::vector<Partition>& out) {
  uint64_t ebr = ext_start;
  int number = 5;
  for (int hops = 0; hops < 256; ++hops) {
    const std::string what =
        fmt::format("extended boot record at sector {} of {}", ebr, device.Describe());
    ASSIGN_OR_RETURN_CTX(Buffer sector, ReadAt(device, ebr * kSector, kSector), what);
    if (sector[510] != std::byte{0x55} || sector[511] != std::byte{0xAA}) {
      return CorruptionError(what + ": no 55 AA signature");
    }
    auto entries = MbrEntries(sector);
    if (entries[0].type != 0 && entries[0].sectors != 0) {
      out.push_back(MbrPartition(number++, ebr + entries[0].start, entries[0]));
    }
    if (!IsExtended(entries[1].type) || entries[1].sectors == 0) return Status::OK();
    ebr = ext_start + entries[1].start;
  }
  return CorruptionError(
      fmt::format("extended partition at sector {} of {}: more than 256 "
                  "logical partitions (a loop in the chain?)",
                  ext_start, device.Describe()));
}

}  // namespace

Result<std::vector<Partition>> ReadPartitions(volume::BlockDevice& device) {
  if (device.Size() < 2 * kSector) return std::vector<Partition>{};
  ASSIGN_OR_RETURN(Buffer mbr, ReadAt(device, 0, kSector));
  if (mbr[510] != std::byte{0x55} || mbr[511] != std::byte{0xAA}) return std::vector<Partition>{};
  if (LooksLikeBootSector(mbr)) return std::vector<Partition>{};
  auto entries = MbrEntries(mbr);
  for (const MbrEntry& e : entries) {
    if (e.status != 0 && e.status != 0x80) return std::vector<Partition>{};  // not an MBR
  }
  if (std::any_of(entries.begin(), entries.end(),
                  [](const MbrEntry& e) { return e.type == 0xEE; })) {
    // Protective MBR: GPT with 512-byte sectors, else 4096-byte ones.
    for (uint64_t lba_size : {uint64_t{512}, uint64_t{4096}}) {
      if (device.Size() < 2 * lba_size) break;
      ASSIGN_OR_RETURN(Buffer sector, ReadAt(device, lba_size, 8));
      if (std::memcmp(sector.data(), "EFI PART", 8) == 0) {
        ASSIGN_OR_RETURN(auto parts, ReadGpt(device, lba_size));
        return parts;
      }
    }
    return ReadGpt(device, 512);  // primary is gone: the backup may still be there
  }
  std::vector<Partition> out;
  for (int i = 0; i < 4; ++i) {
    const MbrEntry& e = entries[i];
    if (e.type == 0 || e.sectors == 0) continue;
    out.push_back(MbrPartition(i + 1, e.start, e));
    if (IsExtended(e.type)) RETURN_IF_ERROR(ReadLogical(device, e.start, out));
  }
  std::sort(out.begin(), out.end(),
            [](const Partition& a, const Partition& b) { return a.number < b.number; });
  return out;
}

}  // namespace cairn::fs
