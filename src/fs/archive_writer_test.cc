// ArchiveWriter: archives written in each format are read back with
// libarchive's reader (here only) and compared member by member.
#include "fs/archive_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "volume/test_util.h"

namespace cairn::fs {
namespace {

using volume::testing::Pattern;
using volume::testing::TempDir;

struct ReadEntry {
  std::string path;
  uint32_t mode = 0;
  int64_t uid = 0, gid = 0;
  int64_t mtime_s = 0, mtime_ns = 0;
  int64_t atime_s = 0, ctime_s = 0;
  bool has_uname = false;
  std::string symlink, hardlink;
  uint32_t rdev_major = 0, rdev_minor = 0;
  std::map<std::string, std::string> xattrs;
  std::string data;
};

// Every member of the archive at `path`, in order (any filter is detected).
std::vector<ReadEntry> ReadArchive(const std::string& path) {
  std::vector<ReadEntry> out;
  struct archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_all(a);
  EXPECT_EQ(archive_read_open_filename(a, path.c_str(), 65536), ARCHIVE_OK)
      << archive_error_string(a);
  struct archive_entry* e = nullptr;
  int r;
  while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
    ReadEntry x;
    x.path = archive_entry_pathname(e);
    x.mode = archive_entry_mode(e);
    x.uid = archive_entry_uid(e);
    x.gid = archive_entry_gid(e);
    x.mtime_s = archive_entry_mtime(e);
    x.mtime_ns = archive_entry_mtime_nsec(e);
    x.atime_s = archive_entry_atime(e);
    x.ctime_s = archive_entry_ctime(e);
    const char* un = archive_entry_uname(e);
    x.has_uname = un != nullptr && un[0] != '\0';
    if (archive_entry_symlink(e) != nullptr) x.symlink = archive_entry_symlink(e);
    if (archive_entry_hardlink(e) != nullptr) x.hardlink = archive_entry_hardlink(e);
    x.rdev_major = archive_entry_rdevmajor(e);
    x.rdev_minor = archive_entry_rdevminor(e);
    archive_entry_xattr_reset(e);
    const char* name;
    const void* value;
    size_t size;
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
      x.xattrs[name] = std::string(static_cast<const char*>(value), size);
    }
    char buf[65536];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0) x.data.append(buf, n);
    EXPECT_GE(n, 0) << archive_error_string(a);
    out.push_back(std::move(x));
  }
  EXPECT_EQ(r, ARCHIVE_EOF) << archive_error_string(a);
  archive_read_free(a);
  return out;
}

// An ArchiveEntry with common metadata.
ArchiveEntry Entry(std::string path, uint32_t mode) {
  ArchiveEntry e;
  e.path = std::move(path);
  e.mode = mode;
  e.uid = 1234;
  e.gid = 5678;
  e.mtime_ns = 1'600'000'000'123'456'789;
  e.atime_ns = 1'600'000'100'000'000'001;
  e.ctime_ns = 1'600'000'200'000'000'002;
  return e;
}

class ArchiveWriterFormatTest : public ::testing::TestWithParam<ArchiveFormat> {};

