#include "core/bytes.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace cairn {
namespace {

TEST(BytesTest, LittleEndianRoundTrip) {
  Buffer b;
  PutU32LE(b, 0x11223344u);
  PutU64LE(b, 0x0102030405060708ull);
  ASSERT_EQ(b.size(), 12u);
  EXPECT_EQ(b[0], std::byte{0x44});
  EXPECT_EQ(b[3], std::byte{0x11});
  EXPECT_EQ(b[4], std::byte{0x08});
  EXPECT_EQ(GetU32LE(b), 0x11223344u);
  EXPECT_EQ(GetU64LE(ByteSpan(b).subspan(4)), 0x0102030405060708ull);
}

TEST(BytesTest, StringConversions) {
  Buffer b = ToBuffer("abc");
  EXPECT_EQ(AsStringView(b), "abc");
  Append(b, AsBytes("de"));
  EXPECT_EQ(AsStringView(b), "abcde");
}

TEST(IsAllZeroTest, EmptyIsZero) { EXPECT_TRUE(IsAllZero({})); }

// Every size from 0 to 300 at several alignments, with one non-zero byte at
// every position: the fast path must find each of them.
TEST(IsAllZeroTest, FindsEveryNonZeroByte) {
  Buffer buf(320 + 8);
  for (size_t align = 0; align < 8; align += 3) {
    for (size_t n = 1; n <= 300; ++n) {
      MutableByteSpan s(buf.data() + align, n);
      std::fill(buf.begin(), buf.end(), std::byte{0});
      ASSERT_TRUE(IsAllZero(s)) << n;
      for (size_t i = 0; i < n; ++i) {
        s[i] = std::byte{0x01};
        ASSERT_FALSE(IsAllZero(s)) << "n=" << n << " i=" << i << " align=" << align;
        s[i] = std::byte{0};
      }
    }
  }
}

TEST(IsAllZeroTest, IgnoresBytesOutsideSpan) {
  Buffer buf(100, std::byte{0});
  buf[0] = std::byte{0xff};
  buf[99] = std::byte{0xff};
  EXPECT_TRUE(IsAllZero(ByteSpan(buf).subspan(1, 98)));
}

TEST(IsAllZeroTest, LargeBlock) {
  Buffer block(512 * 1024, std::byte{0});
  EXPECT_TRUE(IsAllZero(block));
  block[block.size() - 1] = std::byte{0x80};
  EXPECT_FALSE(IsAllZero(block));
  block[block.size() - 1] = std::byte{0};
  block[17] = std::byte{0x80};
  EXPECT_FALSE(IsAllZero(block));
  block[17] = std::byte{0};
  block[5] = std::byte{0x80};
  EXPECT_FALSE(IsAllZero(block));
}

}  // namespace
}  // namespace cairn
