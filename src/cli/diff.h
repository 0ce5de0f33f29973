// Block-map differences between two snapshots, for `snapshot diff`.
#ifndef CAIRN_CLI_DIFF_H_
#define CAIRN_CLI_DIFF_H_

#include <cstdint>
#include <span>
#include <vector>

#include "repo/ids.h"

namespace cairn::cli {

// Blocks first_block..last_block (inclusive) differ; they cover bytes
// [offset, offset + length) of the larger snapshot.
struct BlockRange {
  uint64_t first_block = 0;
  uint64_t last_block = 0;
  uint64_t offset = 0;
  uint64_t length = 0;
};

// Maximal runs of blocks whose chunk ids differ. A block present in only one
// map (the snapshots differ in size) counts as changed. `size_a`/`size_b`
// are the snapshot sizes in bytes, so the last range ends at the end of the
// larger one rather than at a block boundary.
std::vector<BlockRange> ChangedRanges(std::span<const repo::ChunkId> a,
                                      uint64_t size_a,
                                      std::span<const repo::ChunkId> b,
                                      uint64_t size_b, uint32_t block_size);

}  // namespace cairn::cli

#endif  // CAIRN_CLI_DIFF_H_
