#include "cli/tags.h"

#include <gtest/gtest.h>

namespace cairn::cli {
namespace {

TEST(TagsTest, ParsesKeyValue) {
  auto tag = ParseTag("host=db1");
  ASSERT_TRUE(tag.ok());
  EXPECT_EQ(tag->first, "host");
  EXPECT_EQ(tag->second, "db1");
}

TEST(TagsTest, ValueMayBeEmptyOrHoldEquals) {
  auto empty = ParseTag("k=");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->second, "");
  auto eq = ParseTag("expr=a=b");
  ASSERT_TRUE(eq.ok());
  EXPECT_EQ(eq->first, "expr");
  EXPECT_EQ(eq->second, "a=b");
}

TEST(TagsTest, RejectsMalformed) {
  for (const char* bad : {"", "novalue", "=v", "a\tb=c"}) {
    auto tag = ParseTag(bad);
    ASSERT_FALSE(tag.ok()) << bad;
    EXPECT_EQ(tag.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(TagsTest, ParseTagsRejectsDuplicateKeys) {
  auto tags = ParseTags({"a=1", "b=2"});
  ASSERT_TRUE(tags.ok());
  EXPECT_EQ(tags->size(), 2u);
  EXPECT_FALSE(ParseTags({"a=1", "a=2"}).ok());
}

TEST(TagsTest, MatchAndFormat) {
  std::map<std::string, std::string> tags{{"a", "1"}, {"b", "2"}};
  EXPECT_TRUE(TagsMatch(tags, {}));
  EXPECT_TRUE(TagsMatch(tags, {{"b", "2"}}));
  EXPECT_FALSE(TagsMatch(tags, {{"b", "3"}}));
  EXPECT_FALSE(TagsMatch(tags, {{"c", "1"}}));
  EXPECT_EQ(FormatTags(tags), "a=1,b=2");
}

}  // namespace
}  // namespace cairn::cli
