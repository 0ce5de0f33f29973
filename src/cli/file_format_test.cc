#include "cli/file_format.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace cairn::cli {
namespace {

TEST(FileFormatTest, ModeString) {
  EXPECT_EQ(ModeString(S_IFDIR | 0755), "drwxr-xr-x");
  EXPECT_EQ(ModeString(S_IFREG | 0640), "-rw-r-----");
  EXPECT_EQ(ModeString(S_IFLNK | 0777), "lrwxrwxrwx");
  EXPECT_EQ(ModeString(S_IFREG | 04755), "-rwsr-xr-x");
  EXPECT_EQ(ModeString(S_IFREG | 02644), "-rw-r-Sr--");
  EXPECT_EQ(ModeString(S_IFDIR | 01777), "drwxrwxrwt");
  EXPECT_EQ(ModeString(S_IFDIR | 01770), "drwxrwx--T");
  EXPECT_EQ(ModeString(S_IFCHR | 0666), "crw-rw-rw-");
  EXPECT_EQ(ModeString(S_IFIFO | 0600), "prw-------");
}

TEST(FileFormatTest, TypeNames) {
  EXPECT_EQ(FileTypeName(S_IFREG | 0644), "file");
  EXPECT_EQ(FileTypeName(S_IFDIR), "dir");
  EXPECT_EQ(FileTypeName(S_IFLNK), "symlink");
  EXPECT_EQ(FileTypeName(S_IFBLK), "block");
  EXPECT_EQ(FileTypeName(S_IFSOCK), "socket");
  EXPECT_EQ(FileTypeName(0), "unknown");
}

TEST(FileFormatTest, TimesAreUtc) {
  EXPECT_EQ(FormatTimeNs(0), "1970-01-01 00:00:00");
  EXPECT_EQ(FormatTimeNs(1700000000LL * 1'000'000'000 + 999'999'999), "2023-11-14 22:13:20");
  EXPECT_EQ(FormatTimeNs(-1), "1969-12-31 23:59:59");
}

TEST(FileFormatTest, EscapeNameKeepsUtf8AndEscapesTheRest) {
  EXPECT_EQ(EscapeName("plain name.txt"), "plain name.txt");
  EXPECT_EQ(EscapeName("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(EscapeName("a\nb"), "a\\x0ab");
  EXPECT_EQ(EscapeName("back\\slash"), "back\\\\slash");
  EXPECT_EQ(EscapeName("bad\xff"), "bad\\xff");
  EXPECT_EQ(EscapeName("cut\xc3"), "cut\\xc3");
  EXPECT_EQ(EscapeName("\x1b[31m"), "\\x1b[31m");
}

}  // namespace
}  // namespace cairn::cli
