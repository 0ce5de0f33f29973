#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "repo/engine_test_util.h"
#include "repo/source.h"

namespace cairn::repo {
namespace {

using testing::TempDir;

TEST(FileSourceTest, ReadsRegularFileWithAbsoluteName) {
  TempDir dir;
  Buffer data = testing::RandomData(100000, 1);
  testing::WriteFile(dir / "img", data);
  std::string cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  auto src = OpenFileSource("img");
  std::filesystem::current_path(cwd);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  EXPECT_EQ((*src)->size(), data.size());
  EXPECT_EQ((*src)->name(), std::string(std::filesystem::canonical(dir / "img")));
  Buffer out(1000);
  ASSERT_TRUE((*src)->ReadAt(5000, out).ok());
  EXPECT_TRUE(std::equal(out.begin(), out.end(), data.begin() + 5000));
}

TEST(FileSourceTest, DataExtentsSkipHoles) {
  TempDir dir;
  const std::string path = dir / "sparse";
  const uint64_t size = 64ull << 20;
  testing::PwriteFile(path, 0, testing::RandomData(4096, 2));
  testing::PwriteFile(path, 32ull << 20, testing::RandomData(4096, 3));
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(size)), 0);
  auto src = OpenFileSource(path);
  ASSERT_TRUE(src.ok());
  auto extents = (*src)->DataExtents();
  ASSERT_TRUE(extents.ok()) << extents.status().ToString();
  ASSERT_FALSE(extents->empty());
  uint64_t covered = 0, prev_end = 0;
  for (const Extent& e : *extents) {
    EXPECT_GE(e.offset, prev_end);  // sorted, disjoint
    EXPECT_LE(e.offset + e.length, size);
    prev_end = e.offset + e.length;
    covered += e.length;
  }
  EXPECT_EQ((*extents)[0].offset, 0u);
  // Both data pieces are covered; most of the file is not (unless the file
  // system cannot tell, which tmpfs and ext4 can).
  auto covers = [&](uint64_t off) {
    for (const Extent& e : *extents) {
      if (off >= e.offset && off < e.offset + e.length) return true;
    }
    return false;
  };
  EXPECT_TRUE(covers(100));
  EXPECT_TRUE(covers((32ull << 20) + 100));
  EXPECT_FALSE(covers(16ull << 20));
  EXPECT_LT(covered, size / 4);
}

TEST(FileSourceTest, EmptyFileHasNoExtents) {
  TempDir dir;
  testing::WriteFile(dir / "empty", {});
  auto src = OpenFileSource(dir / "empty");
  ASSERT_TRUE(src.ok());
  EXPECT_EQ((*src)->size(), 0u);
  auto extents = (*src)->DataExtents();
  ASSERT_TRUE(extents.ok());
  EXPECT_TRUE(extents->empty());
}

TEST(FileSourceTest, ErrorsNameThePath) {
  TempDir dir;
  auto missing = OpenFileSource(dir / "nope");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(dir / "nope"), std::string::npos);

  auto directory = OpenFileSource(dir.path());
  EXPECT_EQ(directory.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(directory.status().message().find(dir.path()), std::string::npos);
}

TEST(FileSourceTest, ShrunkFileIsIoErrorNamingOffset) {
  TempDir dir;
  const std::string path = dir / "img";
  testing::WriteFile(path, testing::RandomData(8192, 4));
  auto src = OpenFileSource(path);
  ASSERT_TRUE(src.ok());
  ASSERT_EQ(::truncate(path.c_str(), 4096), 0);
  Buffer out(8192);
  Status s = (*src)->ReadAt(0, out);
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.message().find(path), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("offset 4096"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace cairn::repo
