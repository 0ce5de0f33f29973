// RestorePlan (internal to restore.cc): which pack ranges to fetch to restore
// a snapshot, built from its map and the index. Pure: no I/O.
//
// Non-zero blocks are located in the index and sorted by (pack, offset,
// block), so all blocks sharing a chunk are adjacent (the chunk is fetched
// and decoded once). Each pack's blobs are then cut into jobs: one GetRange
// per run of blobs whose gaps are at most kMaxGap and whose span is at most
// kMaxRange.
#ifndef CAIRN_REPO_RESTORE_PLAN_H_
#define CAIRN_REPO_RESTORE_PLAN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "repo/index.h"
#include "repo/manifest.h"

namespace cairn::repo {

// "snapshot snap-X block N (byte offset O)".
std::string BlockContext(const SnapshotHeader& header, uint64_t block);

struct BlockRef {
  uint32_t pack = 0;  // index into RestorePlan::packs
  uint32_t length = 0;
  uint32_t raw_length = 0;
  uint64_t offset = 0;  // of the blob in the pack
  uint64_t block = 0;
};

struct RangeJob {
  uint32_t pack = 0;
  uint64_t offset = 0;  // of the range in the pack
  uint64_t length = 0;
  size_t first = 0;  // refs [first, last) lie in this range
  size_t last = 0;
};

struct RestorePlan {
  std::vector<PackId> packs;
  std::vector<BlockRef> refs;
  std::vector<RangeJob> jobs;
  std::vector<uint64_t> zero_blocks;  // ascending
  uint64_t data_bytes = 0;            // plaintext bytes of the non-zero blocks
};

inline constexpr uint64_t kMaxGap = 256 << 10;
inline constexpr uint64_t kMaxRange = 8 << 20;

// The plan for blocks [first, first + count) of the snapshot (all of it by
// default; count is clipped at its end). kCorruption naming snapshot, block,
// offset and chunk if the index lacks a chunk the map names.
Result<RestorePlan> BuildRestorePlan(const Index& index, const Manifest& manifest,
                                     uint64_t first = 0, uint64_t count = UINT64_MAX);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_RESTORE_PLAN_H_
