// ExportTree over images made by the real mke2fs (`mkfs.ext4 -d`), one of
// them crafted with unsafe and repeated names by editing a directory block;
// the archive is read back with libarchive's reader (here only).
#include "fs/tree_export.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fs/test_util.h"

namespace cairn::fs {
namespace {

using testing::OpenImage;
using testing::Sh;
using testing::TempDir;
using testing::WriteFile;

struct Member {
  std::string path, hardlink, symlink, data;
  uint32_t mode = 0;
};

std::vector<Member> ReadTar(const std::string& path) {
  std::vector<Member> out;
  struct archive* a = archive_read_new();
  archive_read_support_format_all(a);
  archive_read_support_filter_all(a);
  EXPECT_EQ(archive_read_open_filename(a, path.c_str(), 65536), ARCHIVE_OK);
  struct archive_entry* e = nullptr;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    Member m;
    m.path = archive_entry_pathname(e);
    m.mode = archive_entry_mode(e);
    if (archive_entry_hardlink(e) != nullptr) m.hardlink = archive_entry_hardlink(e);
    if (archive_entry_symlink(e) != nullptr) m.symlink = archive_entry_symlink(e);
    char buf[65536];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0) m.data.append(buf, n);
    out.push_back(std::move(m));
  }
  archive_read_free(a);
  return out;
}

std::vector<std::string> Names(const std::vector<Member>& members) {
  std::vector<std::string> names;
  for (const auto& m : members) names.push_back(m.path);
  return names;
}

// Renames `old_name` to `new_name` (same length) in the first block of
// directory `dir` of `image`, by editing the bytes (image without checksums).
void PatchName(const std::string& image, const std::string& dir, const std::string& old_name,
               const std::string& new_name) {
  ASSERT_EQ(old_name.size(), new_name.size());
  std::string out_file = image + ".blocks";
  ASSERT_TRUE(Sh("debugfs -R 'blocks " + dir + "' " + image +
                 " 2>/dev/null | tr -s ' ' '\\n' | grep -E '^[0-9]+$' | head -n 1 > " + out_file));
  uint64_t block = 0;
  std::ifstream(out_file) >> block;
  ASSERT_GT(block, 0u);
  std::fstream f(image, std::ios::in | std::ios::out | std::ios::binary);
  std::string data(4096, '\0');
  f.seekg(static_cast<std::streamoff>(block * 4096));
  f.read(data.data(), 4096);
  size_t at = data.find(old_name);
  ASSERT_NE(at, std::string::npos) << old_name << " not in block " << block;
  f.seekp(static_cast<std::streamoff>(block * 4096 + at));
  f.write(new_name.data(), static_cast<std::streamsize>(new_name.size()));
}

class TreeExportTest : public ::testing::Test {
 protected:
  // Builds an image of `root` and exports `paths` from it to a tar; returns
  // the members.
  std::vector<Member> Export(const std::string& root, std::vector<std::string> paths,
                             const std::function<void(const std::string&)>& craft = {}) {
    const std::string image = dir_.Sub("fs.img");
    Sh("mkfs.ext4 -q -F -b 4096 -O ^metadata_csum,^dir_index -d " + root + " " + image +
       " 16M >/dev/null");
    if (craft) craft(image);
    auto fs = ExtFilesystem::Open(OpenImage(image));
    EXPECT_TRUE(fs.ok()) << fs.status().ToString();
    if (!fs.ok()) return {};
    const std::string tar = dir_.Sub("out.tar");
    auto w = ArchiveWriter::Create(tar, ArchiveFormat::kTar);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    TreeExportOptions o;
    o.paths = std::move(paths);
    o.warn = [this](std::string_view m) { warnings_.emplace_back(m); };
    auto stats = ExportTree(**fs, **w, o);
    EXPECT_TRUE(stats.ok()) << stats.status().ToString();
    if (!stats.ok()) return {};
    stats_ = *stats;
    EXPECT_TRUE((*w)->Close().ok());
    return ReadTar(tar);
  }

  TempDir dir_;
  std::vector<std::string> warnings_;
  TreeExportStats stats_;
};

TEST_F(TreeExportTest, WalksInNameOrderWithHardLinksAndSymlinks) {
  const std::string root = dir_.Sub("tree");
  std::filesystem::create_directories(root + "/b/sub");
  std::filesystem::create_directories(root + "/a");
  WriteFile(root + "/b/file", "content");
  WriteFile(root + "/a/z", "zz");
  ASSERT_EQ(::link((root + "/b/file").c_str(), (root + "/a/link").c_str()), 0);
  ASSERT_EQ(::symlink("/", (root + "/b/sub/root").c_str()), 0);
  auto m = Export(root, {});
  EXPECT_EQ(Names(m), (std::vector<std::string>{"a/", "a/link", "a/z", "b/", "b/file", "b/sub/",
                                                "b/sub/root", "lost+found/"}));
  ASSERT_EQ(m.size(), 8u);
  EXPECT_EQ(m[1].data, "content");  // the first name holds the data
  EXPECT_EQ(m[4].hardlink, "a/link");
  EXPECT_EQ(m[6].symlink, "/");
  EXPECT_EQ(stats_.files, 2u);
  EXPECT_EQ(stats_.hardlinks, 1u);
  EXPECT_EQ(stats_.dirs, 4u);
  EXPECT_EQ(stats_.symlinks, 1u);
  EXPECT_EQ(stats_.bytes, 9u);
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(TreeExportTest, PathsAreMergedAndFirstExportedNameHoldsTheData) {
  const std::string root = dir_.Sub("tree");
  std::filesystem::create_directories(root + "/b/sub");
  std::filesystem::create_directories(root + "/a");
  WriteFile(root + "/b/sub/file", "content");
  ASSERT_EQ(::link((root + "/b/sub/file").c_str(), (root + "/a/link").c_str()), 0);
  auto m = Export(root, {"/b/sub/", "b", "/b/sub/file"});
  EXPECT_EQ(Names(m), (std::vector<std::string>{"b/", "b/sub/", "b/sub/file"}));
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[2].data, "content");
  EXPECT_EQ(m[2].hardlink, "");
}

