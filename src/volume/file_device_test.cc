#include "volume/file_device.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

namespace cairn::volume {
namespace {

constexpr uint64_t kMiB = 1 << 20;

class FileDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "cairn-file-device-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/disk.img";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<FileDevice> Create(uint64_t size) {
    auto dev = FileDevice::Open(path_, {.create = true, .create_size = size});
    EXPECT_TRUE(dev.ok()) << dev.status().ToString();
    return dev.ok() ? std::move(dev).value() : nullptr;
  }

  static Buffer Pattern(size_t n, uint8_t seed) {
    Buffer b(n);
    for (size_t i = 0; i < n; ++i) b[i] = std::byte(uint8_t(seed + i * 7));
    return b;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(FileDeviceTest, CreatesSparseFileOfRequestedSize) {
  auto dev = Create(64 * kMiB);
  ASSERT_NE(dev, nullptr);
  EXPECT_EQ(dev->Size(), 64 * kMiB);
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(uint64_t(st.st_size), 64 * kMiB);
  EXPECT_LT(uint64_t(st.st_blocks) * 512, kMiB) << "new device file should be sparse";
  auto ext = dev->Extents(0, dev->Size());
  ASSERT_TRUE(ext.ok()) << ext.status().ToString();
  ASSERT_EQ(ext->size(), 1u);
  EXPECT_TRUE((*ext)[0].hole);
  EXPECT_TRUE((*ext)[0].zero);
  EXPECT_EQ((*ext)[0].length, 64 * kMiB);
}

TEST_F(FileDeviceTest, WriteThenReadBackUnalignedAndFua) {
  auto dev = Create(8 * kMiB);
  ASSERT_NE(dev, nullptr);
  Buffer a = Pattern(10000, 1), b = Pattern(4096, 9);
  ASSERT_TRUE(dev->Write(12345, a, false).ok());
  ASSERT_TRUE(dev->Write(3 * kMiB, b, true).ok());
  ASSERT_TRUE(dev->Flush().ok());
  Buffer got(10000);
  ASSERT_TRUE(dev->Read(12345, got).ok());
  EXPECT_EQ(got, a);
  // Reopen: what was written is in the file.
  dev.reset();
  auto again = FileDevice::Open(path_, true);
  ASSERT_TRUE(again.ok());
  Buffer got_b(4096);
  ASSERT_TRUE((*again)->Read(3 * kMiB, got_b).ok());
  EXPECT_EQ(got_b, b);
}

TEST_F(FileDeviceTest, OutOfRangeIsInvalidArgumentAndChangesNothing) {
  auto dev = Create(1 * kMiB);
  ASSERT_NE(dev, nullptr);
  Buffer data = Pattern(4096, 3);
  Status s = dev->Write(kMiB - 100, data, false);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("offset"), std::string::npos) << s.message();
  Buffer out(200);
  EXPECT_EQ(dev->Read(kMiB - 100, out).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(dev->Trim(kMiB, 1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(dev->WriteZeroes(UINT64_MAX - 10, 20, true, false, false).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(dev->Extents(kMiB + 1, 1).status().code(), StatusCode::kInvalidArgument);
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(uint64_t(st.st_size), kMiB) << "an out-of-range write must not extend the file";
  Buffer tail(100);
  ASSERT_TRUE(dev->Read(kMiB - 100, tail).ok());
  EXPECT_EQ(tail, Buffer(100));
}

TEST_F(FileDeviceTest, ReadOnlyRefusesEveryMutation) {
  ASSERT_NE(Create(kMiB), nullptr);
  auto dev = FileDevice::Open(path_, true);
  ASSERT_TRUE(dev.ok());
  EXPECT_FALSE((*dev)->caps().writable);
  Buffer data(512);
  EXPECT_EQ((*dev)->Write(0, data, false).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ((*dev)->Trim(0, 512).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ((*dev)->WriteZeroes(0, 512, false, false, false).code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE((*dev)->Flush().ok());
  EXPECT_TRUE((*dev)->Read(0, data).ok());
}

TEST_F(FileDeviceTest, TrimAndZeroesShowInExtents) {
  auto dev = Create(16 * kMiB);
  ASSERT_NE(dev, nullptr);
  Buffer data = Pattern(8 * kMiB, 5);
  ASSERT_TRUE(dev->Write(4 * kMiB, data, false).ok());
  // [0,4) hole, [4,12) data, [12,16) hole
  auto ext = dev->Extents(0, 16 * kMiB);
  ASSERT_TRUE(ext.ok());
  ASSERT_EQ(ext->size(), 3u);
  EXPECT_TRUE((*ext)[0].hole);
  EXPECT_FALSE((*ext)[1].hole);
  EXPECT_EQ((*ext)[1].offset, 4 * kMiB);
  EXPECT_EQ((*ext)[1].length, 8 * kMiB);
  EXPECT_TRUE((*ext)[2].hole);

  ASSERT_TRUE(dev->Trim(6 * kMiB, kMiB).ok());
  ASSERT_TRUE(dev->WriteZeroes(8 * kMiB, kMiB, /*may_trim=*/true, false, false).ok());
  ASSERT_TRUE(dev->WriteZeroes(10 * kMiB, kMiB, /*may_trim=*/false, true, false).ok());
  ext = dev->Extents(4 * kMiB, 8 * kMiB);
  ASSERT_TRUE(ext.ok());
  // data [4,6), hole [6,7), data [7,8), hole [8,9), data [9,12) (zero range stays allocated)
  std::vector<std::pair<uint64_t, bool>> want = {
      {4 * kMiB, false}, {6 * kMiB, true}, {7 * kMiB, false}, {8 * kMiB, true}, {9 * kMiB, false}};
  ASSERT_EQ(ext->size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ((*ext)[i].offset, want[i].first) << i;
    EXPECT_EQ((*ext)[i].hole, want[i].second) << i;
  }
  Buffer got(kMiB);
  for (uint64_t off : {6 * kMiB, 8 * kMiB, 10 * kMiB}) {
    ASSERT_TRUE(dev->Read(off, got).ok());
    EXPECT_TRUE(IsAllZero(got)) << "offset " << off;
  }
  ASSERT_TRUE(dev->Read(9 * kMiB, got).ok());
  EXPECT_TRUE(std::equal(got.begin(), got.end(), data.begin() + 5 * kMiB));
}

TEST_F(FileDeviceTest, ExtentsOfASubrangeAreClippedToIt) {
  auto dev = Create(4 * kMiB);
  ASSERT_NE(dev, nullptr);
  ASSERT_TRUE(dev->Write(kMiB, Pattern(kMiB, 2), false).ok());
  auto ext = dev->Extents(kMiB + 4096, 8192);
  ASSERT_TRUE(ext.ok());
  ASSERT_EQ(ext->size(), 1u);
  EXPECT_EQ((*ext)[0].offset, kMiB + 4096);
  EXPECT_EQ((*ext)[0].length, 8192u);
  EXPECT_FALSE((*ext)[0].hole);
  auto none = dev->Extents(0, 0);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(FileDeviceTest, GrowExtendsWithZerosAndRefusesShrink) {
  auto dev = Create(kMiB);
  ASSERT_NE(dev, nullptr);
  ASSERT_TRUE(dev->Grow(3 * kMiB).ok());
  EXPECT_EQ(dev->Size(), 3 * kMiB);
  Buffer got(kMiB);
  ASSERT_TRUE(dev->Read(2 * kMiB, got).ok());
  EXPECT_TRUE(IsAllZero(got));
  EXPECT_EQ(dev->Grow(kMiB).code(), StatusCode::kInvalidArgument);
}

TEST_F(FileDeviceTest, ConcurrentWritersAtDisjointOffsets) {
  auto dev = Create(8 * kMiB);
  ASSERT_NE(dev, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 32; ++i) {
        uint64_t off = (uint64_t(t) * 32 + i) * 32768;
        ASSERT_TRUE(dev->Write(off, Pattern(32768, uint8_t(t * 32 + i)), i % 5 == 0).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(dev->Flush().ok());
  Buffer got(32768);
  for (int t = 0; t < 8; ++t) {
    for (int i = 0; i < 32; ++i) {
      ASSERT_TRUE(dev->Read((uint64_t(t) * 32 + i) * 32768, got).ok());
      ASSERT_EQ(got, Pattern(32768, uint8_t(t * 32 + i)));
    }
  }
}

TEST_F(FileDeviceTest, OpenErrorsNameThePath) {
  auto missing = FileDevice::Open(dir_ + "/nope.img");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("nope.img"), std::string::npos);
  auto directory = FileDevice::Open(dir_);
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.status().code(), StatusCode::kOk);
}

}  // namespace
}  // namespace cairn::volume
