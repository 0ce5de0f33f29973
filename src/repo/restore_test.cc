#include "repo/restore.h"

#include <sys/stat.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "repo/backup.h"
#include "repo/engine_test_util.h"

namespace cairn::repo {
namespace {

using testing::kTestBlockSize;
using testing::TempDir;

constexpr uint64_t kImageSize = 48ull * kTestBlockSize + 12345;  // not a block multiple

// A sparse image: random, text, an explicit zero run, a duplicate block and
// holes (unwritten ranges), ending in a partial block.
std::string MakeImage(const TempDir& dir) {
  const std::string path = dir / "src.img";
  const uint64_t bs = kTestBlockSize;
  testing::PwriteFile(path, 0, testing::RandomData(4 * bs, 11));
  testing::PwriteFile(path, 4 * bs, testing::TextData(6 * bs + 300, 12));
  testing::PwriteFile(path, 12 * bs, Buffer(5 * bs));  // written zeros
  testing::PwriteFile(path, 17 * bs + 100, testing::RandomData(3 * bs, 13));
  // blocks 21..35: hole
  Buffer first_block = testing::ReadFile(path);
  first_block.resize(bs);
  testing::PwriteFile(path, 36 * bs, first_block);  // duplicate of block 0
  testing::PwriteFile(path, 40 * bs, testing::TextData(2 * bs, 14));
  testing::PwriteFile(path, kImageSize - 5000, testing::RandomData(5000, 15));
  EXPECT_EQ(::truncate(path.c_str(), static_cast<off_t>(kImageSize)), 0);
  return path;
}

struct Fixture {
  TempDir dir;
  testing::TestRepo t = testing::MakeTestRepo();
  std::string image = MakeImage(dir);
  SnapshotId id;

  Fixture() {
    auto src = OpenFileSource(image);
    EXPECT_TRUE(src.ok()) << src.status().ToString();
    auto r = CreateSnapshot(*t.repo, **src, BackupOptions{});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) id = r->snapshot.id;
  }
};

TEST(RestoreTest, RoundTripIsByteExactAndSparse) {
  Fixture f;
  const std::string out = f.dir / "out.img";
  Progress progress(Progress::Mode::kNone, "restore", kImageSize);
  RestoreOptions opts;
  opts.progress = &progress;
  auto r = RestoreSnapshot(*f.t.repo, f.id, out, opts);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(testing::ReadFile(out), testing::ReadFile(f.image));
  EXPECT_EQ(progress.done(), kImageSize);
  // Data blocks: 0-10, 17-20, 36, 40-41 and the partial block 48.
  EXPECT_EQ(r->blocks_restored, 19u);
  EXPECT_EQ(r->bytes_written, 18 * kTestBlockSize + 12345);
  struct stat st;
  ASSERT_EQ(::stat(out.c_str(), &st), 0);
  EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, kImageSize);  // holes kept
}

TEST(RestoreTest, ManyPacksRoundTrip) {
  TempDir dir;
  auto t = testing::MakeTestRepo(/*encrypted=*/false);
  Buffer img = testing::RandomData((40ull << 20) + 777, 21);  // > 2 packs of 16 MiB
  for (size_t b = 0; b < 600; b += 7) {  // chunks shared by several blocks
    std::copy_n(img.begin(), kTestBlockSize, img.begin() + b * kTestBlockSize);
  }
  testing::WriteFile(dir / "big.img", img);
  auto src = OpenFileSource(dir / "big.img");
  ASSERT_TRUE(src.ok());
  BackupOptions bopts;
  bopts.threads = 3;
  bopts.uploaders = 3;
  auto snap = CreateSnapshot(*t.repo, **src, bopts);
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_GE(testing::CountObjects(*t.mem, "packs/"), 3u);
  RestoreOptions ropts;
  ropts.threads = 3;
  auto r = RestoreSnapshot(*t.repo, snap->snapshot.id, dir / "out.img", ropts);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->bytes_written, img.size());
  EXPECT_TRUE(testing::ReadFile(dir / "out.img") == img);
}

