// Lazy hydration: byte-exact reads before, during and after; concurrent
// readers and writers; crash and resume; rate; source damage.
#include "volume/hydrator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <thread>

#include "volume/hydrator_test_util.h"
#include "volume/test_util.h"
#include "volume/volume.h"

namespace cairn::volume {
namespace {

using testing::FakeClock;
using ::testing::HasSubstr;
using testing::MemorySource;
using testing::Pattern;
using testing::TempDir;

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;
constexpr uint32_t kSrcBlock = 128 * kKiB;           // source blocks: two volume blocks each
constexpr uint64_t kSrcSize = 4 * kMiB + 12 * kKiB;  // a short last block
constexpr uint64_t kVolSize = 6 * kMiB;              // beyond the source: zeros
constexpr uint64_t kHoles[] = {3, 7, 8};

Buffer SourceBytes() {
  Buffer b = Pattern(kSrcSize, 7);
  for (uint64_t h : kHoles) std::memset(b.data() + h * kSrcBlock, 0, kSrcBlock);
  return b;
}

class HydratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = std::make_shared<MemorySource>(SourceBytes(), kSrcBlock);
    expected_ = source_->data();
    expected_.resize(kVolSize);  // zeros beyond the source
    auto v = Volume::Create(
        dir(), {.size = kVolSize, .qos = {VolumeType::kStandard, 0, 0}, .block_size = 64 << 10});
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    volume_ = std::move(*v);
  }
  void TearDown() override {
    if (h_) h_->Abandon();
  }
  std::string dir() const { return tmp_.Sub("vol"); }

  // A hydrator whose background fetches at most one block per thread
  // before it sleeps (rate 1 B/s), so the test decides what is local.
  // Returns once that one block (block 0) was fetched.
  void StartStarved() {
    Start({.rate_bytes_per_sec = 1, .threads = 1});
    while (h_ && h_->blocks_fetched() < 1) std::this_thread::yield();
  }
  void Start(const HydratorOptions& o) {
    auto h = Hydrator::Start(*volume_, source_, o);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    h_ = *h;
  }
  void Reopen() {
    volume_->SetFiller(nullptr);
    h_.reset();
    CAIRN_ASSERT_OK(volume_->Close());
    volume_.reset();
    auto v = Volume::Open(dir());
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    volume_ = std::move(*v);
  }
  void ExpectRange(uint64_t off, uint64_t len) {
    Buffer got(len);
    CAIRN_ASSERT_OK(volume_->Read(off, got));
    ASSERT_TRUE(std::memcmp(got.data(), expected_.data() + off, len) == 0)
        << "range " << off << "+" << len;
  }
  void ExpectAll() { ExpectRange(0, kVolSize); }
  void WriteBoth(uint64_t off, const Buffer& data) {
    CAIRN_ASSERT_OK(volume_->Write(off, data, /*fua=*/false));
    std::memcpy(expected_.data() + off, data.data(), data.size());
  }
  HydrationState SavedState() {
    auto s = HydrationState::Load(dir() + "/hydration");
    EXPECT_TRUE(s.ok() && s->has_value()) << s.status().ToString();
    return s.ok() && s->has_value() ? **s : HydrationState{};
  }

  TempDir tmp_;
  std::shared_ptr<MemorySource> source_;
  Buffer expected_;
  std::unique_ptr<Volume> volume_;
  std::shared_ptr<Hydrator> h_;
};

