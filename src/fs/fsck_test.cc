// RunFsck against real ext4 images made by mkfs.ext4: a fresh one is clean;
// one whose root inode was cleared by debugfs, or whose inode table was
// overwritten with garbage, is not; a file that holds no filesystem is an
// operational error; a missing e2fsck is a clear error, not a verdict.
#include "fs/fsck.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace cairn::fs {
namespace {

class FsckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "cairn-fsck-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    image_ = dir_ + "/fs.img";
    const std::string tree = dir_ + "/tree";
    std::filesystem::create_directories(tree + "/etc");
    for (int i = 0; i < 50; ++i) {
      std::ofstream(tree + "/etc/file" + std::to_string(i)) << "line " << i << "\n";
    }
    ASSERT_EQ(Sh("PATH=$PATH:/usr/sbin:/sbin mkfs.ext4 -q -F -d " + tree + " " + image_ + " 8M"),
              0);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static int Sh(const std::string& cmd) {
    const int rc = std::system(("(" + cmd + ") >/dev/null 2>&1").c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }

  std::string dir_;
  std::string image_;
};

TEST_F(FsckTest, FreshImageIsClean) {
  auto v = RunFsck(image_);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->clean) << v->output;
  EXPECT_EQ(v->exit_code, 0);
  EXPECT_EQ(v->meaning, "no errors");
  EXPECT_NE(v->summary.find("files"), std::string::npos) << v->summary;
  EXPECT_NE(v->output.find("Pass 5"), std::string::npos) << v->output;
}

TEST_F(FsckTest, ClearedRootInodeIsNotClean) {
  ASSERT_EQ(Sh("PATH=$PATH:/usr/sbin:/sbin debugfs -w -R 'clri <2>' " + image_), 0);
  auto v = RunFsck(image_);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_FALSE(v->clean) << v->output;
  EXPECT_EQ(v->exit_code & 4, 4) << v->exit_code << "\n" << v->output;
  EXPECT_NE(v->meaning.find("errors left uncorrected"), std::string::npos) << v->meaning;
  EXPECT_NE(v->output.find("oot inode"), std::string::npos) << v->output;
}

TEST_F(FsckTest, GarbageOverTheInodeTableIsNotClean) {
  // The first inode table and the block size, as dumpe2fs reports them.
  const std::string where = dir_ + "/itable";
  ASSERT_EQ(Sh("PATH=$PATH:/usr/sbin:/sbin dumpe2fs " + image_ + " 2>/dev/null | sed -n " +
               "-e 's/^Block size: *\\([0-9]*\\)$/\\1/p' " +
               "-e 's/.*Inode table at \\([0-9]*\\)-.*/\\1/p' | head -n2 > " + where),
            0);
  std::ifstream in(where);
  uint64_t block_size = 0, block = 0;
  ASSERT_TRUE(in >> block_size >> block) << "dumpe2fs gave no block size / inode table";
  ASSERT_GT(block, 0u);
  ASSERT_EQ(Sh("head -c 16384 /dev/zero | tr '\\0' '\\377' | dd of=" + image_ + " bs=4096 seek=" +
               std::to_string(block * block_size) + " oflag=seek_bytes conv=notrunc"),
            0);
  auto v = RunFsck(image_);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_FALSE(v->clean) << v->output;
  EXPECT_NE(v->exit_code, 0);
}

TEST_F(FsckTest, NoFilesystemIsAnOperationalError) {
  const std::string blank = dir_ + "/blank.img";
  { std::ofstream create(blank); }
  std::filesystem::resize_file(blank, 4 << 20);
  auto v = RunFsck(blank);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_FALSE(v->clean);
  EXPECT_EQ(v->exit_code & 8, 8) << v->exit_code << "\n" << v->output;
  EXPECT_NE(v->meaning.find("operational error"), std::string::npos) << v->meaning;
}

TEST_F(FsckTest, MissingE2fsckIsAnError) {
  FsckOptions options;
  options.e2fsck = dir_ + "/no-such-e2fsck";
  auto v = RunFsck(image_, options);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(v.status().message().find("e2fsprogs"), std::string::npos) << v.status().ToString();
}

TEST(FsckMeaningTest, NamesEachBit) {
  EXPECT_EQ(FsckMeaning(0), "no errors");
  EXPECT_EQ(FsckMeaning(4), "errors left uncorrected");
  EXPECT_EQ(FsckMeaning(12),
            "errors left uncorrected, operational error (nothing or not all was checked)");
}

}  // namespace
}  // namespace cairn::fs
