#include "repo/backup.h"

#include <atomic>
#include <stop_token>

#include <gtest/gtest.h>

#include "repo/engine_test_util.h"

namespace cairn::repo {
namespace {

using testing::kTestBlockSize;
using testing::TempDir;

// A Source over a buffer, with hooks for failure and cancellation tests.
class BufferSource : public Source {
 public:
  BufferSource(std::string name, Buffer data) : name_(std::move(name)), data_(std::move(data)) {}
  uint64_t size() const override { return data_.size(); }
  std::string name() const override { return name_; }
  Status ReadAt(uint64_t offset, MutableByteSpan out) override {
    if (reads_.fetch_add(1) + 1 == fail_at_read_) return IoError("disk on fire");
    if (reads_.load() == stop_at_read_) stop_.request_stop();
    std::memcpy(out.data(), data_.data() + offset, out.size());
    return Status::OK();
  }
  Result<std::vector<Extent>> DataExtents() override {
    return std::vector<Extent>{{0, data_.size()}};
  }
  Buffer& data() { return data_; }

  int fail_at_read_ = -1;
  int stop_at_read_ = -1;
  std::stop_source stop_;

 private:
  std::string name_;
  Buffer data_;
  std::atomic<int> reads_{0};
};

Buffer MixedImage(size_t blocks, uint64_t seed) {
  Buffer img;
  for (size_t i = 0; i < blocks; ++i) {
    Buffer b = (i % 3 == 0) ? testing::TextData(kTestBlockSize, seed * 1000 + i)
                            : testing::RandomData(kTestBlockSize, seed * 1000 + i);
    Append(img, b);
  }
  return img;
}

TEST(BackupTest, FullBackupStoresEveryNonZeroBlockOnce) {
  auto t = testing::MakeTestRepo();
  Buffer img = MixedImage(40, 1);
  // Zero run (blocks 10-14) and a duplicate of block 1 at block 20.
  std::fill(img.begin() + 10 * kTestBlockSize, img.begin() + 15 * kTestBlockSize, std::byte{0});
  std::copy_n(img.begin() + kTestBlockSize, kTestBlockSize, img.begin() + 20 * kTestBlockSize);
  img.resize(img.size() - 1000);  // short last block
  BufferSource src("/dev/test", img);

  auto r = CreateSnapshot(*t.repo, src, BackupOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const SnapshotHeader& h = r->snapshot;
  EXPECT_EQ(h.size, img.size());
  EXPECT_EQ(h.block_size, kTestBlockSize);
  EXPECT_EQ(h.block_count, 40u);
  EXPECT_EQ(h.source, "/dev/test");
  EXPECT_FALSE(h.parent.has_value());
  EXPECT_EQ(h.stats.bytes_read, img.size());
  EXPECT_EQ(h.stats.chunks_new, 40u - 5 - 1);
  EXPECT_EQ(h.stats.bytes_new, img.size() - 6 * kTestBlockSize);
  EXPECT_GT(h.stats.bytes_stored, 0u);
  EXPECT_LT(h.stats.bytes_stored, h.stats.bytes_new);  // text compresses

  auto m = t.repo->LoadManifest(h.id);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m->blocks[12].IsZero());
  EXPECT_EQ(m->blocks[1], m->blocks[20]);
  EXPECT_EQ(t.repo->index().chunk_count(), 34u);
  EXPECT_EQ(testing::CountObjects(*t.mem, "index/"), 1u);
}

TEST(BackupTest, IncrementalStoresOnlyChangedBlocks) {
  auto t = testing::MakeTestRepo();
  BufferSource src("/dev/inc", MixedImage(200, 2));
  auto first = CreateSnapshot(*t.repo, src, BackupOptions{});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const size_t packs_before = testing::CountObjects(*t.mem, "packs/");

  // Change 1% of the blocks (2 of 200).
  for (size_t b : {17, 150}) src.data()[b * kTestBlockSize + 7] ^= std::byte{0x55};
  auto second = CreateSnapshot(*t.repo, src, BackupOptions{});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  const SnapshotStats& s = second->snapshot.stats;
  ASSERT_TRUE(second->snapshot.parent.has_value());
  EXPECT_EQ(*second->snapshot.parent, first->snapshot.id);
  EXPECT_EQ(s.chunks_new, 2u);
  EXPECT_EQ(s.bytes_new, 2u * kTestBlockSize);
  EXPECT_LE(s.bytes_stored, 2u * kTestBlockSize + 200);
  EXPECT_EQ(s.bytes_read, src.size());
  EXPECT_EQ(testing::CountObjects(*t.mem, "packs/"), packs_before + 1);

  // An explicit "no parent" still dedups through the index.
  BackupOptions none;
  none.parent = SnapshotId();
  auto third = CreateSnapshot(*t.repo, src, none);
  ASSERT_TRUE(third.ok());
  EXPECT_FALSE(third->snapshot.parent.has_value());
  EXPECT_EQ(third->snapshot.stats.bytes_new, 0u);
}

TEST(BackupTest, SameContentFromAnotherSourceDedups) {
  auto t = testing::MakeTestRepo();
  Buffer img = MixedImage(60, 3);
  BufferSource a("/dev/a", img), b("/dev/b", img);
  ASSERT_TRUE(CreateSnapshot(*t.repo, a, BackupOptions{}).ok());
  const size_t objects = t.mem->object_count();
  auto r = CreateSnapshot(*t.repo, b, BackupOptions{});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->snapshot.parent.has_value());  // different source name
  EXPECT_EQ(r->snapshot.stats.bytes_new, 0u);
  EXPECT_EQ(r->snapshot.stats.bytes_stored, 0u);
  EXPECT_EQ(t.mem->object_count(), objects + 1);  // just the manifest
}

TEST(BackupTest, AllZeroAndEmptySourcesStoreNothing) {
  auto t = testing::MakeTestRepo();
  BufferSource zeros("/dev/zero-ish", Buffer(10 * kTestBlockSize + 5));
  auto r = CreateSnapshot(*t.repo, zeros, BackupOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->snapshot.stats.chunks_new, 0u);
  EXPECT_EQ(r->snapshot.block_count, 11u);
  EXPECT_EQ(testing::CountObjects(*t.mem, "packs/"), 0u);

  BufferSource empty("/dev/empty", Buffer());
  auto e = CreateSnapshot(*t.repo, empty, BackupOptions{});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->snapshot.block_count, 0u);
}

