#include "service/local_only_filler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cairn::service {
namespace {

using ::testing::HasSubstr;

constexpr uint32_t kBlock = 512 << 10;

// 5 blocks of a 2.5 MiB - 100 byte source: 0, 2 and 4 (the short last one)
// local, 1 and 3 not.
volume::HydrationState State() {
  volume::HydrationState s = volume::HydrationState::Empty(kBlock, 5ull * kBlock - 100);
  for (uint64_t b : {0, 2, 4}) s.Set(b);
  return s;
}

TEST(LocalOnlyFillerTest, LocalBlocksServeAndTheOthersFailNamingTheBlock) {
  LocalOnlyFiller f("vol-1", "snap-2", State());
  EXPECT_TRUE(f.Prepare(0, kBlock, false).ok());
  EXPECT_TRUE(f.Prepare(2ull * kBlock + 7, 4096, true).ok());     // a write into a local block
  EXPECT_TRUE(f.Prepare(4ull * kBlock, kBlock - 100, false).ok());  // the short last block
  EXPECT_TRUE(f.Prepare(5ull * kBlock, 8192, false).ok());          // beyond the source: zeros
  EXPECT_TRUE(f.Prepare(kBlock, 0, false).ok());

  Status s = f.Prepare(kBlock + 10, 100, false);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("volume vol-1 block 1 (offset 524288)"));
  EXPECT_THAT(s.message(), HasSubstr("snap-2"));
  // A range that starts local and reaches a missing block fails at it.
  EXPECT_THAT(f.Prepare(2ull * kBlock, 2ull * kBlock, false).message(),
              HasSubstr("block 3 (offset 1572864)"));
  // A whole-block overwrite of a missing block would need a saved mark.
  EXPECT_EQ(f.Prepare(3ull * kBlock, kBlock, true).code(), StatusCode::kUnavailable);
}

TEST(LocalOnlyFillerTest, WithoutAStateEveryIoFails) {
  LocalOnlyFiller f("vol-1", "snap-2", std::nullopt);
  Status s = f.Prepare(0, 4096, false);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("the daemon retries"));
}

}  // namespace
}  // namespace cairn::service
