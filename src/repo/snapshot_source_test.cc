#include "repo/snapshot_source.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <thread>

#include "repo/backup.h"
#include "repo/engine_test_util.h"
#include "repo/index.h"
#include "repo/maintenance_test_util.h"
#include "storage/fault_backend.h"

namespace cairn::repo {
namespace {

using testing::kTestBlockSize;

class BufferSource : public Source {
 public:
  explicit BufferSource(Buffer data) : data_(std::move(data)) {}
  uint64_t size() const override { return data_.size(); }
  std::string name() const override { return "/dev/vdb"; }
  Status ReadAt(uint64_t offset, MutableByteSpan out) override {
    std::memcpy(out.data(), data_.data() + offset, out.size());
    return Status::OK();
  }
  Result<std::vector<Extent>> DataExtents() override {
    return std::vector<Extent>{{0, data_.size()}};
  }

 private:
  Buffer data_;
};

// 24 blocks: random, with zero blocks 3, 4 and 20, a duplicate of block 1 at
// block 9, and a short last block.
Buffer Image() {
  Buffer img = testing::RandomData(24 * kTestBlockSize - 777, 11);
  for (uint64_t b : {3, 4, 20}) {
    std::fill_n(img.begin() + b * kTestBlockSize, kTestBlockSize, std::byte{0});
  }
  std::copy_n(img.begin() + kTestBlockSize, kTestBlockSize, img.begin() + 9 * kTestBlockSize);
  return img;
}

struct Fixture {
  testing::TestRepo t = testing::MakeTestRepo();
  Buffer img = Image();
  SnapshotId id;

  Fixture() {
    BufferSource src(img);
    auto r = CreateSnapshot(*t.repo, src, BackupOptions{});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) id = r->snapshot.id;
  }
};

TEST(SnapshotSourceTest, ReadsAnyRangeAndReportsDataExtents) {
  Fixture f;
  auto src = SnapshotSource::Open(*f.t.repo, f.id);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  SnapshotSource& s = **src;
  EXPECT_EQ(s.size(), f.img.size());
  EXPECT_EQ(s.name(), "/dev/vdb");
  for (auto [off, len] : std::vector<std::pair<uint64_t, uint64_t>>{{0, f.img.size()},
                                                                    {1, 3 * kTestBlockSize},
                                                                    {2 * kTestBlockSize + 17, 4096},
                                                                    {f.img.size() - 5, 5},
                                                                    {5 * kTestBlockSize - 1, 2},
                                                                    {0, 0}}) {
    Buffer out(len);
    ASSERT_TRUE(s.ReadAt(off, out).ok()) << off;
    EXPECT_TRUE(std::equal(out.begin(), out.end(), f.img.begin() + off)) << off << "+" << len;
  }
  auto extents = s.DataExtents();
  ASSERT_TRUE(extents.ok());
  const uint64_t B = kTestBlockSize;
  ASSERT_EQ(extents->size(), 3u);
  EXPECT_EQ((*extents)[0].offset, 0u);
  EXPECT_EQ((*extents)[0].length, 3 * B);
  EXPECT_EQ((*extents)[1].offset, 5 * B);
  EXPECT_EQ((*extents)[1].length, 15 * B);
  EXPECT_EQ((*extents)[2].offset, 21 * B);
  EXPECT_EQ((*extents)[2].offset + (*extents)[2].length, f.img.size());

  Buffer too_far(10);
  EXPECT_EQ(s.ReadAt(f.img.size() - 5, too_far).code(), StatusCode::kInvalidArgument);
}

TEST(SnapshotSourceTest, SmallSequentialReadsFetchEachChunkOnceWithReadahead) {
  Fixture f;
  SnapshotSourceOptions options;
  options.readahead = 4;
  options.fetch_threads = 3;
  auto src = SnapshotSource::Open(*f.t.repo, f.id, options);
  ASSERT_TRUE(src.ok());
  Buffer all(f.img.size());
  for (uint64_t off = 0; off < all.size(); off += 4096) {
    const uint64_t n = std::min<uint64_t>(4096, all.size() - off);
    ASSERT_TRUE((*src)->ReadAt(off, MutableByteSpan(all).subspan(off, n)).ok()) << off;
  }
  EXPECT_EQ(all, f.img);
  EXPECT_EQ((*src)->blocks_fetched(), 21u);  // the data blocks, once each
}

TEST(SnapshotSourceTest, ConcurrentReadersSeeTheSnapshot) {
  Fixture f;
  SnapshotSourceOptions options;
  options.readahead = 2;
  options.cache_blocks = 3;
  auto src = SnapshotSource::Open(*f.t.repo, f.id, options);
  ASSERT_TRUE(src.ok());
  std::vector<std::thread> readers;
  std::atomic<int> mismatches{0};
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&, r] {
      for (int round = 0; round < 3; ++round) {
        for (uint64_t b = r; b < 24; b += 2) {
          const uint64_t off = b * kTestBlockSize;
          Buffer out(std::min<uint64_t>(kTestBlockSize, f.img.size() - off));
          if (!(*src)->ReadAt(off, out).ok() ||
              !std::equal(out.begin(), out.end(), f.img.begin() + off)) {
            ++mismatches;
          }
        }
      }
    });
  }
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(SnapshotSourceTest, DamagedChunkIsCorruptionNamingSnapshotAndBlock) {
  Fixture f;
  auto m = f.t.repo->LoadManifest(f.id);
  ASSERT_TRUE(m.ok());
  auto loc = f.t.repo->index().Lookup(m->blocks[7]);
  ASSERT_TRUE(loc.has_value());
  ASSERT_TRUE(f.t.mem->Corrupt(PackKey(loc->pack), loc->offset + 40).ok());

  SnapshotSourceOptions options;
  options.readahead = 8;
  auto src = SnapshotSource::Open(*f.t.repo, f.id, options);
  ASSERT_TRUE(src.ok());
  Buffer out(kTestBlockSize);
  ASSERT_TRUE((*src)->ReadAt(6 * kTestBlockSize, out).ok());  // starts read-ahead of 7
  for (int attempt = 0; attempt < 2; ++attempt) {             // a failure is not cached as data
    Status s = (*src)->ReadAt(7 * kTestBlockSize + 100, MutableByteSpan(out).first(10));
    EXPECT_EQ(s.code(), StatusCode::kCorruption);
    EXPECT_NE(s.message().find("snapshot " + f.id.str() + " block 7"), std::string::npos)
        << s.ToString();
  }
  ASSERT_TRUE((*src)->ReadAt(8 * kTestBlockSize, out).ok());
}

