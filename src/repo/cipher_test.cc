#include "repo/cipher.h"

#include <gtest/gtest.h>

namespace cairn::repo {
namespace {

Buffer Bytes(std::string_view s) { return ToBuffer(s); }

TEST(CipherTest, UnencryptedIdsArePlainSha256) {
  RepoCipher c = RepoCipher::Unencrypted();
  Buffer p = Bytes("hello block");
  EXPECT_FALSE(c.encrypted());
  EXPECT_EQ(c.ComputeChunkId(p).bytes, Sha256(p));
}

TEST(CipherTest, EncryptedIdsAreKeyedHmac) {
  MasterKey k1 = MasterKey::Generate();
  MasterKey k2 = MasterKey::Generate();
  Buffer p = Bytes("hello block");
  RepoCipher c1 = RepoCipher::Encrypted(k1);
  EXPECT_EQ(c1.ComputeChunkId(p).bytes, HmacSha256(k1.id_key, p));
  EXPECT_NE(c1.ComputeChunkId(p), RepoCipher::Encrypted(k2).ComputeChunkId(p));
  EXPECT_NE(c1.ComputeChunkId(p).bytes, Sha256(p));
}

TEST(CipherTest, MasterKeysAreRandom) {
  MasterKey a = MasterKey::Generate(), b = MasterKey::Generate();
  EXPECT_NE(a.encryption_key, b.encryption_key);
  EXPECT_NE(a.encryption_key, a.id_key);
}

class SealTest : public ::testing::TestWithParam<bool> {
 protected:
  RepoCipher cipher_ =
      GetParam() ? RepoCipher::Encrypted(MasterKey::Generate()) : RepoCipher::Unencrypted();
};

TEST_P(SealTest, RoundTrip) {
  Buffer p = Bytes("some plaintext worth sealing");
  Buffer sealed = cipher_.Seal(p);
  EXPECT_EQ(sealed.size(), p.size() + cipher_.overhead());
  Result<Buffer> opened = cipher_.Open(sealed);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, p);
  Buffer empty_sealed = cipher_.Seal({});
  ASSERT_TRUE(cipher_.Open(empty_sealed).ok());
  EXPECT_TRUE(cipher_.Open(empty_sealed)->empty());
}

TEST_P(SealTest, EveryFlippedByteIsDetected) {
  Buffer p = Bytes("some plaintext worth sealing");
  Buffer sealed = cipher_.Seal(p);
  for (size_t i = 0; i < sealed.size(); ++i) {
    Buffer bad = sealed;
    bad[i] ^= std::byte{0x01};
    Result<Buffer> r = cipher_.Open(bad);
    ASSERT_FALSE(r.ok()) << "flip at " << i;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  }
}

TEST_P(SealTest, TruncationIsDetected) {
  Buffer sealed = cipher_.Seal(Bytes("0123456789"));
  for (size_t n : {size_t{0}, size_t{5}, sealed.size() - 1}) {
    Result<Buffer> r = cipher_.Open(ByteSpan(sealed).first(n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  }
}

TEST(CipherTest, OtherKeyCannotOpen) {
  RepoCipher a = RepoCipher::Encrypted(MasterKey::Generate());
  RepoCipher b = RepoCipher::Encrypted(MasterKey::Generate());
  EXPECT_EQ(b.Open(a.Seal(Bytes("secret"))).status().code(), StatusCode::kCorruption);
}

INSTANTIATE_TEST_SUITE_P(Modes, SealTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Encrypted" : "Plain"; });

}  // namespace
}  // namespace cairn::repo