TEST(BackupTest, SparseFileHolesAreNotRead) {
  auto t = testing::MakeTestRepo();
  TempDir dir;
  const std::string path = dir / "sparse.img";
  testing::PwriteFile(path, 0, testing::RandomData(kTestBlockSize, 9));
  ASSERT_EQ(::truncate(path.c_str(), 64ll << 20), 0);
  auto src = OpenFileSource(path);
  ASSERT_TRUE(src.ok());
  Progress progress(Progress::Mode::kNone, "backup", (*src)->size());
  BackupOptions opts;
  opts.progress = &progress;
  auto r = CreateSnapshot(*t.repo, **src, opts);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_LT(r->snapshot.stats.bytes_read, 16ull << 20);
  EXPECT_EQ(r->snapshot.stats.chunks_new, 1u);
  EXPECT_EQ(progress.done(), 64ull << 20);  // holes count as progress
}

TEST(BackupTest, ReadErrorNamesBlockAndSavesNothing) {
  auto t = testing::MakeTestRepo();
  BufferSource src("/dev/bad", MixedImage(30, 4));
  src.fail_at_read_ = 5;
  BackupOptions opts;
  opts.threads = 2;
  auto r = CreateSnapshot(*t.repo, src, opts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_NE(r.status().message().find("block 4 (byte offset 262144) of /dev/bad"),
            std::string::npos)
      << r.status().ToString();
  EXPECT_EQ(testing::CountObjects(*t.mem, "snapshots/"), 0u);
  EXPECT_EQ(testing::CountObjects(*t.mem, "index/"), 0u);
  EXPECT_EQ(testing::CountObjects(*t.mem, "locks/"), 0u);
}

TEST(BackupTest, CancellationLeavesNoManifest) {
  auto t = testing::MakeTestRepo();
  BufferSource src("/dev/cancel", MixedImage(100, 5));
  src.stop_at_read_ = 20;
  BackupOptions opts;
  opts.stop = src.stop_.get_token();
  auto r = CreateSnapshot(*t.repo, src, opts);
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled) << r.status().ToString();
  EXPECT_EQ(testing::CountObjects(*t.mem, "snapshots/"), 0u);
  EXPECT_EQ(testing::CountObjects(*t.mem, "index/"), 0u);
  auto list = t.repo->ListSnapshots();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->snapshots.empty());
}