TEST_F(HydratorTest, ReadsAreByteExactBeforeDuringAndAfter) {
  StartStarved();
  // Before: on-demand reads, unaligned, across blocks, holes and the end of
  // the source.
  ExpectRange(5 * kSrcBlock + 1000, 3 * kSrcBlock);
  ExpectRange(kSrcSize - 5000, 9000);
  ExpectRange(2 * kSrcBlock, 2 * kSrcBlock);
  ExpectRange(kSrcSize + 4096, kMiB);
  EXPECT_FALSE(h_->progress().done);
  // During and after: unlimited.
  h_->SetRate(0);
  std::thread reader([&] {
    std::mt19937_64 rng(1);
    for (int i = 0; i < 200; ++i) {
      const uint64_t off = rng() % (kVolSize - 300 * kKiB);
      ExpectRange(off, 1 + rng() % (300 * kKiB));
    }
  });
  CAIRN_ASSERT_OK(h_->WaitDone());
  reader.join();
  ExpectAll();
  const auto p = h_->progress();
  EXPECT_TRUE(p.done);
  EXPECT_EQ(p.done_bytes, p.total_bytes);
  // 33 source blocks, 3 of them holes: the holes were never fetched, no
  // block twice.
  EXPECT_EQ(p.total_bytes, kSrcSize - 3 * kSrcBlock);
  EXPECT_EQ(h_->blocks_fetched(), 33u - 3u);
  EXPECT_TRUE(SavedState().done);
}

TEST_F(HydratorTest, FullOverwriteFetchesNothingPartialWriteMerges) {
  StartStarved();
  const uint64_t before = h_->blocks_fetched();
  WriteBoth(10 * kSrcBlock, Pattern(kSrcBlock, 1));  // covers block 10
  EXPECT_EQ(h_->blocks_fetched(), before);
  WriteBoth(12 * kSrcBlock + 100, Pattern(500, 2));  // inside block 12
  EXPECT_EQ(h_->blocks_fetched(), before + 1);
  // Invariant (a): both marks are on disk once the writes returned.
  const HydrationState saved = SavedState();
  EXPECT_TRUE(saved.Test(10));
  EXPECT_TRUE(saved.Test(12));
  EXPECT_FALSE(saved.Test(20));
  ExpectRange(9 * kSrcBlock, 5 * kSrcBlock);
  h_->SetRate(0);
  CAIRN_ASSERT_OK(h_->WaitDone());
  ExpectAll();  // the background did not refill blocks 10 and 12
}

TEST_F(HydratorTest, ConcurrentReadersAndWritersMatchAReference) {
  Start({.rate_bytes_per_sec = 0, .threads = 3});
  // Writer w owns the source blocks b with b % 4 == w (and the tail beyond
  // the source for w == 0); readers read blocks with b % 4 == 3 (nobody
  // writes them); each writer checks its own blocks.
  std::vector<std::thread> threads;
  std::vector<Buffer> own(3, expected_);
  for (int w = 0; w < 3; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937_64 rng(100 + w);
      Buffer& exp = own[w];
      for (int i = 0; i < 60; ++i) {
        const uint64_t b = (rng() % 8) * 4 + w;
        const bool full = rng() % 2;
        const uint64_t off = b * kSrcBlock + (full ? 0 : rng() % (kSrcBlock / 2));
        const uint64_t len = full ? kSrcBlock : 1 + rng() % (kSrcBlock / 2);
        Buffer data = Pattern(len, static_cast<uint32_t>(1000 * w + i));
        ASSERT_TRUE(volume_->Write(off, data, false).ok());
        std::memcpy(exp.data() + off, data.data(), len);
        Buffer got(kSrcBlock);
        ASSERT_TRUE(volume_->Read(b * kSrcBlock, got).ok());
        ASSERT_EQ(0, std::memcmp(got.data(), exp.data() + b * kSrcBlock, kSrcBlock))
            << "writer " << w << " block " << b;
      }
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      std::mt19937_64 rng(200 + r);
      for (int i = 0; i < 100; ++i) {
        const uint64_t b = (rng() % 8) * 4 + 3;
        const uint64_t off = b * kSrcBlock + rng() % kSrcBlock;
        const uint64_t len = std::min<uint64_t>(1 + rng() % kSrcBlock, (b + 1) * kSrcBlock - off);
        Buffer got(len);
        ASSERT_TRUE(volume_->Read(off, got).ok());
        ASSERT_EQ(0, std::memcmp(got.data(), expected_.data() + off, len)) << "block " << b;
      }
    });
  }
  for (auto& t : threads) t.join();
  CAIRN_ASSERT_OK(h_->WaitDone());
  for (uint64_t b = 0; b * kSrcBlock < kVolSize; ++b) {
    const int w = static_cast<int>(b % 4);
    if (w < 3) {
      const uint64_t len = std::min<uint64_t>(kSrcBlock, kVolSize - b * kSrcBlock);
      std::memcpy(expected_.data() + b * kSrcBlock, own[w].data() + b * kSrcBlock, len);
    }
  }
  ExpectAll();
}

