#include "core/encoding.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

TEST(HexTest, EncodeLowerCase) {
  EXPECT_EQ(HexEncode({}), "");
  Buffer b = {std::byte{0x00}, std::byte{0x9f}, std::byte{0xab}, std::byte{0xff}};
  EXPECT_EQ(HexEncode(b), "009fabff");
}

TEST(HexTest, DecodeEitherCase) {
  Result<Buffer> r = HexDecode("009FabFf");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(HexEncode(*r), "009fabff");
  EXPECT_TRUE(HexDecode("")->empty());
}

TEST(HexTest, RoundTripAllBytes) {
  Buffer all(256);
  for (int i = 0; i < 256; ++i) all[i] = std::byte(i);
  EXPECT_EQ(*HexDecode(HexEncode(all)), all);
}

TEST(HexTest, RejectsBadInput) {
  EXPECT_EQ(HexDecode("abc").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HexDecode("0g").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HexDecode("g0").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HexDecode(" 0").status().code(), StatusCode::kInvalidArgument);
}

TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<const char*, const char*> cases[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (auto [plain, encoded] : cases) {
    EXPECT_EQ(Base64Encode(AsBytes(plain)), encoded);
    Result<Buffer> d = Base64Decode(encoded);
    ASSERT_TRUE(d.ok()) << encoded;
    EXPECT_EQ(AsStringView(*d), plain);
  }
}

TEST(Base64Test, RoundTripAllBytes) {
  Buffer all(256);
  for (int i = 0; i < 256; ++i) all[i] = std::byte(255 - i);
  for (size_t n = 0; n <= all.size(); n += 37) {
    ByteSpan s = ByteSpan(all).first(n);
    Result<Buffer> d = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(*d, Buffer(s.begin(), s.end()));
  }
  EXPECT_EQ(Base64Encode(ByteSpan(all).first(3)), "//79");
}

TEST(Base64Test, RejectsMalformed) {
  for (const char* bad :
       {"Zg", "Zg=", "Z===", "====", "Zm9v!A==", "Zg==Zg==", "Zm=v", "Zm9v\n", " Zm9v"}) {
    EXPECT_EQ(Base64Decode(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace cairn