// changed_only (changed-block tracking): only blocks touching the listed
// extents are read; the rest take the parent's chunk ids unread.
TEST(BackupTest, ChangedOnlyReadsOnlyTouchedBlocks) {
  auto t = testing::MakeTestRepo();
  BufferSource src("/dev/cbt", MixedImage(100, 6));
  auto first = CreateSnapshot(*t.repo, src, BackupOptions{});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  // Blocks 10 and 61 change; the extents cover a few bytes of each (61's
  // change straddles into 62).
  src.data()[10 * kTestBlockSize + 5] ^= std::byte{1};
  src.data()[62 * kTestBlockSize - 1] ^= std::byte{1};
  src.data()[62 * kTestBlockSize] ^= std::byte{1};
  BackupOptions opts;
  opts.changed_only =
      std::vector<Extent>{{62 * kTestBlockSize - 1, 2}, {10 * kTestBlockSize + 5, 1}};
  auto second = CreateSnapshot(*t.repo, src, opts);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->snapshot.stats.bytes_read, 3u * kTestBlockSize);
  EXPECT_EQ(second->bytes_unchanged, 97u * kTestBlockSize);
  EXPECT_EQ(second->snapshot.stats.chunks_new, 3u);

  // The map equals that of a backup reading every block.
  auto full = CreateSnapshot(*t.repo, src, BackupOptions{});
  ASSERT_TRUE(full.ok());
  auto m2 = t.repo->LoadManifest(second->snapshot.id);
  auto mf = t.repo->LoadManifest(full->snapshot.id);
  ASSERT_TRUE(m2.ok() && mf.ok());
  EXPECT_EQ(m2->blocks, mf->blocks);
}

TEST(BackupTest, ChangedOnlyWithoutUsableParentReadsEverything) {
  auto t = testing::MakeTestRepo();
  BufferSource src("/dev/cbt-none", MixedImage(20, 7));
  BackupOptions opts;
  opts.changed_only = std::vector<Extent>{};
  auto first = CreateSnapshot(*t.repo, src, opts);  // no parent at all
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->snapshot.stats.bytes_read, src.size());
  EXPECT_EQ(first->bytes_unchanged, 0u);

  // A parent of another size: read everything too.
  BufferSource grown("/dev/cbt-none", MixedImage(21, 7));
  auto second = CreateSnapshot(*t.repo, grown, opts);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->snapshot.stats.bytes_read, grown.size());
  ASSERT_TRUE(second->snapshot.parent.has_value());
}

TEST(BackupTest, ChangedOnlyReadsBlocksWhoseParentChunkIsLost) {
  auto t = testing::MakeTestRepo();
  BufferSource src("/dev/cbt-lost", MixedImage(12, 8));
  auto first = CreateSnapshot(*t.repo, src, BackupOptions{});
  ASSERT_TRUE(first.ok());
  // The repository loses every index object: no parent chunk is known, so
  // nothing may be referenced unread.
  std::vector<std::string> keys;
  ASSERT_TRUE(t.mem->List("index/", [&](const storage::ObjectInfo& i) {
                     keys.push_back(i.key);
                     return Status::OK();
                   }).ok());
  for (const std::string& k : keys) ASSERT_TRUE(t.mem->Remove(k).ok());
  BackupOptions opts;
  opts.changed_only = std::vector<Extent>{};
  auto second = CreateSnapshot(*t.repo, src, opts);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->snapshot.stats.bytes_read, src.size());
  EXPECT_EQ(second->snapshot.stats.chunks_new, 12u);
  EXPECT_EQ(second->bytes_unchanged, 0u);
}

}  // namespace
}  // namespace cairn::repo