TEST(SnapshotSourceTest, ReadBlocksHandsOverEveryBlockOnceWithFewRequests) {
  testing::FaultRepo t = testing::MakeFaultRepo();
  const Buffer img = Image();
  BufferSource bs(img);
  auto snap = CreateSnapshot(*t.repo, bs, BackupOptions{});
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  auto src = SnapshotSource::Open(*t.repo, snap->snapshot.id);
  ASSERT_TRUE(src.ok());

  const uint64_t ranges_before = t.faults->calls(storage::Op::kGetRange);
  std::map<uint64_t, int> seen;
  Status all = (*src)->ReadBlocks(0, 24, [&](uint64_t b, ByteSpan data) {
    ++seen[b];
    const uint64_t off = b * kTestBlockSize;
    const uint64_t len = std::min<uint64_t>(kTestBlockSize, img.size() - off);
    EXPECT_EQ(data.size(), len) << "block " << b;
    EXPECT_TRUE(data.size() == len && std::equal(data.begin(), data.end(), img.begin() + off))
        << "block " << b;
    return Status::OK();
  });
  ASSERT_TRUE(all.ok()) << all.ToString();
  // Every block once: the zero blocks, the repeated one, the short last one.
  ASSERT_EQ(seen.size(), 24u);
  for (const auto& [b, n] : seen) EXPECT_EQ(n, 1) << "block " << b;
  // 21 data blocks (block 9 repeats block 1) from a few ranges of the
  // pack(s), not a request per block.
  const uint64_t ranges = t.faults->calls(storage::Op::kGetRange) - ranges_before;
  EXPECT_GE(ranges, 1u);
  EXPECT_LE(ranges, 3u);
  EXPECT_EQ((*src)->blocks_fetched(), 21u);

  // A sink error stops the read and is returned.
  int calls = 0;
  Status stop = (*src)->ReadBlocks(5, 10, [&](uint64_t, ByteSpan) {
    return ++calls == 2 ? CancelledError("enough") : Status::OK();
  });
  EXPECT_EQ(stop.code(), StatusCode::kCancelled);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ((*src)->ReadBlocks(20, 5, [](uint64_t, ByteSpan) { return Status::OK(); }).code(),
            StatusCode::kInvalidArgument);

  // Damage in block 7's chunk: the error names the snapshot and the block,
  // which is never handed over.
  auto m = t.repo->LoadManifest(snap->snapshot.id);
  ASSERT_TRUE(m.ok());
  auto loc = t.repo->index().Lookup(m->blocks[7]);
  ASSERT_TRUE(loc.has_value());
  ASSERT_TRUE(t.mem->Corrupt(PackKey(loc->pack), loc->offset + 40).ok());
  seen.clear();
  Status s = (*src)->ReadBlocks(0, 24, [&](uint64_t b, ByteSpan) {
    ++seen[b];
    return Status::OK();
  });
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("snapshot " + snap->snapshot.id.str() + " block 7"),
            std::string::npos)
      << s.ToString();
  EXPECT_EQ(seen.count(7), 0u);
}

}  // namespace
}  // namespace cairn::repo