TEST_P(ArchiveWriterFormatTest, WritesEveryKindOfMemberAndReadsBack) {
  TempDir dir;
  const std::string path = dir.Sub("out.archive");
  const Buffer big = Pattern(3 * 1024 * 1024 + 17, 7);
  const std::string long_name = "d/" + std::string(150, 'n') + "/" + std::string(120, 'f');
  const std::string binary_name = std::string("d/bin\xff\xfe-name", 12);
  {
    auto w = ArchiveWriter::Create(path, GetParam());
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    ArchiveWriter& aw = **w;
    CAIRN_ASSERT_OK(aw.Add(Entry("d", S_IFDIR | 01777)));
    ArchiveEntry f = Entry("d/big", S_IFREG | 04755);
    f.size = big.size();
    f.xattrs.push_back({"user.k", ToBuffer("v")});
    f.xattrs.push_back({"user.bin", Buffer{std::byte{0}, std::byte{0xff}, std::byte{1}}});
    CAIRN_ASSERT_OK(aw.BeginFile(f));
    for (size_t off = 0; off < big.size(); off += 100'000) {
      CAIRN_ASSERT_OK(
          aw.Write(ByteSpan(big).subspan(off, std::min<size_t>(100'000, big.size() - off))));
    }
    CAIRN_ASSERT_OK(aw.EndFile());
    ArchiveEntry h = Entry("d/hard", S_IFREG | 04755);
    h.hardlink_target = "d/big";
    h.size = big.size();  // written as 0
    CAIRN_ASSERT_OK(aw.Add(h));
    ArchiveEntry l = Entry("d/link", S_IFLNK | 0777);
    l.symlink_target = "../../etc/passwd";
    CAIRN_ASSERT_OK(aw.Add(l));
    ArchiveEntry root_link = Entry("d/root", S_IFLNK | 0777);
    root_link.symlink_target = "/";
    CAIRN_ASSERT_OK(aw.Add(root_link));
    CAIRN_ASSERT_OK(aw.Add(Entry("d/empty", S_IFREG | 0640)));
    ArchiveEntry c = Entry("d/null", S_IFCHR | 0666);
    c.rdev_major = 1;
    c.rdev_minor = 3;
    CAIRN_ASSERT_OK(aw.Add(c));
    CAIRN_ASSERT_OK(aw.Add(Entry("d/fifo", S_IFIFO | 0600)));
    ArchiveEntry ln = Entry(long_name, S_IFREG | 0600);
    ln.size = 5;
    CAIRN_ASSERT_OK(aw.BeginFile(ln));
    CAIRN_ASSERT_OK(aw.Write(AsBytes("hello")));
    CAIRN_ASSERT_OK(aw.EndFile());
    CAIRN_ASSERT_OK(aw.Add(Entry(binary_name, S_IFREG | 0644)));
    EXPECT_EQ(aw.entries(), 10u);
    EXPECT_EQ(aw.bytes(), big.size() + 5);
    CAIRN_ASSERT_OK(aw.Close());
    EXPECT_EQ(aw.archive_bytes(), std::filesystem::file_size(path));
  }
  // Only the archive is left in the directory (the temporary file was renamed).
  size_t files = 0;
  for (const auto& de : std::filesystem::directory_iterator(dir.path())) {
    ++files;
    EXPECT_EQ(de.path().string(), path);
  }
  EXPECT_EQ(files, 1u);

  std::vector<ReadEntry> got = ReadArchive(path);
  ASSERT_EQ(got.size(), 10u);
  std::vector<std::string> names;
  for (const auto& g : got) {
    names.push_back(g.path);
    EXPECT_EQ(g.uid, 1234) << g.path;
    EXPECT_EQ(g.gid, 5678) << g.path;
    EXPECT_FALSE(g.has_uname) << g.path << ": owners must be numeric only";
    EXPECT_EQ(g.mtime_s, 1'600'000'000) << g.path;
    EXPECT_EQ(g.mtime_ns, 123'456'789) << g.path;
    EXPECT_EQ(g.atime_s, 1'600'000'100) << g.path;
    EXPECT_EQ(g.ctime_s, 1'600'000'200) << g.path;
  }
  // Directories get a trailing slash, as GNU tar writes them.
  EXPECT_EQ(names, (std::vector<std::string>{"d/", "d/big", "d/hard", "d/link", "d/root", "d/empty",
                                             "d/null", "d/fifo", long_name, binary_name}));
  EXPECT_EQ(got[0].mode, uint32_t{S_IFDIR | 01777});
  EXPECT_EQ(got[1].mode, uint32_t{S_IFREG | 04755});
  EXPECT_EQ(got[1].data, std::string(AsStringView(big)));
  EXPECT_EQ(got[1].xattrs["user.k"], "v");
  EXPECT_EQ(got[1].xattrs["user.bin"], std::string("\0\xff\x01", 3));
  EXPECT_EQ(got[2].hardlink, "d/big");
  EXPECT_EQ(got[2].data, "");
  EXPECT_EQ(got[3].mode & S_IFMT, uint32_t{S_IFLNK});
  EXPECT_EQ(got[3].symlink, "../../etc/passwd");
  EXPECT_EQ(got[4].symlink, "/");
  EXPECT_EQ(got[5].mode, uint32_t{S_IFREG | 0640});
  EXPECT_EQ(got[5].data, "");
  EXPECT_EQ(got[6].mode, uint32_t{S_IFCHR | 0666});
  EXPECT_EQ(got[6].rdev_major, 1u);
  EXPECT_EQ(got[6].rdev_minor, 3u);
  EXPECT_EQ(got[7].mode, uint32_t{S_IFIFO | 0600});
  EXPECT_EQ(got[8].data, "hello");
}

INSTANTIATE_TEST_SUITE_P(Formats, ArchiveWriterFormatTest,
                         ::testing::Values(ArchiveFormat::kTar, ArchiveFormat::kTarGz,
                                           ArchiveFormat::kTarZst));

TEST(ArchiveWriterTest, CompressedFormatsAreCompressed) {
  TempDir dir;
  const Buffer zeros(1 << 20);
  for (ArchiveFormat f : {ArchiveFormat::kTarGz, ArchiveFormat::kTarZst}) {
    const std::string path = dir.Sub(std::string(ArchiveFormatName(f)));
    auto w = ArchiveWriter::Create(path, f);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    ArchiveEntry e = Entry("zeros", S_IFREG | 0644);
    e.size = zeros.size();
    CAIRN_ASSERT_OK((*w)->BeginFile(e));
    CAIRN_ASSERT_OK((*w)->Write(zeros));
    CAIRN_ASSERT_OK((*w)->EndFile());
    CAIRN_ASSERT_OK((*w)->Close());
    EXPECT_LT(std::filesystem::file_size(path), 64u * 1024) << ArchiveFormatName(f);
  }
}

TEST(ArchiveWriterTest, UnclosedWriterLeavesNoFile) {
  TempDir dir;
  const std::string path = dir.Sub("x.tar.gz");
  {
    auto w = ArchiveWriter::Create(path, ArchiveFormat::kTarGz);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    CAIRN_ASSERT_OK((*w)->Add(Entry("a", S_IFDIR | 0755)));
    ArchiveEntry f = Entry("a/f", S_IFREG | 0644);
    f.size = 10;
    CAIRN_ASSERT_OK((*w)->BeginFile(f));
    CAIRN_ASSERT_OK((*w)->Write(AsBytes("12345")));
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(ArchiveWriterTest, CloseReplacesAnExistingFile) {
  TempDir dir;
  const std::string path = dir.Sub("x.tar");
  {
    FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("old", f);
    std::fclose(f);
  }
  auto w = ArchiveWriter::Create(path, ArchiveFormat::kTar);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  CAIRN_ASSERT_OK((*w)->Add(Entry("a", S_IFDIR | 0755)));
  CAIRN_ASSERT_OK((*w)->Close());
  std::vector<ReadEntry> got = ReadArchive(path);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].path, "a/");
}

TEST(ArchiveWriterTest, SparseFilesStoreOnlyTheirData) {
  TempDir dir;
  const std::string path = dir.Sub("sparse.tar");
  auto w = ArchiveWriter::Create(path, ArchiveFormat::kTar);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  // 64 MiB: data at 1 MiB and 40 MiB, ending in a hole.
  ArchiveEntry e = Entry("big.img", S_IFREG | 0644);
  e.size = 64 << 20;
  e.sparse = true;
  e.data_ranges = {{1 << 20, 5}, {40 << 20, 3000}};
  ASSERT_TRUE((*w)->BeginFile(e).ok());
  // Any write sizes: across the end of the first range into the second.
  ASSERT_TRUE((*w)->Write(AsBytes(std::string_view("hello"))).ok());
  const std::string second(3000, 'z');
  ASSERT_TRUE((*w)->Write(AsBytes(std::string_view(second).substr(0, 1000))).ok());
  ASSERT_TRUE((*w)->Write(AsBytes(std::string_view(second).substr(1000))).ok());
  ASSERT_TRUE((*w)->EndFile().ok());
  // All holes, and a range that covers the whole file (stored plainly).
  ArchiveEntry empty = Entry("holes.img", S_IFREG | 0600);
  empty.size = 3 << 20;
  empty.sparse = true;
  ASSERT_TRUE((*w)->BeginFile(empty).ok());
  ASSERT_TRUE((*w)->EndFile().ok());
  ArchiveEntry full = Entry("full.bin", S_IFREG | 0600);
  full.size = 4;
  full.sparse = true;
  full.data_ranges = {{0, 4}};
  ASSERT_TRUE((*w)->BeginFile(full).ok());
  ASSERT_TRUE((*w)->Write(AsBytes(std::string_view("full"))).ok());
  ASSERT_TRUE((*w)->EndFile().ok());
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_LT(std::filesystem::file_size(path), 64u * 1024);

  auto entries = ReadArchive(path);
  ASSERT_EQ(entries.size(), 3u);
  std::string want(64 << 20, '\0');
  want.replace(1 << 20, 5, "hello");
  want.replace(40 << 20, 3000, second);
  EXPECT_EQ(entries[0].path, "big.img");
  EXPECT_TRUE(entries[0].data == want)
      << "big.img differs (" << entries[0].data.size() << " bytes)";
  EXPECT_EQ(entries[1].path, "holes.img");
  EXPECT_TRUE(entries[1].data == std::string(3 << 20, '\0')) << entries[1].data.size();
  EXPECT_EQ(entries[2].path, "full.bin");
  EXPECT_EQ(entries[2].data, "full");
}

TEST(ArchiveWriterTest, SparseRangesMustBeInOrderAndInside) {
  TempDir dir;
  auto w = ArchiveWriter::Create(dir.Sub("x.tar"), ArchiveFormat::kTar);
  ASSERT_TRUE(w.ok());
  ArchiveEntry e = Entry("f", S_IFREG | 0644);
  e.size = 100;
  e.sparse = true;
  e.data_ranges = {{50, 10}, {10, 5}};
  EXPECT_EQ((*w)->BeginFile(e).code(), StatusCode::kInvalidArgument);
  e.data_ranges = {{95, 10}};
  EXPECT_EQ((*w)->BeginFile(e).code(), StatusCode::kInvalidArgument);
  e.data_ranges = {{10, 5}};
  ASSERT_TRUE((*w)->BeginFile(e).ok());
  EXPECT_FALSE((*w)->Write(AsBytes(std::string_view("123456"))).ok());  // more than the data
}

TEST(ArchiveWriterTest, RejectsMisuse) {
  TempDir dir;
  auto w = ArchiveWriter::Create(dir.Sub("x.tar"), ArchiveFormat::kTar);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ArchiveWriter& aw = **w;
  ArchiveEntry f = Entry("f", S_IFREG | 0644);
  f.size = 3;
  Status s = aw.Add(f);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("BeginFile"), std::string::npos) << s.message();
  EXPECT_EQ(aw.Add(Entry("sock", S_IFSOCK | 0755)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(aw.BeginFile(Entry("dir", S_IFDIR | 0755)).code(), StatusCode::kInvalidArgument);

  CAIRN_ASSERT_OK(aw.BeginFile(f));
  s = aw.Write(AsBytes("1234"));
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  CAIRN_ASSERT_OK(aw.Write(AsBytes("12")));
  s = aw.EndFile();
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.message().find("2 bytes written of its size 3"), std::string::npos) << s.message();
}

TEST(ArchiveWriterTest, CreateInMissingDirectoryFails) {
  TempDir dir;
  auto w = ArchiveWriter::Create(dir.Sub("nope/x.tar"), ArchiveFormat::kTar);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kNotFound);
  EXPECT_NE(w.status().message().find("nope/x.tar"), std::string::npos) << w.status().message();
}

TEST(SafeArchivePathTest, JoinsPlainNames) {
  std::vector<std::string> c{"etc", "ssh", "sshd_config"};
  auto p = SafeArchivePath(c);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(*p, "etc/ssh/sshd_config");
  std::vector<std::string> odd{"...", ".hidden", "a b", "\xff", "..x"};
  p = SafeArchivePath(odd);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(*p, ".../.hidden/a b/\xff/..x");
}

TEST(SafeArchivePathTest, RejectsNamesThatCouldEscape) {
  struct Case {
    std::vector<std::string> components;
    std::string bad;  // expected in the message
  };
  const std::vector<Case> cases = {
      {{}, "at least one component"},
      {{"a", ""}, "\"\" is empty"},
      {{"."}, "\".\" is a relative"},
      {{"a", ".."}, "\"..\" is a relative"},
      {{"..", "etc"}, "\"..\""},
      {{"a", "b/../../c"}, "\"b/../../c\" contains '/'"},
      {{"/etc"}, "\"/etc\" contains '/'"},
      {{"a", std::string("x\0y", 3)}, "\"x\\x00y\" contains a NUL byte"},
  };
  for (const Case& c : cases) {
    auto p = SafeArchivePath(c.components);
    ASSERT_FALSE(p.ok()) << c.bad;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(p.status().message().find(c.bad), std::string::npos) << p.status().message();
  }
}

TEST(ArchiveFormatTest, ParsesNamesAndSuffixes) {
  EXPECT_EQ(*ParseArchiveFormat("tar"), ArchiveFormat::kTar);
  EXPECT_EQ(*ParseArchiveFormat("tar.gz"), ArchiveFormat::kTarGz);
  EXPECT_EQ(*ParseArchiveFormat("tar.zst"), ArchiveFormat::kTarZst);
  auto bad = ParseArchiveFormat("zip");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("--format zip"), std::string::npos);
  const auto fb = ArchiveFormat::kTarGz;
  EXPECT_EQ(FormatFromFileName("x.tar", fb), ArchiveFormat::kTar);
  EXPECT_EQ(FormatFromFileName("/a/x.tar.gz", fb), ArchiveFormat::kTarGz);
  EXPECT_EQ(FormatFromFileName("x.tgz", ArchiveFormat::kTar), ArchiveFormat::kTarGz);
  EXPECT_EQ(FormatFromFileName("x.tar.zst", fb), ArchiveFormat::kTarZst);
  EXPECT_EQ(FormatFromFileName("x.zip", ArchiveFormat::kTarZst), ArchiveFormat::kTarZst);
  EXPECT_EQ(FormatFromFileName("-", fb), fb);
}

TEST(EscapeNameTest, EscapesUnprintableBytes) {
  EXPECT_EQ(EscapeName("plain name.txt"), "plain name.txt");
  EXPECT_EQ(EscapeName(std::string("a\nb\x01\xff\"\\", 7)), "a\\x0ab\\x01\\xff\\x22\\x5c");
}

}  // namespace
}  // namespace cairn::fs