TEST_F(HydratorTest, CrashResumesWithoutClobberingFlushedWrites) {
  StartStarved();
  ExpectRange(0, 3 * kSrcBlock);                      // read-filled, marks not saved
  WriteBoth(5 * kSrcBlock + 4096, Pattern(8192, 3));  // partial
  WriteBoth(6 * kSrcBlock, Pattern(kSrcBlock, 4));    // full
  WriteBoth(kSrcSize - 100, Pattern(200, 5));         // across the end of the source
  CAIRN_ASSERT_OK(volume_->Flush());
  h_->Abandon();  // the crash: no final save
  Reopen();
  Start({.rate_bytes_per_sec = 0, .threads = 2});
  CAIRN_ASSERT_OK(h_->WaitDone());
  ExpectAll();
  // Blocks read before the crash may be fetched again; written ones never.
  EXPECT_LE(h_->blocks_fetched(), 30u - 2u);
}

TEST_F(HydratorTest, StopSavesAndRestartResumesWhereItStopped) {
  StartStarved();
  ExpectRange(0, kMiB);  // blocks 0-7, two of them holes
  CAIRN_ASSERT_OK(h_->Stop());
  EXPECT_EQ(h_->WaitDone().code(), StatusCode::kAborted);
  EXPECT_EQ(h_->blocks_fetched(), 6u);
  EXPECT_EQ(SavedState().MissingBytes(), kSrcSize - 8 * kSrcBlock - kSrcBlock);  // hole 8
  Reopen();
  Start({.rate_bytes_per_sec = 0, .threads = 2});
  CAIRN_ASSERT_OK(h_->WaitDone());
  ExpectAll();
  // Nothing saved as local is fetched again.
  EXPECT_EQ(h_->blocks_fetched(), 30u - 6u);
  // Done: the next start installs nothing.
  Reopen();
  Start({});
  EXPECT_TRUE(h_->progress().done);
  ExpectAll();
  EXPECT_EQ(h_->blocks_fetched(), 0u);
}

TEST_F(HydratorTest, BackgroundReadsRunsOfNeighbouringBlocks) {
  Start({.rate_bytes_per_sec = 0, .threads = 2, .batch_bytes = 4 * kSrcBlock});
  CAIRN_ASSERT_OK(h_->WaitDone());
  ExpectAll();
  // 33 blocks, 3 of them holes: 30 fetched, in runs of at most 4 that
  // never include a hole (local from the start).
  const std::vector<uint64_t> runs = source_->runs();
  uint64_t blocks = 0;
  for (uint64_t n : runs) {
    EXPECT_GE(n, 1u);
    EXPECT_LE(n, 4u);
    blocks += n;
  }
  EXPECT_EQ(blocks, 30u);
  EXPECT_EQ(h_->blocks_fetched(), 30u);
  EXPECT_LT(runs.size(), 30u / 2) << "the background fetched block by block";
}

TEST_F(HydratorTest, RateLimitsTheBackground) {
  auto clock = std::make_shared<FakeClock>();
  const uint64_t rate = 1 * kMiB;
  Start({.rate_bytes_per_sec = rate, .threads = 1, .clock = clock});
  CAIRN_ASSERT_OK(h_->WaitDone());
  ExpectAll();
  // Each block (holes too: the background pays per block it claims) is
  // paid for; the bucket starts with one block of credit.
  const double bytes = static_cast<double>(h_->blocks_fetched()) * kSrcBlock;
  const double slept = static_cast<double>(clock->slept()) / 1e9;
  EXPECT_GE(slept, (bytes - 2.0 * kSrcBlock) / rate);
  EXPECT_LE(slept, (bytes + 2.0 * kSrcBlock) / rate);
  EXPECT_NEAR(h_->progress().bytes_per_sec, static_cast<double>(rate),
              0.2 * static_cast<double>(rate));
}

