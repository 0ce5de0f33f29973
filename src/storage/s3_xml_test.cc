#include "storage/s3_xml.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace cairn::storage {
namespace {

// A reply as RGW sends it (trimmed), with an escaped key.
constexpr std::string_view kPage = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name>
<Prefix>repo/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>
<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
<Contents><Key>repo/config</Key><LastModified>2026-11-23T10:00:01.250Z</LastModified>
<ETag>&quot;abc&quot;</ETag><Size>412</Size><StorageClass>STANDARD</StorageClass>
<Owner><ID>cairn</ID></Owner></Contents>
<Contents><Key>repo/a&amp;b &lt;c&gt; &#233;</Key><LastModified>2026-11-23T10:00:02Z</LastModified><Size>0</Size></Contents>
</ListBucketResult>)";

TEST(S3XmlTest, ParsesListPage) {
  auto page = ParseListObjectsV2(kPage);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "repo/config");
  EXPECT_EQ(page->objects[0].size, 412u);
  EXPECT_EQ(page->objects[1].key, "repo/a&b <c> \xC3\xA9");
  EXPECT_EQ(page->objects[1].size, 0u);
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  auto t = std::chrono::system_clock::to_time_t(page->objects[0].modified);
  EXPECT_EQ(t, 1795428001);  // 2026-11-23T10:00:01Z
}

TEST(S3XmlTest, LastPageAndEmptyListing) {
  auto page = ParseListObjectsV2(
      "<ListBucketResult><KeyCount>0</KeyCount><IsTruncated>false</"
      "IsTruncated></ListBucketResult>");
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->objects.empty());
  EXPECT_FALSE(page->truncated);
}

TEST(S3XmlTest, RejectsMalformedReplies) {
  EXPECT_EQ(ParseListObjectsV2("<Error><Code>x</Code></Error>").status().code(),
            StatusCode::kCorruption);
  EXPECT_EQ(ParseListObjectsV2("<ListBucketResult><Contents><Size>1</Size></Contents>"
                               "</ListBucketResult>")
                .status()
                .code(),
            StatusCode::kCorruption);
  EXPECT_EQ(ParseListObjectsV2("<ListBucketResult><Contents><Key>k</Key><Size>x1</Size>"
                               "</Contents></ListBucketResult>")
                .status()
                .code(),
            StatusCode::kCorruption);
  EXPECT_EQ(ParseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated>"
                               "</ListBucketResult>")
                .status()
                .code(),
            StatusCode::kCorruption);
}

TEST(S3XmlTest, ElementsMatchWholeTagNames) {
  auto keys = XmlElements("<KeyCount>3</KeyCount><Key>a</Key><Key attr=\"1\">b</Key><Key/>", "Key");
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0], "a");
  EXPECT_EQ(keys[1], "b");
  EXPECT_EQ(keys[2], "");
  EXPECT_FALSE(XmlFirst("<a>1</a>", "b").has_value());
}

TEST(S3XmlTest, Unescape) {
  EXPECT_EQ(*XmlUnescape("a&amp;b&quot;&apos;&#x41;&#66;"), "a&b\"'AB");
  EXPECT_FALSE(XmlUnescape("a&bogus;").ok());
  EXPECT_FALSE(XmlUnescape("a&amp").ok());
}

TEST(S3XmlTest, ParsesErrors) {
  S3Error e = ParseS3Error(
      "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The "
      "bucket &apos;x&apos; "
      "does not exist</Message><BucketName>x</BucketName></Error>");
  EXPECT_EQ(e.code, "NoSuchBucket");
  EXPECT_EQ(e.message, "The bucket 'x' does not exist");
  EXPECT_EQ(ParseS3Error("").code, "");
}

TEST(S3XmlTest, Iso8601) {
  auto t = ParseIso8601("1970-01-02T00:00:01.5Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count(),
            86401500);
  EXPECT_FALSE(ParseIso8601("yesterday").has_value());
}

}  // namespace
}  // namespace cairn::storage
