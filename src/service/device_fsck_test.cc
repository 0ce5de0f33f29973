// FsckDevice end to end on one host: an ext4 image (mkfs.ext4 -d) behind a
// FileDevice is served over a private NBD socket, shown as a file by
// nbdfuse and checked by the real e2fsck: clean; after garbage over its
// root inode (debugfs clri) not clean, and the check wrote nothing. The
// read-only view refuses writes. Skips where FUSE or nbdfuse is missing.
#include "service/device_fsck.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "volume/file_device.h"

namespace cairn::service {
namespace {

int Sh(const std::string& cmd) {
  const int rc =
      std::system(("(export PATH=$PATH:/usr/sbin:/sbin; " + cmd + ") >/dev/null 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

class DeviceFsckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access("/dev/fuse", R_OK | W_OK) != 0 || Sh("command -v nbdfuse") != 0 ||
        Sh("command -v fusermount3") != 0) {
      GTEST_SKIP() << "needs /dev/fuse (root), nbdfuse and fusermount3";
    }
    std::string tmpl = ::testing::TempDir() + "cairn-dfsck-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    image_ = dir_ + "/fs.img";
    std::filesystem::create_directories(dir_ + "/tree/etc");
    std::ofstream(dir_ + "/tree/etc/hosts") << "127.0.0.1 localhost\n";
    ASSERT_EQ(Sh("mkfs.ext4 -q -F -d " + dir_ + "/tree " + image_ + " 16M"), 0);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  std::string image_;
};

TEST_F(DeviceFsckTest, CleanImageIsClean) {
  auto device = volume::FileDevice::Open(image_, /*read_only=*/true);
  ASSERT_TRUE(device.ok()) << device.status().ToString();
  auto v = FsckDevice(std::shared_ptr<volume::BlockDevice>(std::move(*device)), dir_);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->clean) << v->output;
  EXPECT_EQ(v->exit_code, 0);
  // Everything is torn down: no work directory is left.
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    EXPECT_EQ(e.path().filename().string().find("cairn-fsck"), std::string::npos) << e.path();
  }
}

TEST_F(DeviceFsckTest, DamagedImageIsNotCleanAndUnchanged) {
  ASSERT_EQ(Sh("debugfs -w -R 'clri <2>' " + image_), 0);
  ASSERT_EQ(Sh("sha256sum " + image_ + " > " + dir_ + "/before"), 0);
  auto device = volume::FileDevice::Open(image_, /*read_only=*/false);
  ASSERT_TRUE(device.ok()) << device.status().ToString();
  auto v = FsckDevice(std::shared_ptr<volume::BlockDevice>(std::move(*device)), dir_);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_FALSE(v->clean) << v->output;
  EXPECT_EQ(v->exit_code & 4, 4) << v->output;
  EXPECT_EQ(Sh("sha256sum -c " + dir_ + "/before"), 0) << "the check changed the image";
}

TEST(ReadOnlyViewTest, RefusesWrites) {
  std::string tmpl = ::testing::TempDir() + "cairn-rov-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const std::string path = tmpl + "/f";
  { std::ofstream(path) << std::string(8192, 'x'); }
  auto device = volume::FileDevice::Open(path, /*read_only=*/false);
  ASSERT_TRUE(device.ok()) << device.status().ToString();
  auto view = ReadOnlyView(std::shared_ptr<volume::BlockDevice>(std::move(*device)));
  EXPECT_FALSE(view->caps().writable);
  Buffer b(16);
  EXPECT_TRUE(view->Read(0, MutableByteSpan(b.data(), b.size())).ok());
  EXPECT_EQ(static_cast<char>(b[0]), 'x');
  EXPECT_EQ(view->Write(0, ByteSpan(b.data(), b.size()), false).code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(view->Trim(0, 4096).code(), StatusCode::kPermissionDenied);
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace cairn::service
