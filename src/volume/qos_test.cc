#include "volume/qos.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace cairn::volume {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

// Time moves only when someone sleeps (or the test advances it).
class FakeClock : public Clock {
 public:
  int64_t NowNanos() override { return now_.load(); }
  void SleepNanos(int64_t nanos) override {
    slept_ += nanos;
    now_ += nanos;
  }
  void Advance(int64_t nanos) { now_ += nanos; }
  int64_t slept() const { return slept_.load(); }

 private:
  std::atomic<int64_t> now_{1000 * kSecond};
  std::atomic<int64_t> slept_{0};
};

TEST(TokenBucketTest, GrantsExactlyCapacityThenRateTimesElapsed) {
  TokenBucket b(/*rate=*/1000, /*capacity=*/100, /*now=*/0);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(b.Reserve(1, 0), 0) << i;
  // The 101st must wait for exactly one token: 1 ms.
  EXPECT_EQ(b.Reserve(1, 0), 1'000'000);
  // After 100 ms the bucket holds 100 tokens again, minus the debt of one.
  const int64_t t = 100'000'000;
  int granted = 0;
  while (b.Reserve(1, t) == 0) ++granted;
  EXPECT_EQ(granted, 99);
}

TEST(TokenBucketTest, NeverExceedsCapacityAfterIdle) {
  TokenBucket b(1000, 10, 0);
  EXPECT_DOUBLE_EQ(b.Available(3600 * kSecond), 10);
}

TEST(TokenBucketTest, LargeRequestGoesIntoDebtAndLaterCallersPay) {
  TokenBucket b(100, 10, 0);
  EXPECT_EQ(b.Reserve(50, 0), 400'000'000);  // 40 tokens short at 100/s
  EXPECT_EQ(b.Reserve(10, 0), 500'000'000);  // queued behind it
  EXPECT_DOUBLE_EQ(b.Available(500'000'000), 0);
}

TEST(TokenBucketTest, SetRateKeepsBalanceClippedToNewCapacity) {
  TokenBucket b(1000, 100, 0);
  b.SetRate(10, 5, 0);
  EXPECT_DOUBLE_EQ(b.Available(0), 5);
  EXPECT_EQ(b.Reserve(6, 0), 100'000'000);
}

QosLimits Gp3() { return LimitsFor(*ValidateQos({}), uint64_t{1} << 30); }

TEST(QosLimiterTest, Gp3IopsBoundary) {
  auto clock = std::make_shared<FakeClock>();
  QosLimiter q(Gp3(), clock);
  // 3000 IOPS with a 0.1 s window: 300 small I/Os pass at once...
  for (int i = 0; i < 300; ++i) EXPECT_EQ(q.Admit(QosLimiter::Op::kRead, 4096), 0) << i;
  // ...and each further one costs 1/3000 s.
  EXPECT_NEAR(q.Admit(QosLimiter::Op::kWrite, 4096), kSecond / 3000, 2);
  EXPECT_EQ(q.stats().ops, 301u);
  EXPECT_EQ(q.stats().throttled, 1u);
}

TEST(QosLimiterTest, ThroughputBoundsLargeIo) {
  auto clock = std::make_shared<FakeClock>();
  QosLimiter q(Gp3(), clock);
  // 125 MiB/s: after the 12.5 MiB window, 100 x 1 MiB take 100/125 s more
  // (IOPS: 4 ops each, well inside 3000/s).
  int64_t total = 0;
  for (int i = 0; i < 100 + 12; ++i) total += q.Admit(QosLimiter::Op::kRead, 1 << 20);
  const double seconds = double(clock->slept()) / kSecond;
  EXPECT_NEAR(seconds, (112.0 - 12.5) / 125.0, 0.01);
  EXPECT_EQ(total, clock->slept());
  EXPECT_EQ(q.stats().ops, 112u * 4);
}

TEST(QosLimiterTest, TrimAndZeroCountOneOpNoBytes) {
  auto clock = std::make_shared<FakeClock>();
  QosLimiter q(Gp3(), clock);
  q.Admit(QosLimiter::Op::kTrim, 1 << 30);
  q.Admit(QosLimiter::Op::kZero, 1 << 30);
  EXPECT_EQ(q.stats().ops, 2u);
  EXPECT_EQ(q.stats().bytes, 0u);
  EXPECT_EQ(clock->slept(), 0);
}

TEST(QosLimiterTest, StandardIsUnlimitedAndLimitsChangeAtRunTime) {
  auto clock = std::make_shared<FakeClock>();
  QosLimiter q(LimitsFor(*ValidateQos({VolumeType::kStandard, 0, 0}), 1 << 30), clock);
  for (int i = 0; i < 100000; ++i) q.Admit(QosLimiter::Op::kRead, 1 << 20);
  EXPECT_EQ(clock->slept(), 0);
  // Switch to io2 with 100 IOPS: 10 pass (0.1 s window), the next waits 10 ms.
  q.SetLimits(LimitsFor(*ValidateQos({VolumeType::kIo2, 100, 0}), 1 << 30));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(q.Admit(QosLimiter::Op::kRead, 4096), 0);
  EXPECT_EQ(q.Admit(QosLimiter::Op::kRead, 4096), 10'000'000);
  // And back to unlimited.
  q.SetLimits(LimitsFor(*ValidateQos({VolumeType::kStandard, 0, 0}), 1 << 30));
  EXPECT_EQ(q.Admit(QosLimiter::Op::kRead, 1 << 30), 0);
}

TEST(QosLimiterTest, St1BurstsAbovebaselineUntilCreditsRunOut) {
  auto clock = std::make_shared<FakeClock>();
  // 125 GiB st1: baseline 40 * 125/1024 MiB/s, burst 250 * 125/1024 MiB/s,
  // credits 125 GiB.
  QosLimits l = LimitsFor(*ValidateQos({VolumeType::kSt1, 0, 0}), uint64_t{125} << 30);
  QosLimiter q(l, clock);
  // 1 GiB in 1 MiB I/Os runs at the burst rate (IOPS 500/s is not the limit).
  for (int i = 0; i < 1024; ++i) q.Admit(QosLimiter::Op::kWrite, 1 << 20);
  const double rate = double(1 << 30) / (double(clock->slept()) / kSecond);
  EXPECT_NEAR(rate / l.burst_bytes_per_sec, 1.0, 0.05);
}

TEST(QosLimiterTest, ConcurrentCallersShareTheBudget) {
  // Time stands still (sleeping does not advance it), so exactly the 100-op
  // window is granted without waiting, whatever the interleaving.
  class FrozenClock : public Clock {
   public:
    int64_t NowNanos() override { return 0; }
    void SleepNanos(int64_t) override {}
  };
  QosLimiter q(LimitsFor(*ValidateQos({VolumeType::kIo2, 1000, 0}), 1 << 30),
               std::make_shared<FrozenClock>());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) q.Admit(QosLimiter::Op::kRead, 4096);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(q.stats().ops, 4000u);
  EXPECT_EQ(q.stats().bytes, 4000u * 4096);
  EXPECT_EQ(q.stats().throttled, 3900u);
  // The last reservation waits for 3900 ops at 1000/s.
  EXPECT_EQ(q.Admit(QosLimiter::Op::kRead, 4096), 3'901'000'000);
}

}  // namespace
}  // namespace cairn::volume