TEST(RestoreTest, ReaderReturnsEveryBlock) {
  Fixture f;
  auto m = f.t.repo->LoadManifest(f.id);
  ASSERT_TRUE(m.ok());
  SnapshotReader reader(*f.t.repo, *m);
  Buffer image = testing::ReadFile(f.image);
  for (uint64_t b = 0; b < m->blocks.size(); ++b) {
    auto block = reader.ReadBlock(b);
    ASSERT_TRUE(block.ok()) << block.status().ToString();
    const uint64_t off = b * kTestBlockSize;
    ASSERT_EQ(block->size(), std::min<uint64_t>(kTestBlockSize, kImageSize - off));
    EXPECT_TRUE(std::equal(block->begin(), block->end(), image.begin() + off)) << b;
  }
  EXPECT_EQ(reader.ReadBlock(m->blocks.size()).status().code(), StatusCode::kInvalidArgument);
}

// The first block (lowest index) whose chunk is stored at pack offset 0.
std::pair<std::string, uint64_t> FirstPackAndBlock(Fixture& f) {
  std::vector<IndexedPack> packs = f.t.repo->index().Packs();
  EXPECT_FALSE(packs.empty());
  const IndexedPack& p = packs[0];
  auto m = f.t.repo->LoadManifest(f.id);
  for (const PackEntry& e : p.entries) {
    if (e.offset != 0) continue;
    for (uint64_t b = 0; b < m->blocks.size(); ++b) {
      if (m->blocks[b] == e.id) return {PackKey(p.id), b};
    }
  }
  ADD_FAILURE() << "no block uses the first blob";
  return {};
}

TEST(RestoreTest, FlippedBitIsCorruptionNamingBlockAndOffset) {
  Fixture f;
  auto [pack_key, block] = FirstPackAndBlock(f);
  ASSERT_TRUE(f.t.mem->Corrupt(pack_key, 100).ok());
  auto r = RestoreSnapshot(*f.t.repo, f.id, f.dir / "out.img", RestoreOptions{});
  ASSERT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
  const std::string want = fmt::format("snapshot {} block {} (byte offset {}): pack ",
                                       f.id.str(), block, block * kTestBlockSize);
  EXPECT_NE(r.status().message().find(want), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("offset 0"), std::string::npos) << r.status().ToString();
}

TEST(RestoreTest, TruncatedPackIsCorruption) {
  Fixture f;
  std::vector<IndexedPack> packs = f.t.repo->index().Packs();
  ASSERT_FALSE(packs.empty());
  const IndexedPack& p = packs[0];
  ASSERT_TRUE(f.t.mem->Truncate(PackKey(p.id), p.entries.back().offset + 10).ok());
  auto r = RestoreSnapshot(*f.t.repo, f.id, f.dir / "out.img", RestoreOptions{});
  ASSERT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
  EXPECT_NE(r.status().message().find("pack " + p.id.Hex() + " is truncated"), std::string::npos)
      << r.status().ToString();
  EXPECT_NE(r.status().message().find("snapshot " + f.id.str() + " block "), std::string::npos);
}

TEST(RestoreTest, RefusesNonEmptyFileWithoutForce) {
  Fixture f;
  const std::string out = f.dir / "busy.img";
  testing::WriteFile(out, testing::RandomData(kImageSize * 2, 99));
  auto r = RestoreSnapshot(*f.t.repo, f.id, out, RestoreOptions{});
  ASSERT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("target " + out + " is not empty (" +
                                      std::to_string(kImageSize * 2) + " bytes)"),
            std::string::npos)
      << r.status().ToString();
  EXPECT_NE(r.status().message().find("--force"), std::string::npos);
  EXPECT_EQ(testing::ReadFile(out).size(), kImageSize * 2);  // untouched

  RestoreOptions force;
  force.force = true;
  auto ok = RestoreSnapshot(*f.t.repo, f.id, out, force);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(testing::ReadFile(out), testing::ReadFile(f.image));  // old bytes gone
}

TEST(RestoreTest, CancelledRestoreStops) {
  Fixture f;
  std::stop_source stop;
  stop.request_stop();
  RestoreOptions opts;
  opts.stop = stop.get_token();
  auto r = RestoreSnapshot(*f.t.repo, f.id, f.dir / "out.img", opts);
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled) << r.status().ToString();
}

TEST(RestoreTest, MissingSnapshotIsNotFound) {
  Fixture f;
  auto id = SnapshotId::Parse("snap-0123456789abcdef0");
  ASSERT_TRUE(id.ok());
  auto r = RestoreSnapshot(*f.t.repo, *id, f.dir / "out.img", RestoreOptions{});
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << r.status().ToString();
}

}  // namespace
}  // namespace cairn::repo
