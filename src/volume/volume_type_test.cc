#include "volume/volume_type.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cairn::volume {
namespace {

using ::testing::HasSubstr;
constexpr double kMiB = 1 << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;

TEST(VolumeTypeTest, ParseNamesEveryTypeAndRejectsOthers) {
  for (auto t : {VolumeType::kGp3, VolumeType::kIo2, VolumeType::kSt1, VolumeType::kSc1,
                 VolumeType::kStandard}) {
    EXPECT_EQ(*ParseVolumeType(VolumeTypeName(t)), t);
  }
  Result<VolumeType> bad = ParseVolumeType("gp2");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("--volume-type"));
  EXPECT_THAT(bad.status().message(), HasSubstr("gp3, io2, st1, sc1, standard"));
}

TEST(VolumeTypeTest, Gp3DefaultsAndRanges) {
  QosConfig c = *ValidateQos({VolumeType::kGp3, 0, 0});
  EXPECT_EQ(c.iops, 3000u);
  EXPECT_EQ(c.throughput_mibps, 125u);
  QosLimits l = LimitsFor(c, 10 * kGiB);
  EXPECT_EQ(l.iops, 3000);
  EXPECT_EQ(l.bytes_per_sec, 125 * kMiB);
  EXPECT_EQ(l.io_unit, 256u << 10);
  EXPECT_TRUE(ValidateQos({VolumeType::kGp3, 16000, 1000}).ok());

  Status s = ValidateQos({VolumeType::kGp3, 16001, 0}).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "--iops 16001 is out of range for gp3: allowed 3000 to 16000");
  s = ValidateQos({VolumeType::kGp3, 0, 1001}).status();
  EXPECT_EQ(s.message(), "--throughput 1001 is out of range for gp3: allowed 125 to 1000");
  s = ValidateQos({VolumeType::kGp3, 2999, 0}).status();
  EXPECT_THAT(s.message(), HasSubstr("--iops 2999"));
}

TEST(VolumeTypeTest, Io2NeedsIopsAndDerivesThroughput) {
  Status s = ValidateQos({VolumeType::kIo2, 0, 0}).status();
  EXPECT_THAT(s.message(), HasSubstr("--iops is required for io2"));
  s = ValidateQos({VolumeType::kIo2, 64001, 0}).status();
  EXPECT_EQ(s.message(), "--iops 64001 is out of range for io2: allowed 100 to 64000");
  s = ValidateQos({VolumeType::kIo2, 1000, 200}).status();
  EXPECT_THAT(s.message(), HasSubstr("--throughput applies only to gp3"));

  // 0.25 MiB/s per IOPS, capped at 500 MiB/s, or 1000 MiB/s above 32,000 IOPS.
  EXPECT_EQ(LimitsFor(*ValidateQos({VolumeType::kIo2, 1000, 0}), kGiB).bytes_per_sec, 250 * kMiB);
  EXPECT_EQ(LimitsFor(*ValidateQos({VolumeType::kIo2, 20000, 0}), kGiB).bytes_per_sec, 500 * kMiB);
  EXPECT_EQ(LimitsFor(*ValidateQos({VolumeType::kIo2, 64000, 0}), kGiB).bytes_per_sec, 1000 * kMiB);
  EXPECT_EQ(LimitsFor(*ValidateQos({VolumeType::kIo2, 64000, 0}), kGiB).iops, 64000);
}

TEST(VolumeTypeTest, HddTypesScaleWithSizeAndRefuseIopsFlags) {
  QosConfig st1 = *ValidateQos({VolumeType::kSt1, 0, 0});
  QosLimits l = LimitsFor(st1, 2 * 1024 * kGiB);  // 2 TiB
  EXPECT_EQ(l.bytes_per_sec, 80 * kMiB);
  EXPECT_EQ(l.burst_bytes_per_sec, 500 * kMiB);
  EXPECT_EQ(l.io_unit, 1u << 20);
  EXPECT_EQ(l.iops, 500);
  // Below 125 GiB: the 125 GiB figures.
  EXPECT_EQ(LimitsFor(st1, kGiB), LimitsFor(st1, 125 * kGiB));
  QosLimits sc1 = LimitsFor(*ValidateQos({VolumeType::kSc1, 0, 0}), 16 * 1024 * kGiB);
  EXPECT_EQ(sc1.bytes_per_sec, 192 * kMiB);
  EXPECT_EQ(sc1.burst_bytes_per_sec, 250 * kMiB);

  EXPECT_THAT(ValidateQos({VolumeType::kSt1, 500, 0}).status().message(),
              HasSubstr("--iops applies only to gp3 and io2"));
  EXPECT_THAT(ValidateQos({VolumeType::kSc1, 0, 100}).status().message(),
              HasSubstr("--throughput applies only to gp3"));
  EXPECT_THAT(ValidateQos({VolumeType::kStandard, 100, 0}).status().message(), HasSubstr("--iops"));
  EXPECT_TRUE(LimitsFor(*ValidateQos({VolumeType::kStandard, 0, 0}), kGiB).unlimited);
}

TEST(VolumeTypeTest, CountedOpsFollowsTheIoUnit) {
  QosLimits ssd = LimitsFor(*ValidateQos({}), kGiB);
  EXPECT_EQ(CountedOps(ssd, 0), 1u);
  EXPECT_EQ(CountedOps(ssd, 4096), 1u);
  EXPECT_EQ(CountedOps(ssd, 256 << 10), 1u);
  EXPECT_EQ(CountedOps(ssd, (256 << 10) + 1), 2u);
  EXPECT_EQ(CountedOps(ssd, 1 << 20), 4u);
  QosLimits hdd = LimitsFor(*ValidateQos({VolumeType::kSt1, 0, 0}), kGiB);
  EXPECT_EQ(CountedOps(hdd, 1 << 20), 1u);
  EXPECT_EQ(CountedOps(hdd, (1 << 20) + 1), 2u);
}

TEST(VolumeTypeTest, DescribeLimits) {
  EXPECT_EQ(DescribeLimits(*ValidateQos({}), kGiB), "gp3, 3000 IOPS, 125 MiB/s");
  EXPECT_EQ(DescribeLimits(*ValidateQos({VolumeType::kStandard, 0, 0}), kGiB),
            "standard, unlimited");
}

}  // namespace
}  // namespace cairn::volume
