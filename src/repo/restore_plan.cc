#include "repo/restore_plan.h"

#include <algorithm>
#include <tuple>
#include <unordered_map>

#include <fmt/format.h>

namespace cairn::repo {

std::string BlockContext(const SnapshotHeader& header, uint64_t block) {
  return fmt::format("snapshot {} block {} (byte offset {})", header.id.str(), block,
                     block * header.block_size);
}

Result<RestorePlan> BuildRestorePlan(const Index& index, const Manifest& manifest,
                                     uint64_t first, uint64_t count) {
  RestorePlan plan;
  std::unordered_map<PackId, uint32_t, DigestIdHash> pack_numbers;
  const uint64_t bs = manifest.header.block_size;
  const uint64_t total = manifest.blocks.size();
  const uint64_t end = first >= total ? first : first + std::min(count, total - first);
  for (uint64_t b = first; b < end; ++b) {
    const ChunkId& id = manifest.blocks[b];
    if (id.IsZero()) {
      plan.zero_blocks.push_back(b);
      continue;
    }
    std::optional<ChunkLocation> loc = index.Lookup(id);
    if (!loc) {
      return CorruptionError(fmt::format("{}: chunk {} is not in the index (was the pack "
                                       "removed? run `cairn repo check`)",
                                       BlockContext(manifest.header, b), id.Hex()));
    }
    auto [it, added] = pack_numbers.try_emplace(loc->pack, static_cast<uint32_t>(plan.packs.size()));
    if (added) plan.packs.push_back(loc->pack);
    plan.refs.push_back(BlockRef{it->second, loc->length, loc->raw_length, loc->offset, b});
    plan.data_bytes += std::min<uint64_t>(bs, manifest.header.size - b * bs);
  }
  std::sort(plan.refs.begin(), plan.refs.end(), [](const BlockRef& a, const BlockRef& b) {
    return std::tie(a.pack, a.offset, a.block) < std::tie(b.pack, b.offset, b.block);
  });

  for (size_t i = 0; i < plan.refs.size(); ++i) {
    const BlockRef& r = plan.refs[i];
    const uint64_t end = r.offset + r.length;
    if (!plan.jobs.empty()) {
      RangeJob& job = plan.jobs.back();
      const uint64_t job_end = job.offset + job.length;
      if (job.pack == r.pack && r.offset <= job_end + kMaxGap &&
          std::max(end, job_end) - job.offset <= kMaxRange) {
        job.length = std::max(end, job_end) - job.offset;
        job.last = i + 1;
        continue;
      }
    }
    plan.jobs.push_back(RangeJob{r.pack, r.offset, r.length, i, i + 1});
  }
  return plan;
}

}  // namespace cairn::repo
