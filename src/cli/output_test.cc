#include "cli/output.h"

#include <gtest/gtest.h>

namespace cairn::cli {
namespace {

TEST(OutputTest, TableAlignsColumns) {
  const std::string t = FormatTable({"id", "size", "description"},
                                    {{"snap-1", "4.0 GiB", "first"},
                                     {"snap-22", "512 KiB", ""}});
  EXPECT_EQ(t,
            "id       size     description\n"
            "-----------------------------\n"
            "snap-1   4.0 GiB  first\n"
            "snap-22  512 KiB\n");
}

TEST(OutputTest, TableCountsUtf8CodePointsAndPadsShortRows) {
  const std::string t = FormatTable({"a", "b"}, {{"\xC3\xA9t\xC3\xA9", "x"}, {"z"}});
  EXPECT_EQ(t,
            "a    b\n"
            "------\n"
            "\xC3\xA9t\xC3\xA9  x\n"
            "z\n");
  EXPECT_EQ(DisplayWidth("\xC3\xA9t\xC3\xA9"), 3u);
}

TEST(OutputTest, EmptyTableHasHeaderOnly) {
  EXPECT_EQ(FormatTable({"id"}, {}), "id\n--\n");
}

TEST(OutputTest, Seconds) {
  EXPECT_EQ(FormatSeconds(3.24), "3.2 s");
  EXPECT_EQ(FormatSeconds(0.041), "0.04 s");
  EXPECT_EQ(FormatSeconds(125), "2 min 5 s");
  EXPECT_EQ(FormatRate(100, 0), "-");
}

TEST(OutputTest, SnapshotJsonHasNullParentWhenNone) {
  repo::SnapshotHeader h;
  h.source = "/dev/sdb";
  h.tags["k"] = "v";
  auto j = SnapshotHeaderJson(h);
  EXPECT_TRUE(j["parent"].is_null());
  EXPECT_EQ(j["tags"]["k"], "v");
  EXPECT_EQ(j["source"], "/dev/sdb");
}

}  // namespace
}  // namespace cairn::cli