TEST_F(TreeExportTest, SkipsUnsafeAndRepeatedNamesWithWarnings) {
  const std::string root = dir_.Sub("tree");
  std::filesystem::create_directories(root + "/top/evi1");
  WriteFile(root + "/top/evi1/inside", "x");
  ASSERT_EQ(::symlink("/", (root + "/top/evil").c_str()), 0);
  WriteFile(root + "/top/aQb", "slash");
  WriteFile(root + "/top/fine", "ok");
  auto m = Export(root, {}, [](const std::string& image) {
    PatchName(image, "/top", "evi1", "evil");
    PatchName(image, "/top", "aQb", "a/b");
  });
  for (const auto& n : Names(m)) {
    EXPECT_EQ(n.find(".."), std::string::npos) << n;
    EXPECT_NE(n, "top/a/b");
  }
  int evil = 0;
  for (const auto& n : Names(m)) evil += (n == "top/evil" || n == "top/evil/") ? 1 : 0;
  EXPECT_EQ(evil, 1);
  EXPECT_EQ(stats_.skipped, 2u);
  ASSERT_EQ(warnings_.size(), 2u);
  std::string all = warnings_[0] + "\n" + warnings_[1];
  EXPECT_NE(all.find("skipped \"evil\""), std::string::npos) << all;
  EXPECT_NE(all.find("in directory /top (inode"), std::string::npos) << all;
  EXPECT_NE(all.find("\"a/b\" contains '/'"), std::string::npos) << all;
}

TEST_F(TreeExportTest, WarnsAboutCraftedDotEntriesAndCountsThem) {
  const std::string root = dir_.Sub("tree");
  std::filesystem::create_directories(root + "/top/EE");
  WriteFile(root + "/top/EE/inside", "x");
  WriteFile(root + "/top/W", "dot");
  WriteFile(root + "/top/fine", "ok");
  auto m = Export(root, {}, [](const std::string& image) {
    PatchName(image, "/top", "EE", "..");  // a directory named ".."
    PatchName(image, "/top", "W", ".");    // a file named "."
  });
  for (const auto& n : Names(m)) {
    EXPECT_EQ(n.find("inside"), std::string::npos) << n;
    EXPECT_NE(n, "top/.");
  }
  EXPECT_EQ(Names(m), (std::vector<std::string>{"lost+found/", "top/", "top/fine"}));
  EXPECT_EQ(stats_.skipped, 2u);
  ASSERT_EQ(warnings_.size(), 2u);
  const std::string all = warnings_[0] + "\n" + warnings_[1];
  EXPECT_NE(all.find("name \".\" is a relative directory reference"), std::string::npos) << all;
  EXPECT_NE(all.find("name \"..\" is a relative directory reference"), std::string::npos) << all;
  EXPECT_NE(all.find("in directory /top (inode"), std::string::npos) << all;
}

TEST_F(TreeExportTest, StoresSparseFilesWithoutTheirHoles) {
  const std::string root = dir_.Sub("tree");
  std::filesystem::create_directories(root);
  const std::string sparse = root + "/sparse";
  WriteFile(sparse, "");
  ASSERT_EQ(::truncate(sparse.c_str(), 12 << 20), 0);  // ends in a hole
  std::string a(5000, 'a'), b(70000, 'b');
  {
    std::fstream f(sparse, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(1 << 20);
    f.write(a.data(), static_cast<std::streamsize>(a.size()));
    f.seekp(7 << 20);
    f.write(b.data(), static_cast<std::streamsize>(b.size()));
  }
  auto m = Export(root, {});
  std::string want(12 << 20, '\0');
  want.replace(1 << 20, a.size(), a);
  want.replace(7 << 20, b.size(), b);
  bool found = false;
  for (const auto& x : m) {
    if (x.path != "sparse") continue;
    found = true;
    EXPECT_TRUE(x.data == want) << "the sparse file's content differs";
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(stats_.sparse_files, 1u);
  EXPECT_EQ(stats_.bytes, uint64_t{12} << 20);
  EXPECT_EQ(stats_.data_bytes, 4096u * 2 + 4096u * 18);  // whole 4 KiB blocks
  EXPECT_LT(std::filesystem::file_size(dir_.Sub("out.tar")), 200'000u);
}

TEST(SplitExportPathTest, Normalises) {
  EXPECT_EQ(*SplitExportPath("/"), std::vector<std::string>{});
  EXPECT_EQ(*SplitExportPath(""), std::vector<std::string>{});
  EXPECT_EQ(*SplitExportPath("//a/./b/"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(*SplitExportPath("var/lib"), (std::vector<std::string>{"var", "lib"}));
  auto bad = SplitExportPath("/a/../b");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--path /a/../b"), std::string::npos);
}

}  // namespace
}  // namespace cairn::fs