TEST_F(HydratorTest, SourceDamageFailsTheReadAndWaitDone) {
  source_->Corrupt(20);
  Start({.rate_bytes_per_sec = 0, .threads = 2});
  Buffer got(100);
  Status s = volume_->Read(20 * kSrcBlock + 10, got);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_THAT(s.message(), HasSubstr("block 20"));
  Status w = h_->WaitDone();
  EXPECT_EQ(w.code(), StatusCode::kCorruption);
  EXPECT_THAT(w.message(), HasSubstr("block 20 (offset 2621440)"));
  EXPECT_EQ(h_->progress().error.code(), StatusCode::kCorruption);
  ExpectRange(0, 20 * kSrcBlock);  // the rest still reads
  // Repaired (a transient failure): a restart finishes.
  source_->Repair();
  CAIRN_ASSERT_OK(h_->Stop());
  Reopen();
  Start({.rate_bytes_per_sec = 0, .threads = 2});
  CAIRN_ASSERT_OK(h_->WaitDone());
  ExpectAll();
}

TEST_F(HydratorTest, RetryAfterAFailureFinishesWithoutARestart) {
  source_->Corrupt(20);  // e.g. S3 down for that block's pack
  Start({.rate_bytes_per_sec = 0, .threads = 2});
  Status w = h_->WaitDone();
  EXPECT_EQ(w.code(), StatusCode::kCorruption);
  // Failed and waiting: the block's reads fail, naming it; the rest reads.
  Buffer got(100);
  EXPECT_THAT(volume_->Read(20 * kSrcBlock + 10, got).message(), HasSubstr("block 20"));
  ExpectRange(0, 20 * kSrcBlock);
  CAIRN_ASSERT_OK(h_->Retry());  // still failing: fails again
  EXPECT_EQ(h_->WaitDone().code(), StatusCode::kCorruption);
  source_->Repair();
  CAIRN_ASSERT_OK(h_->Retry());
  CAIRN_ASSERT_OK(h_->WaitDone());
  EXPECT_TRUE(h_->progress().done);
  EXPECT_TRUE(h_->progress().error.ok());
  ExpectAll();
  CAIRN_ASSERT_OK(h_->Retry());  // done: nothing to do
  CAIRN_ASSERT_OK(h_->Stop());
  EXPECT_EQ(h_->Retry().code(), StatusCode::kAborted);
  EXPECT_TRUE(SavedState().done);
}

TEST_F(HydratorTest, DoneUninstallsTheFillerAndExtentsShowTheHoles) {
  Start({.rate_bytes_per_sec = 0, .threads = 2});
  CAIRN_ASSERT_OK(h_->WaitDone());
  EXPECT_TRUE(SavedState().done);  // durable before the filler goes
  // With the filler gone, the data file's holes are the volume's: the
  // source's hole blocks 7 and 8 and the bytes beyond the source.
  auto e = volume_->Extents(0, kVolSize);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  auto zero_at = [&](uint64_t off) {
    for (const DeviceExtent& x : *e) {
      if (x.offset <= off && off < x.offset + x.length) return x.zero || x.hole;
    }
    return false;
  };
  EXPECT_TRUE(zero_at(7 * kSrcBlock));
  EXPECT_TRUE(zero_at(8 * kSrcBlock + kSrcBlock / 2));
  EXPECT_TRUE(zero_at(kSrcSize + kMiB));
  EXPECT_FALSE(zero_at(0));
  // The hydrator is out of the I/O path: reads fetch nothing any more.
  const uint64_t fetched = h_->blocks_fetched();
  ExpectAll();
  EXPECT_EQ(h_->blocks_fetched(), fetched);
  // Writes and reads keep working after it is gone.
  WriteBoth(3 * kSrcBlock + 100, Pattern(5000, 3));
  ExpectAll();
}

TEST_F(HydratorTest, RefusesAVolumeSmallerThanTheSource) {
  auto small = std::make_shared<MemorySource>(Pattern(kVolSize + kMiB, 1), kSrcBlock);
  auto h = Hydrator::Start(*volume_, small, {});
  EXPECT_EQ(h.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(h.status().message(), HasSubstr("--size"));
}

}  // namespace
}  // namespace cairn::volume
