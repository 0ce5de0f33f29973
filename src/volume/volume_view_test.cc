// Frozen views: point-in-time content under concurrent writers, group
// freezes, read-only-ness and release.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "core/crypto.h"
#include "volume/test_util.h"
#include "volume/volume.h"

namespace cairn::volume {
namespace {

using ::testing::HasSubstr;
using testing::Pattern;
using testing::TempDir;

constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kChunk = 4096;  // writers write whole 4 KiB chunks

class ViewTest : public ::testing::TestWithParam<bool> {
 protected:
  std::unique_ptr<Volume> Create(std::string_view name, uint64_t size, uint32_t block = 64 << 10) {
    auto v = Volume::Create(tmp_.Sub(name),
                            {.size = size,
                             .qos = {VolumeType::kStandard, 0, 0},
                             .encrypted = GetParam(),
                             .block_size = block},
                            {.daemon_key = key_});
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? std::move(*v) : nullptr;
  }
  TempDir tmp_;
  Buffer key_ = [] {
    Buffer k(kDaemonKeySize);
    RandomBytes(k);
    return k;
  }();
};

INSTANTIATE_TEST_SUITE_P(PlainAndEncrypted, ViewTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Encrypted" : "Plain"; });

Buffer ReadAll(BlockDevice& d) {
  Buffer out(d.Size());
  Status s = d.Read(0, out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

TEST_P(ViewTest, ViewKeepsTheInstantWhileTheVolumeMovesOn) {
  auto v = Create("a", 4 * kMiB);
  ASSERT_NE(v, nullptr);
  CAIRN_ASSERT_OK(v->Write(0, Pattern(2 * kMiB, 1), false));
  const Buffer before = ReadAll(*v);
  auto view = v->Freeze();
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  // Overwrite, zero, trim and partially rewrite after the instant.
  CAIRN_ASSERT_OK(v->Write(100, Pattern(kMiB, 2), false));
  CAIRN_ASSERT_OK(v->WriteZeroes(kMiB + 5, 300000, true, false, false));
  CAIRN_ASSERT_OK(v->Trim(3 * kMiB / 2, kMiB / 2));
  CAIRN_ASSERT_OK(v->Write(3 * kMiB, Pattern(777, 3), true));
  EXPECT_EQ(ReadAll(**view), before);
  EXPECT_NE(ReadAll(*v), before);
  // Unaligned reads across copied and uncopied blocks.
  Buffer part(200000);
  CAIRN_ASSERT_OK((*view)->Read(12345, part));
  EXPECT_TRUE(std::equal(part.begin(), part.end(), before.begin() + 12345));
  // The never-written second half is a hole in the view too.
  auto ext = (*view)->Extents(2 * kMiB, 2 * kMiB);
  ASSERT_TRUE(ext.ok()) << ext.status().ToString();
  ASSERT_FALSE(ext->empty());
  EXPECT_TRUE(ext->front().zero);
  // Read-only.
  EXPECT_EQ((*view)->Write(0, Pattern(1, 1), false).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ((*view)->Trim(0, 1).code(), StatusCode::kPermissionDenied);
  EXPECT_FALSE((*view)->caps().writable);
  CAIRN_ASSERT_OK((*view)->Release(true));
  CAIRN_ASSERT_OK((*view)->Release(true));  // idempotent
  EXPECT_EQ((*view)->Read(0, part).code(), StatusCode::kFailedPrecondition);
}

TEST_P(ViewTest, SeveralViewsEachKeepTheirInstant) {
  auto v = Create("a", kMiB, 16 << 10);
  ASSERT_NE(v, nullptr);
  std::vector<Buffer> states;
  std::vector<std::shared_ptr<VolumeView>> views;
  for (int i = 0; i < 4; ++i) {
    CAIRN_ASSERT_OK(v->Write(i * 1000, Pattern(300000, i), false));
    states.push_back(ReadAll(*v));
    auto view = v->Freeze();
    ASSERT_TRUE(view.ok());
    views.push_back(*view);
  }
  CAIRN_ASSERT_OK(v->Write(0, Pattern(kMiB, 99), false));
  for (int i = 0; i < 4; ++i) EXPECT_EQ(ReadAll(*views[i]), states[i]) << "view " << i;
  EXPECT_EQ(views[2]->sequence(), 3u);
  CAIRN_ASSERT_OK(views[1]->Release(false));
  for (int i : {0, 2, 3}) EXPECT_EQ(ReadAll(*views[i]), states[i]) << "view " << i;
}

// What one writer thread did: per 4 KiB chunk, the sequence numbers written
// there, in order; the chunk's content encodes (thread, sequence).
struct WriterLog {
  std::map<uint64_t, std::vector<uint32_t>> by_chunk;  // chunk offset -> seqs
  std::vector<uint64_t> offsets;                       // by sequence - 1
};

Buffer ChunkContent(uint32_t thread, uint32_t seq) {
  Buffer b = Pattern(kChunk, thread * 1000003 + seq);
  std::memcpy(b.data(), &thread, 4);
  std::memcpy(b.data() + 4, &seq, 4);
  return b;
}

// Checks that `content` (the view) holds, for this thread's chunks, exactly
// the writes with sequence <= cut for some single cut (a prefix of what the
// thread did): the view is one instant, not a mix. Returns the cut.
uint32_t CheckPrefix(const Buffer& content, uint32_t thread, const WriterLog& log, uint64_t base) {
  uint32_t cut = 0;
  for (const auto& [off, seqs] : log.by_chunk) {
    uint32_t t, s;
    std::memcpy(&t, content.data() + base + off, 4);
    std::memcpy(&s, content.data() + base + off + 4, 4);
    if (s != 0 || t != 0) {
      EXPECT_EQ(t, thread);
      cut = std::max(cut, s);
    }
  }
  for (const auto& [off, seqs] : log.by_chunk) {
    // The last write to this chunk at or before the cut, if any.
    uint32_t want = 0;
    for (uint32_t s : seqs) {
      if (s <= cut) want = s;
    }
    ByteSpan got = ByteSpan(content).subspan(base + off, kChunk);
    if (want == 0) {
      EXPECT_TRUE(IsAllZero(got)) << "chunk " << off << " should be unwritten at cut " << cut;
    } else {
      Buffer expect = ChunkContent(thread, want);
      EXPECT_TRUE(std::equal(got.begin(), got.end(), expect.begin()))
          << "thread " << thread << " chunk " << off << " cut " << cut << " want seq " << want;
    }
  }
  return cut;
}

TEST_P(ViewTest, ConcurrentWritersSeeOneInstant) {
  constexpr int kThreads = 4;
  constexpr uint64_t kRegion = 2 * kMiB;  // per thread
  auto v = Create("a", kThreads * kRegion, 16 << 10);
  ASSERT_NE(v, nullptr);
  std::vector<WriterLog> logs(kThreads);
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  // Per thread: how many writes had returned before Freeze() was called,
  // and the first sequence started after it returned.
  std::vector<std::atomic<uint32_t>> done(kThreads);
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      std::mt19937_64 rng(t + 1);
      for (uint32_t seq = 1; !stop.load(); ++seq) {
        const uint64_t off = (rng() % (kRegion / kChunk)) * kChunk;
        logs[t].by_chunk[off].push_back(seq);
        logs[t].offsets.push_back(off);
        if (!v->Write(t * kRegion + off, ChunkContent(t, seq), false).ok()) failures++;
        done[t].store(seq);
        if (seq > 20000) break;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  std::vector<uint32_t> before(kThreads), after(kThreads);
  for (int t = 0; t < kThreads; ++t) before[t] = done[t].load();
  auto view = v->Freeze();
  for (int t = 0; t < kThreads; ++t) after[t] = done[t].load() + 1;  // may start after
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  // Read the view while the writers keep copying blocks into it.
  Buffer during = ReadAll(**view);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  stop = true;
  for (auto& w : writers) w.join();
  EXPECT_EQ(failures.load(), 0);
  Buffer at_end = ReadAll(**view);
  EXPECT_EQ(during, at_end);
  for (int t = 0; t < kThreads; ++t) {
    const uint32_t cut = CheckPrefix(at_end, t, logs[t], t * kRegion);
    EXPECT_GE(cut, before[t]) << "a write that returned before the freeze is missing";
    EXPECT_LE(cut, after[t]) << "a write started after the freeze returned is in the view";
    EXPECT_GT(logs[t].offsets.size(), cut) << "writer " << t << " kept writing after the instant";
  }
}

TEST_P(ViewTest, GroupFreezeSharesOneInstantAcrossVolumes) {
  auto a = Create("a", kMiB, 16 << 10);
  auto b = Create("b", kMiB, 16 << 10);
  ASSERT_TRUE(a && b);
  // One writer alternates between the volumes: seq odd -> a, even -> b.
  std::atomic<bool> stop{false};
  std::atomic<uint32_t> last{0};
  std::vector<uint64_t> offsets;
  std::thread writer([&] {
    std::mt19937_64 rng(7);
    for (uint32_t seq = 1; !stop.load() && seq < 50000; ++seq) {
      const uint64_t off = (rng() % (kMiB / kChunk)) * kChunk;
      offsets.push_back(off);
      Volume& v = (seq % 2) ? *a : *b;
      ASSERT_TRUE(v.Write(off, ChunkContent(0, seq), false).ok());
      last.store(seq);
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  Volume* both[] = {a.get(), b.get()};
  auto views = Volume::FreezeGroup(both);
  ASSERT_TRUE(views.ok()) << views.status().ToString();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop = true;
  writer.join();
  // The newest sequence in each view: together they are one cut of the
  // writer's sequence (cut_a and cut_b differ by at most one write).
  auto newest = [&](const Buffer& content) {
    uint32_t best = 0;
    for (uint64_t off = 0; off < kMiB; off += kChunk) {
      uint32_t s;
      std::memcpy(&s, content.data() + off + 4, 4);
      best = std::max(best, s);
    }
    return best;
  };
  Buffer va = ReadAll(*(*views)[0]), vb = ReadAll(*(*views)[1]);
  const uint32_t cut = std::max(newest(va), newest(vb));
  ASSERT_GT(cut, 0u);
  ASSERT_LT(cut, last.load()) << "the writer should have gone on after the freeze";
  // Rebuild both volumes at `cut` from the log and compare.
  Buffer ea(kMiB), eb(kMiB);
  for (uint32_t seq = 1; seq <= cut; ++seq) {
    Buffer c = ChunkContent(0, seq);
    std::copy(c.begin(), c.end(), ((seq % 2) ? ea : eb).begin() + offsets[seq - 1]);
  }
  EXPECT_EQ(va, ea);
  EXPECT_EQ(vb, eb);
  EXPECT_EQ((*views)[0]->frozen_unix_nanos(), (*views)[1]->frozen_unix_nanos());
  Volume* twice[] = {a.get(), a.get()};
  EXPECT_EQ(Volume::FreezeGroup(twice).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(ViewTest, CloseReleasesViewsAndDeletesTheirStores) {
  auto v = Create("a", kMiB);
  ASSERT_NE(v, nullptr);
  auto view = v->Freeze();
  ASSERT_TRUE(view.ok());
  CAIRN_ASSERT_OK(v->Write(0, Pattern(kMiB, 1), false));
  CAIRN_ASSERT_OK(v->Close());
  Buffer out(10);
  EXPECT_EQ((*view)->Read(0, out).code(), StatusCode::kFailedPrecondition);
  CAIRN_ASSERT_OK((*view)->Release(true));  // harmless
  v.reset();
  view->reset();  // after the volume is gone
  EXPECT_TRUE(std::filesystem::is_empty(tmp_.Sub("a/views")));
}

TEST_P(ViewTest, ResizeAfterFreezeKeepsTheViewSize) {
  auto v = Create("a", kMiB);
  ASSERT_NE(v, nullptr);
  CAIRN_ASSERT_OK(v->Write(kMiB - 4096, Pattern(4096, 5), false));
  auto view = v->Freeze();
  ASSERT_TRUE(view.ok());
  CAIRN_ASSERT_OK(v->Resize(2 * kMiB));
  CAIRN_ASSERT_OK(v->Write(kMiB - 4096, Pattern(8192, 6), false));
  EXPECT_EQ((*view)->Size(), kMiB);
  Buffer out(4096);
  CAIRN_ASSERT_OK((*view)->Read(kMiB - 4096, out));
  EXPECT_EQ(out, Pattern(4096, 5));
  EXPECT_EQ((*view)->Read(kMiB, out).code(), StatusCode::kInvalidArgument);
}

TEST_P(ViewTest, ReleaseRacingCloseAndDestructionIsSafe) {
  for (int round = 0; round < 20; ++round) {
    auto v = Create("r" + std::to_string(round), kMiB);
    ASSERT_NE(v, nullptr);
    std::vector<std::shared_ptr<VolumeView>> views;
    for (int i = 0; i < 4; ++i) {
      CAIRN_ASSERT_OK(v->Write(i * 4096, Pattern(4096, i), false));
      auto view = v->Freeze();
      ASSERT_TRUE(view.ok());
      views.push_back(*view);
    }
    std::thread releaser([&] {
      Buffer b(4096);
      for (auto& view : views) {
        // Either works or reports the release/close; never crashes.
        Status r = view->Read(0, b);
        EXPECT_TRUE(r.ok() || r.code() == StatusCode::kFailedPrecondition) << r.ToString();
        EXPECT_TRUE(view->Release(round % 2 == 0).ok());
      }
    });
    CAIRN_ASSERT_OK(v->Close());
    v.reset();
    releaser.join();
  }
}

}  // namespace
}  // namespace cairn::volume
