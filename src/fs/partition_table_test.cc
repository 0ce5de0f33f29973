// ReadPartitions against tables written by the real sfdisk on temporary
// image files (GPT, MBR with logical partitions), a damaged primary GPT
// header, and PartitionDevice's window.
#include "fs/partition_table.h"

#include <gtest/gtest.h>

#include <fstream>

#include "fs/fs_probe.h"
#include "fs/test_util.h"

namespace cairn::fs {
namespace {

using testing::OpenImage;
using testing::Sh;
using testing::TempDir;

constexpr uint64_t kMiB = 1 << 20;
const char* kLinuxGuid = "0fc63daf-8483-4772-8e79-3d69d8477de4";
const char* kEspGuid = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b";

std::string MakeGpt(const TempDir& dir) {
  const std::string image = dir.Sub("gpt.img");
  Sh("truncate -s 64M " + image);
  Sh("printf 'label: gpt\\n"
     "start=2048, size=16384, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=\"EFI boot\"\\n"
     "start=18432, size=65536, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root\\n'"
     " | sfdisk -q " +
     image);
  return image;
}

void ExpectGpt(const std::vector<Partition>& parts) {
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].number, 1);
  EXPECT_EQ(parts[0].scheme, "gpt");
  EXPECT_EQ(parts[0].offset, 2048u * 512);
  EXPECT_EQ(parts[0].size, 16384u * 512);
  EXPECT_EQ(parts[0].type, kEspGuid);
  EXPECT_EQ(parts[0].name, "EFI boot");
  EXPECT_EQ(parts[1].number, 2);
  EXPECT_EQ(parts[1].offset, 18432u * 512);
  EXPECT_EQ(parts[1].size, 32 * kMiB);
  EXPECT_EQ(parts[1].type, kLinuxGuid);
  EXPECT_EQ(parts[1].name, "root");
}

TEST(PartitionTableTest, ReadsGpt) {
  TempDir dir;
  auto dev = OpenImage(MakeGpt(dir));
  auto parts = ReadPartitions(*dev);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ExpectGpt(*parts);
}

TEST(PartitionTableTest, DamagedPrimaryGptHeaderFallsBackToBackup) {
  TempDir dir;
  const std::string image = MakeGpt(dir);
  {  // Flip a byte inside the primary header (LBA 1, disk GUID at +56).
    std::fstream f(image, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(512 + 60);
    f.put('\x5a');
  }
  auto dev = OpenImage(image);
  auto parts = ReadPartitions(*dev);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ExpectGpt(*parts);
}

TEST(PartitionTableTest, BothGptHeadersDamagedIsCorruption) {
  TempDir dir;
  const std::string image = MakeGpt(dir);
  {
    std::fstream f(image, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(512 + 60);
    f.put('\x5a');
    f.seekp(64 * kMiB - 512 + 60);
    f.put('\x5a');
  }
  auto parts = ReadPartitions(*OpenImage(image));
  ASSERT_FALSE(parts.ok());
  EXPECT_EQ(parts.status().code(), StatusCode::kCorruption);
  EXPECT_NE(parts.status().message().find("CRC32 mismatch"), std::string::npos)
      << parts.status().message();
}

TEST(PartitionTableTest, DamagedPartitionArrayIsCaught) {
  TempDir dir;
  const std::string image = MakeGpt(dir);
  {  // The primary array starts at LBA 2: change the first entry's name.
    std::fstream f(image, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(2 * 512 + 56);
    f.put('X');
  }
  auto parts = ReadPartitions(*OpenImage(image));  // the backup array is intact
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ExpectGpt(*parts);
}

TEST(PartitionTableTest, ReadsMbrWithLogicalPartitions) {
  TempDir dir;
  const std::string image = dir.Sub("mbr.img");
  Sh("truncate -s 64M " + image);
  Sh("printf 'label: dos\\n"
     "start=2048, size=20480, type=83\\n"
     "start=22528, size=100000, type=5\\n"
     "start=24576, size=10240, type=82\\n"
     "start=36864, size=20480, type=83\\n'"
     " | sfdisk -q " +
     image);
  auto parts = ReadPartitions(*OpenImage(image));
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 4u);
  EXPECT_EQ((*parts)[0].number, 1);
  EXPECT_EQ((*parts)[0].scheme, "mbr");
  EXPECT_EQ((*parts)[0].type, "0x83");
  EXPECT_EQ((*parts)[0].offset, 2048u * 512);
  EXPECT_EQ((*parts)[0].size, 20480u * 512);
  EXPECT_EQ((*parts)[1].number, 2);
  EXPECT_EQ((*parts)[1].type, "0x05");
  EXPECT_EQ((*parts)[2].number, 5);
  EXPECT_EQ((*parts)[2].type, "0x82");
  EXPECT_EQ((*parts)[2].offset, 24576u * 512);
  EXPECT_EQ((*parts)[2].size, 10240u * 512);
  EXPECT_EQ((*parts)[3].number, 6);
  EXPECT_EQ((*parts)[3].offset, 36864u * 512);
  EXPECT_EQ((*parts)[3].size, 20480u * 512);
}

TEST(PartitionTableTest, BareFilesystemHasNoTable) {
  TempDir dir;
  const std::string ext4 = dir.Sub("ext4.img");
  Sh("mkfs.ext4 -q -F " + ext4 + " 16M");
  auto parts = ReadPartitions(*OpenImage(ext4));
  ASSERT_TRUE(parts.ok());
  EXPECT_TRUE(parts->empty());
  const std::string zeros = dir.Sub("zero.img");
  Sh("truncate -s 1M " + zeros);
  parts = ReadPartitions(*OpenImage(zeros));
  ASSERT_TRUE(parts.ok());
  EXPECT_TRUE(parts->empty());
}

TEST(PartitionTableTest, PartitionDeviceIsAReadOnlyWindow) {
  TempDir dir;
  const std::string image = MakeGpt(dir);
  const std::string part = dir.Sub("part.img");
  Sh("mkfs.ext4 -q -F " + part + " 32M");
  Sh("dd if=" + part + " of=" + image + " bs=512 seek=18432 conv=notrunc status=none");
  auto dev = OpenImage(image);
  auto parts = ReadPartitions(*dev);
  ASSERT_TRUE(parts.ok());
  ASSERT_EQ(parts->size(), 2u);
  auto window = PartitionDevice(dev, (*parts)[1]);
  EXPECT_EQ(window->Size(), 32 * kMiB);
  EXPECT_FALSE(window->caps().writable);
  EXPECT_NE(window->Describe().find("partition 2"), std::string::npos);
  auto type = ProbeFilesystem(*window);
  ASSERT_TRUE(type.ok());
  EXPECT_EQ(*type, "ext4");
  Buffer byte(1);
  EXPECT_EQ(window->Read(32 * kMiB, byte).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(window->Write(0, byte, false).code(), StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace cairn::fs
