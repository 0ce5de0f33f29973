// HydrationState: which blocks of a hydrating volume are local, as kept in
// the volume directory (DIR/hydration). One bit per source block (the
// BlockSource's BlockSize(), 512 KiB for a repository snapshot); a set bit
// means the data file holds the volume's content for that block (filled from
// the source, written by a client, or a hole of the source).
//
// File format (little-endian; docs/volumes.md "Hydration"):
//
//   "CAIRNHYD" | u32 version (1) | u32 block_size | u64 source_size |
//   u64 total_bytes | u8 done | u64 word_count | word_count × u64
//   (bit i of word w = block 64·w + i) | SHA-256 of everything before
//
// `total_bytes` is what had to be fetched when hydration began (the source's
// data blocks), for progress. The file is replaced atomically and synced
// (WriteFileAtomic); a damaged file is kCorruption, never guessed at: a wrong
// guess could refill a block over client data.
//
// Thread-safety: a plain value; the owner (Hydrator) guards it.
#ifndef CAIRN_VOLUME_HYDRATION_STATE_H_
#define CAIRN_VOLUME_HYDRATION_STATE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"

namespace cairn::volume {

inline constexpr std::string_view kHydrationFile = "hydration";

struct HydrationState {
  uint32_t block_size = 0;
  uint64_t source_size = 0;
  uint64_t total_bytes = 0;
  bool done = false;
  std::vector<uint64_t> words;  // bit per block: local

  // A state with every bit clear for a source of `source_size` bytes.
  static HydrationState Empty(uint32_t block_size, uint64_t source_size);

  uint64_t block_count() const { return (source_size + block_size - 1) / block_size; }
  // Bytes of block `b` (the last one may be short).
  uint64_t BlockBytes(uint64_t b) const;
  bool Test(uint64_t b) const { return (words[b / 64] >> (b % 64)) & 1; }
  void Set(uint64_t b) { words[b / 64] |= uint64_t{1} << (b % 64); }
  // Bytes of the blocks not local.
  uint64_t MissingBytes() const;

  Buffer Encode() const;
  // kCorruption naming `what` when the bytes are not a valid state file.
  static Result<HydrationState> Decode(ByteSpan file, std::string_view what);

  // DIR/hydration: nullopt when there is none.
  static Result<std::optional<HydrationState>> Load(const std::string& path);
  // Atomic replace, synced (content and rename) before returning.
  Status Save(const std::string& path) const;
};

}  // namespace cairn::volume

#endif  // CAIRN_VOLUME_HYDRATION_STATE_H_
