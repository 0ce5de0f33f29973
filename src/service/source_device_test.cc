// SourceDevice over a real SnapshotSource in an in-memory repository: reads
// are the snapshot's bytes, holes show as extents, mutations are refused,
// and an ext4 filesystem inside a snapshot reads through it fetching only
// the blocks a file needs.
#include "service/source_device.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "fs/ext_filesystem.h"
#include "repo/backup.h"
#include "repo/maintenance_test_util.h"
#include "repo/snapshot_source.h"

namespace cairn::service {
namespace {

using repo::testing::kTestBlockSize;

struct Snapshot {
  repo::testing::TestRepo t = repo::testing::MakeTestRepo();
  repo::SnapshotId id;

  explicit Snapshot(const Buffer& image) {
    repo::testing::BufferSource src("/dev/vdb", image);
    repo::BackupOptions options;
    options.parent = repo::SnapshotId();
    auto r = repo::CreateSnapshot(*t.repo, src, options);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) id = r->snapshot.id;
    EXPECT_TRUE(t.repo->LoadIndex().ok());
  }

  // The device and a view of its source (for fetch counts).
  std::pair<std::shared_ptr<SourceDevice>, repo::SnapshotSource*> Open() {
    auto source = repo::SnapshotSource::Open(*t.repo, id);
    EXPECT_TRUE(source.ok()) << source.status().ToString();
    repo::SnapshotSource* raw = source->get();
    return {std::make_shared<SourceDevice>(std::move(source).value(), id.str()), raw};
  }
};

// 12 blocks; blocks 3-6 are zero.
Buffer Image() {
  Buffer img = repo::testing::RandomData(12 * kTestBlockSize, 9);
  std::memset(img.data() + 3 * kTestBlockSize, 0, 4 * kTestBlockSize);
  return img;
}

TEST(SourceDeviceTest, ReadsTheSnapshotsBytes) {
  const Buffer img = Image();
  Snapshot snap(img);
  auto [dev, source] = snap.Open();
  EXPECT_EQ(dev->Size(), img.size());
  EXPECT_EQ(dev->Describe(), snap.id.str());
  Buffer out(2 * kTestBlockSize + 77);
  ASSERT_TRUE(dev->Read(kTestBlockSize - 33, out).ok());
  EXPECT_EQ(0, std::memcmp(out.data(), img.data() + kTestBlockSize - 33, out.size()));
  Buffer past(10);
  Status s = dev->Read(img.size() - 5, past);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(snap.id.str()), std::string::npos) << s.message();
}

TEST(SourceDeviceTest, ExtentsShowTheHoles) {
  Snapshot snap(Image());
  auto [dev, source] = snap.Open();
  EXPECT_TRUE(dev->caps().extents);
  auto extents = dev->Extents(0, dev->Size());
  ASSERT_TRUE(extents.ok()) << extents.status().ToString();
  ASSERT_EQ(extents->size(), 3u);
  EXPECT_FALSE((*extents)[0].hole);
  EXPECT_EQ((*extents)[0].length, 3 * kTestBlockSize);
  EXPECT_TRUE((*extents)[1].hole);
  EXPECT_TRUE((*extents)[1].zero);
  EXPECT_EQ((*extents)[1].offset, 3 * kTestBlockSize);
  EXPECT_EQ((*extents)[1].length, 4 * kTestBlockSize);
  EXPECT_FALSE((*extents)[2].hole);
  EXPECT_EQ((*extents)[2].offset + (*extents)[2].length, dev->Size());
  // A range starting inside the hole.
  auto mid = dev->Extents(4 * kTestBlockSize, 4 * kTestBlockSize);
  ASSERT_TRUE(mid.ok());
  ASSERT_EQ(mid->size(), 2u);
  EXPECT_EQ((*mid)[0].offset, 4 * kTestBlockSize);
  EXPECT_EQ((*mid)[0].length, 3 * kTestBlockSize);
  EXPECT_TRUE((*mid)[0].hole);
  EXPECT_EQ((*mid)[1].length, kTestBlockSize);
}

TEST(SourceDeviceTest, MutationsArePermissionDenied) {
  Snapshot snap(Image());
  auto [dev, source] = snap.Open();
  EXPECT_FALSE(dev->caps().writable);
  Buffer data(512);
  EXPECT_EQ(dev->Write(0, data, false).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(dev->Trim(0, 512).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(dev->WriteZeroes(0, 512, true, false, false).code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(dev->Flush().ok());
}

TEST(SourceDeviceTest, Ext4InASnapshotReadsOnlyTheBlocksItNeeds) {
  std::string dir = ::testing::TempDir() + "cairn-srcdev-XXXXXX";
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  std::filesystem::create_directories(dir + "/tree/etc");
  std::ofstream(dir + "/tree/etc/hostname") << "db1\n";
  {
    Buffer big = repo::testing::RandomData(8 << 20, 4);  // spread over many blocks
    std::ofstream(dir + "/tree/big.bin", std::ios::binary)
        .write(reinterpret_cast<const char*>(big.data()), static_cast<std::streamsize>(big.size()));
  }
  const std::string image = dir + "/ext4.img";
  ASSERT_EQ(std::system(("mkfs.ext4 -q -F -d " + dir + "/tree " + image + " 64M").c_str()), 0);
  std::ifstream in(image, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove_all(dir);

  Snapshot snap(ToBuffer(bytes));
  auto [dev, source] = snap.Open();
  auto fs = fs::ExtFilesystem::Open(dev);
  ASSERT_TRUE(fs.ok()) << fs.status().ToString();
  EXPECT_NE((*fs)->Describe().find(snap.id.str()), std::string::npos);
  auto ino = (*fs)->Lookup("/etc/hostname");
  ASSERT_TRUE(ino.ok()) << ino.status().ToString();
  std::string content;
  ASSERT_TRUE((*fs)
                  ->ReadFile(*ino,
                             [&](ByteSpan b) {
                               content += AsStringView(b);
                               return Status::OK();
                             })
                  .ok());
  EXPECT_EQ(content, "db1\n");
  // 64 MiB is 1024 blocks of 64 KiB, about 140 of them data (8 MiB of
  // file, metadata); the superblock, group descriptors, root and /etc
  // inodes and one data block need only a few.
  EXPECT_LE(source->blocks_fetched(), 12u) << "of " << dev->Size() / kTestBlockSize;
}

}  // namespace
}  // namespace cairn::service
