#include "cli/diff.h"

#include <gtest/gtest.h>

namespace cairn::cli {
namespace {

using repo::ChunkId;

ChunkId Id(int n) {
  ChunkId id;
  id.bytes[0] = std::byte(n);
  return id;
}

constexpr uint32_t kBs = 512 * 1024;

TEST(DiffTest, IdenticalMapsHaveNoRanges) {
  std::vector<ChunkId> a{Id(1), Id(2), ChunkId{}};
  EXPECT_TRUE(ChangedRanges(a, 3 * kBs, a, 3 * kBs, kBs).empty());
}

TEST(DiffTest, MergesAdjacentChangedBlocks) {
  std::vector<ChunkId> a(20, Id(1)), b(20, Id(1));
  for (int i = 12; i <= 15; ++i) b[i] = Id(2);
  b[18] = ChunkId{};  // now a zero block
  auto r = ChangedRanges(a, 20ull * kBs, b, 20ull * kBs, kBs);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].first_block, 12u);
  EXPECT_EQ(r[0].last_block, 15u);
  EXPECT_EQ(r[0].offset, 6291456u);
  EXPECT_EQ(r[0].length, 2u * 1024 * 1024);
  EXPECT_EQ(r[1].first_block, 18u);
  EXPECT_EQ(r[1].last_block, 18u);
}

TEST(DiffTest, GrownSnapshotEndsAtItsSize) {
  std::vector<ChunkId> a{Id(1), Id(2)};
  std::vector<ChunkId> b{Id(1), Id(2), Id(3), Id(4)};
  const uint64_t size_b = 3 * kBs + 100;  // last block short
  auto r = ChangedRanges(a, 2 * kBs, b, size_b, kBs);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].first_block, 2u);
  EXPECT_EQ(r[0].last_block, 3u);
  EXPECT_EQ(r[0].offset, 2u * kBs);
  EXPECT_EQ(r[0].length, kBs + 100u);
  // Symmetric when shrinking.
  auto s = ChangedRanges(b, size_b, a, 2 * kBs, kBs);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].length, kBs + 100u);
}

}  // namespace
}  // namespace cairn::cli
