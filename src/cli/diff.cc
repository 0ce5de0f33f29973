#include "cli/diff.h"

#include <algorithm>

namespace cairn::cli {

std::vector<BlockRange> ChangedRanges(std::span<const repo::ChunkId> a,
                                      uint64_t size_a,
                                      std::span<const repo::ChunkId> b,
                                      uint64_t size_b, uint32_t block_size) {
  const uint64_t blocks = std::max(a.size(), b.size());
  const uint64_t end = std::max(size_a, size_b);
  std::vector<BlockRange> ranges;
  auto close = [&](uint64_t first, uint64_t last) {
    BlockRange r;
    r.first_block = first;
    r.last_block = last;
    r.offset = first * block_size;
    r.length = std::min((last + 1) * block_size, std::max(end, r.offset)) - r.offset;
    ranges.push_back(r);
  };
  bool open = false;
  uint64_t first = 0;
  for (uint64_t i = 0; i < blocks; ++i) {
    const bool changed = i >= a.size() || i >= b.size() || !(a[i] == b[i]);
    if (changed && !open) {
      open = true;
      first = i;
    } else if (!changed && open) {
      open = false;
      close(first, i - 1);
    }
  }
  if (open) close(first, blocks - 1);
  return ranges;
}

}  // namespace cairn::cli
