// A volume hydrated from a real repository snapshot through
// SnapshotBlockSource: byte-exact, holes never fetched, damage named.
#include "service/snapshot_block_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "repo/backup.h"
#include "repo/ids.h"
#include "repo/maintenance_test_util.h"
#include "repo/recycle_bin.h"
#include "volume/hydrator.h"
#include "volume/test_util.h"
#include "volume/volume.h"

namespace cairn::service {
namespace {

using repo::testing::kTestBlockSize;
using ::testing::HasSubstr;

// 40 blocks of 64 KiB, blocks 5-9 zero, a short last block.
Buffer Image() {
  Buffer img = repo::testing::RandomData(40 * kTestBlockSize - 4096, 3);
  std::memset(img.data() + 5 * kTestBlockSize, 0, 5 * kTestBlockSize);
  return img;
}

struct Fixture {
  repo::testing::FaultRepo t = repo::testing::MakeFaultRepo();
  Buffer img = Image();
  repo::SnapshotId id;
  Fixture() {
    repo::testing::BufferSource src("/dev/vdb", img);
    auto r = repo::CreateSnapshot(*t.repo, src, repo::BackupOptions{});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) id = r->snapshot.id;
    EXPECT_TRUE(t.repo->LoadIndex().ok());
  }
};

TEST(SnapshotBlockSourceTest, ReadsVerifiedBytesAndReportsHoles) {
  Fixture f;
  auto s = SnapshotBlockSource::Open(*f.t.repo, f.id);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->Size(), f.img.size());
  EXPECT_EQ((*s)->BlockSize(), kTestBlockSize);
  EXPECT_THAT((*s)->Describe(), HasSubstr(f.id.str()));
  Buffer out(3 * kTestBlockSize + 10);
  ASSERT_TRUE((*s)->Read(4 * kTestBlockSize - 5, out).ok());
  EXPECT_EQ(0, std::memcmp(out.data(), f.img.data() + 4 * kTestBlockSize - 5, out.size()));
  auto extents = (*s)->DataExtents();
  ASSERT_TRUE(extents.ok());
  ASSERT_EQ(extents->size(), 2u);
  EXPECT_EQ((*extents)[0].length, 5 * kTestBlockSize);
  EXPECT_EQ((*extents)[1].offset, 10 * kTestBlockSize);
}

TEST(SnapshotBlockSourceTest, UnknownSnapshotIsNotFound) {
  Fixture f;
  auto s = SnapshotBlockSource::Open(*f.t.repo, repo::SnapshotId::Generate());
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
  SnapshotBlockSourceOptions bin;
  bin.from_recycle_bin = true;
  auto b = SnapshotBlockSource::Open(*f.t.repo, repo::SnapshotId::Generate(), bin);
  EXPECT_EQ(b.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(b.status().message(), HasSubstr("not in the recycle bin either"));
}

TEST(SnapshotBlockSourceTest, ASnapshotInTheRecycleBinOpensOnlyWhenAsked) {
  Fixture f;
  ASSERT_TRUE(repo::MoveToRecycleBin(*f.t.repo, f.id, std::chrono::system_clock::now()).ok());
  EXPECT_EQ(SnapshotBlockSource::Open(*f.t.repo, f.id).status().code(), StatusCode::kNotFound);
  SnapshotBlockSourceOptions bin;
  bin.from_recycle_bin = true;
  auto src = SnapshotBlockSource::Open(*f.t.repo, f.id, bin);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  ASSERT_TRUE((*src)->recycled().has_value());
  EXPECT_THAT((*src)->Describe(), HasSubstr("in the recycle bin until"));
  Buffer all((*src)->Size());
  CAIRN_ASSERT_OK((*src)->Read(0, all));
  EXPECT_TRUE(all == f.img);
}

TEST(SnapshotBlockSourceTest, VolumeHydratesByteExactAndDamageIsNamed) {
  Fixture f;
  // Damage block 30's chunk.
  auto m = f.t.repo->LoadManifest(f.id);
  ASSERT_TRUE(m.ok());
  auto loc = f.t.repo->index().Lookup(m->blocks[30]);
  ASSERT_TRUE(loc.has_value());

  volume::testing::TempDir tmp;
  const uint64_t size = 48 * kTestBlockSize;
  auto v = volume::Volume::Create(
      tmp.Sub("vol"),
      {.size = size, .qos = {volume::VolumeType::kStandard, 0, 0}, .block_size = 64 << 10});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  auto src = SnapshotBlockSource::Open(*f.t.repo, f.id);
  ASSERT_TRUE(src.ok());
  auto h = volume::Hydrator::Start(**v, *src, {.rate_bytes_per_sec = 0, .threads = 2});
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  ASSERT_TRUE((*h)->WaitDone().ok());
  Buffer all(size);
  ASSERT_TRUE((*v)->Read(0, all).ok());
  Buffer want = f.img;
  want.resize(size);
  EXPECT_TRUE(all == want);
  // 40 blocks, 5 of them zero and never fetched; the others once each.
  EXPECT_EQ((*src)->blocks_fetched(), 35u);
  CAIRN_ASSERT_OK((*h)->Stop());
  (*v)->SetFiller(nullptr);
  CAIRN_ASSERT_OK((*v)->Close());

  // A second volume from the damaged snapshot: the read and WaitDone name
  // the snapshot and the block.
  ASSERT_TRUE(f.t.mem->Corrupt(repo::PackKey(loc->pack), loc->offset + 40).ok());
  auto v2 = volume::Volume::Create(
      tmp.Sub("vol2"),
      {.size = size, .qos = {volume::VolumeType::kStandard, 0, 0}, .block_size = 64 << 10});
  ASSERT_TRUE(v2.ok());
  auto src2 = SnapshotBlockSource::Open(*f.t.repo, f.id);
  ASSERT_TRUE(src2.ok());
  auto h2 = volume::Hydrator::Start(**v2, *src2, {.rate_bytes_per_sec = 0, .threads = 2});
  ASSERT_TRUE(h2.ok());
  Buffer one(100);
  Status r = (*v2)->Read(30 * kTestBlockSize + 7, one);
  EXPECT_EQ(r.code(), StatusCode::kCorruption);
  EXPECT_THAT(r.message(), HasSubstr("snapshot " + f.id.str() + " block 30"));
  Status w = (*h2)->WaitDone();
  EXPECT_EQ(w.code(), StatusCode::kCorruption);
  EXPECT_THAT(w.message(), HasSubstr("block 30"));
  (*h2)->Abandon();
}

}  // namespace
}  // namespace cairn::service
