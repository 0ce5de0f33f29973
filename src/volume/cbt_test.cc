// Changed-block tracking across views, restarts and unclean stops.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <set>

#include "volume/test_util.h"
#include "volume/volume.h"

namespace cairn::volume {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Pattern;
using testing::TempDir;
using Range = ChangedExtents::Range;

constexpr uint64_t kMiB = 1 << 20;
constexpr uint32_t kBlock = 64 << 10;

class CbtTest : public ::testing::Test {
 protected:
  std::string dir() const { return tmp_.Sub("vol"); }
  std::unique_ptr<Volume> Create(uint64_t size) {
    auto v = Volume::Create(
        dir(), {.size = size, .qos = {VolumeType::kStandard, 0, 0}, .block_size = kBlock});
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? std::move(*v) : nullptr;
  }
  std::unique_ptr<Volume> Open() {
    auto v = Volume::Open(dir());
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? std::move(*v) : nullptr;
  }
  static ChangedExtents Changed(Volume& v, std::shared_ptr<VolumeView>* keep = nullptr) {
    auto view = v.Freeze();
    EXPECT_TRUE(view.ok()) << view.status().ToString();
    auto c = (*view)->Changed();
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (keep != nullptr) *keep = *view;
    return *c;
  }
  static std::vector<Range> Blocks(std::set<uint64_t> blocks) {
    std::vector<Range> out;
    for (uint64_t b : blocks) {
      if (!out.empty() && out.back().offset + out.back().length == b * kBlock) {
        out.back().length += kBlock;
      } else {
        out.push_back({b * kBlock, kBlock});
      }
    }
    return out;
  }
  TempDir tmp_;
};

TEST_F(CbtTest, AfterNWritesCoversExactlyThoseBlocks) {
  auto v = Create(64 * kMiB);  // 1024 blocks
  ASSERT_NE(v, nullptr);
  std::mt19937_64 rng(3);
  std::set<uint64_t> touched;
  for (int i = 0; i < 100; ++i) {
    const uint64_t off = rng() % (64 * kMiB - 10000);
    const uint64_t len = 1 + rng() % 10000;
    for (uint64_t b = off / kBlock; b <= (off + len - 1) / kBlock; ++b) touched.insert(b);
    const int kind = i % 3;
    Status s = kind == 0   ? v->Write(off, Pattern(len, i), false)
               : kind == 1 ? v->WriteZeroes(off, len, true, false, false)
                           : v->Trim(off, len);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  // Reads and flushes mark nothing.
  Buffer buf(kMiB);
  ASSERT_TRUE(v->Read(40 * kMiB, buf).ok());
  ASSERT_TRUE(v->Flush().ok());
  std::shared_ptr<VolumeView> view;
  ChangedExtents c = Changed(*v, &view);
  ASSERT_TRUE(c.known) << c.unknown_reason;
  EXPECT_EQ(c.block_size, kBlock);
  EXPECT_EQ(c.ranges, Blocks(touched));
  EXPECT_EQ(c.changed_bytes(), touched.size() * kBlock);
}

TEST_F(CbtTest, CompletedReleaseClearsOnlyWhatTheViewCovered) {
  auto v = Create(16 * kMiB);
  ASSERT_NE(v, nullptr);
  ASSERT_TRUE(v->Write(0, Pattern(10, 1), false).ok());  // block 0
  std::shared_ptr<VolumeView> v1;
  EXPECT_EQ(Changed(*v, &v1).ranges, Blocks({0}));
  // Written after v1's instant, before its release: stays marked.
  ASSERT_TRUE(v->Write(5 * kBlock, Pattern(10, 2), false).ok());
  ASSERT_TRUE(v1->Release(true).ok());
  std::shared_ptr<VolumeView> v2;
  EXPECT_EQ(Changed(*v, &v2).ranges, Blocks({5}));
  // v2 fails (not completed): its blocks stay for the next one.
  ASSERT_TRUE(v->Write(7 * kBlock, Pattern(10, 3), false).ok());
  ASSERT_TRUE(v2->Release(false).ok());
  std::shared_ptr<VolumeView> v3;
  EXPECT_EQ(Changed(*v, &v3).ranges, Blocks({5, 7}));
  ASSERT_TRUE(v3->Release(true).ok());
  EXPECT_TRUE(Changed(*v).ranges.empty());
}

TEST_F(CbtTest, PendingViewsAccumulateAndNewerCompletionMakesOlderUnknown) {
  auto v = Create(16 * kMiB);
  ASSERT_NE(v, nullptr);
  ASSERT_TRUE(v->Write(1 * kBlock, Pattern(10, 1), false).ok());
  std::shared_ptr<VolumeView> a, b;
  EXPECT_EQ(Changed(*v, &a).ranges, Blocks({1}));
  ASSERT_TRUE(v->Write(2 * kBlock, Pattern(10, 1), false).ok());
  // a is still pending, so b's changes are relative to the last completed.
  EXPECT_EQ(Changed(*v, &b).ranges, Blocks({1, 2}));
  ASSERT_TRUE(b->Release(true).ok());
  auto ca = a->Changed();
  ASSERT_TRUE(ca.ok());
  EXPECT_FALSE(ca->known);
  EXPECT_THAT(ca->unknown_reason, HasSubstr("read everything"));
  ASSERT_TRUE(a->Release(true).ok());
  EXPECT_TRUE(Changed(*v).ranges.empty());
}

TEST_F(CbtTest, SurvivesCleanCloseWithPendingViews) {
  auto v = Create(16 * kMiB);
  ASSERT_NE(v, nullptr);
  ASSERT_TRUE(v->Write(3 * kBlock, Pattern(10, 1), false).ok());
  auto pending = v->Freeze();  // never completed: lost at close
  ASSERT_TRUE(pending.ok());
  ASSERT_TRUE(v->Write(9 * kBlock, Pattern(10, 1), false).ok());
  ASSERT_TRUE(v->Close().ok());
  v = Open();
  ASSERT_NE(v, nullptr);
  ChangedExtents c = Changed(*v);
  ASSERT_TRUE(c.known) << c.unknown_reason;
  EXPECT_EQ(c.ranges, Blocks({3, 9}));
}

TEST_F(CbtTest, UncleanStopMakesTheBitmapUnknownUntilACompletedSnapshot) {
  auto v = Create(16 * kMiB);
  ASSERT_NE(v, nullptr);
  ASSERT_TRUE(v->Close().ok());
  v.reset();
  // A child process opens the volume, writes, flushes and dies without
  // closing (as kill -9 would leave it).
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto child = Volume::Open(dir());
    if (!child.ok()) ::_exit(2);
    if (!(*child)->Write(4 * kBlock, Pattern(kBlock, 42), false).ok()) ::_exit(3);
    if (!(*child)->Flush().ok()) ::_exit(4);
    ::_exit(0);  // no Close(): no clean marker
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);

  v = Open();
  ASSERT_NE(v, nullptr);
  Buffer out(kBlock);
  ASSERT_TRUE(v->Read(4 * kBlock, out).ok());
  EXPECT_EQ(out, Pattern(kBlock, 42)) << "flushed data must survive";
  std::shared_ptr<VolumeView> view;
  ChangedExtents c = Changed(*v, &view);
  EXPECT_FALSE(c.known);
  EXPECT_THAT(c.unknown_reason, HasSubstr("was not shut down cleanly"));
  EXPECT_THAT(c.unknown_reason, HasSubstr("read everything"));
  // Still unknown after a clean restart, until a snapshot completes.
  ASSERT_TRUE(view->Release(false).ok());
  ASSERT_TRUE(v->Close().ok());
  v = Open();
  ASSERT_NE(v, nullptr);
  c = Changed(*v, &view);
  EXPECT_FALSE(c.known);
  ASSERT_TRUE(v->Write(6 * kBlock, Pattern(10, 1), false).ok());
  ASSERT_TRUE(view->Release(true).ok());
  c = Changed(*v);
  ASSERT_TRUE(c.known) << c.unknown_reason;
  EXPECT_EQ(c.ranges, Blocks({6}));
}

TEST_F(CbtTest, GrownRangeIsNotMarked) {
  auto v = Create(kMiB);
  ASSERT_NE(v, nullptr);
  ASSERT_TRUE(v->Resize(4 * kMiB).ok());
  ASSERT_TRUE(v->Write(3 * kMiB, Pattern(10, 1), false).ok());
  EXPECT_EQ(Changed(*v).ranges, Blocks({3 * kMiB / kBlock}));
}

// The hydration hook is called before data-file reads, and a write's
// copy-on-write is prepared before the write itself.
TEST_F(CbtTest, FillerIsPreparedBeforeReadsCopiesAndWrites) {
  struct Call {
    uint64_t offset, length;
    bool overwrite;
  };
  struct Recorder : BlockFiller {
    std::mutex mu;
    std::vector<Call> calls;
    Status Prepare(uint64_t offset, uint64_t length, bool overwrite) override {
      std::lock_guard l(mu);
      calls.push_back({offset, length, overwrite});
      return Status::OK();
    }
  };
  auto v = Create(kMiB);
  ASSERT_NE(v, nullptr);
  auto rec = std::make_shared<Recorder>();
  v->SetFiller(rec);
  Buffer b(100);
  ASSERT_TRUE(v->Read(10, b).ok());
  auto view = v->Freeze();
  ASSERT_TRUE(view.ok());
  ASSERT_TRUE(v->Write(kBlock + 5, Pattern(100, 1), false).ok());
  ASSERT_EQ(rec->calls.size(), 3u);
  EXPECT_FALSE(rec->calls[0].overwrite);
  EXPECT_EQ(rec->calls[0].offset, 10u);
  // Copy-on-write of block 1 (a fetch), then the write (no fetch needed).
  EXPECT_EQ(rec->calls[1].offset, kBlock);
  EXPECT_EQ(rec->calls[1].length, kBlock);
  EXPECT_FALSE(rec->calls[1].overwrite);
  EXPECT_EQ(rec->calls[2].offset, kBlock + 5);
  EXPECT_TRUE(rec->calls[2].overwrite);
  // With a filler, extents claim data (the data file's holes prove nothing).
  auto e = v->Extents(0, kMiB);
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->front().hole);
}

}  // namespace
}  // namespace cairn::volume
