#include "volume/change_map.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cairn::volume {
namespace {

using Range = ChangedExtents::Range;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ChangeMapTest, MarkCoversOverlappingBlocksAndMergesRuns) {
  ChangeMap m(1 << 20, 64 << 10);  // 16 blocks
  EXPECT_EQ(m.block_count(), 16u);
  EXPECT_TRUE(m.Mark(100, 1));                    // block 0
  EXPECT_FALSE(m.Mark(0, 4096));                  // already set
  EXPECT_TRUE(m.Mark((64 << 10) - 1, 2));         // blocks 0 and 1
  EXPECT_TRUE(m.Mark(5 * (64 << 10), 64 << 10));  // block 5 exactly
  EXPECT_FALSE(m.Mark(0, 0));
  EXPECT_FALSE(m.Mark(2 << 20, 10));  // beyond the device
  EXPECT_THAT(m.Ranges(1 << 20), ElementsAre(Range{0, 128 << 10}, Range{5 * (64 << 10), 64 << 10}));
  EXPECT_EQ(m.CountSet(), 3u);
}

TEST(ChangeMapTest, WordBoundariesAndPartialLastBlock) {
  const uint64_t size = 130 * 4096 + 100;  // 131 blocks of 4 KiB, the last one short
  ChangeMap m(size, 4096);
  EXPECT_TRUE(m.Mark(60 * 4096, 10 * 4096));  // blocks 60..69 cross word 0/1
  EXPECT_TRUE(m.Mark(size - 1, 1));           // block 130
  EXPECT_THAT(m.Ranges(size), ElementsAre(Range{60 * 4096, 10 * 4096}, Range{130 * 4096, 100}));
  // Clipped to a smaller limit (a view of the old size).
  EXPECT_THAT(m.Ranges(65 * 4096), ElementsAre(Range{60 * 4096, 5 * 4096}));
  EXPECT_TRUE(m.Mark(0, size));
  EXPECT_EQ(m.CountSet(), 131u);
  EXPECT_THAT(m.Ranges(size), ElementsAre(Range{0, size}));
}

TEST(ChangeMapTest, MergeAndResize) {
  ChangeMap a(64 * 4096, 4096), b(32 * 4096, 4096);
  b.Mark(3 * 4096, 1);
  a.Mark(40 * 4096, 1);
  a.MergeFrom(b);
  EXPECT_TRUE(a.Test(3));
  EXPECT_TRUE(a.Test(40));
  a.Resize(200 * 4096);
  EXPECT_EQ(a.block_count(), 200u);
  EXPECT_TRUE(a.Test(40));
  EXPECT_FALSE(a.Test(150));
  EXPECT_TRUE(a.Mark(199 * 4096, 1));
}

TEST(ChangeMapTest, EncodeDecodeRoundTripWithState) {
  ChangeMap m(1000 * 4096, 4096);
  m.Mark(7 * 4096, 3 * 4096);
  m.Mark(999 * 4096, 1);
  Buffer enc = m.Encode({false, "was not shut down cleanly"});
  Result<ChangeMap::Decoded> d = ChangeMap::Decode(enc, "test");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_FALSE(d->state.known);
  EXPECT_EQ(d->state.reason, "was not shut down cleanly");
  EXPECT_EQ(d->map->Ranges(1000 * 4096), m.Ranges(1000 * 4096));
  EXPECT_EQ(d->map->device_size(), 1000u * 4096);
}

TEST(ChangeMapTest, DamageIsDetected) {
  ChangeMap m(100 * 4096, 4096);
  m.Mark(0, 1);
  Buffer enc = m.Encode({});
  for (size_t pos : {size_t{0}, size_t{20}, enc.size() / 2, enc.size() - 1}) {
    Buffer bad = enc;
    bad[pos] ^= std::byte{1};
    Status s = ChangeMap::Decode(bad, "DIR/cbt").status();
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << pos;
    EXPECT_THAT(s.message(), HasSubstr("changed-block bitmap DIR/cbt is damaged"));
  }
  EXPECT_FALSE(ChangeMap::Decode(ByteSpan(enc).first(10), "x").ok());
}

}  // namespace
}  // namespace cairn::volume
