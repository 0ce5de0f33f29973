#include "core/crypto.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "core/encoding.h"

namespace cairn {
namespace {

std::string Hex(ByteSpan b) { return HexEncode(b); }
Buffer Unhex(std::string_view h) { return HexDecode(h).value(); }

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(Hex(Sha256({})), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Hex(Sha256(AsBytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hex(Sha256(AsBytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Test, HasherMatchesOneShot) {
  Buffer data(100000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = std::byte(i * 31 + 7);
  for (size_t split : {size_t{0}, size_t{1}, size_t{63}, size_t{64}, size_t{65537}}) {
    Sha256Hasher h;
    h.Update(ByteSpan(data).first(split));
    h.Update(ByteSpan(data).subspan(split));
    EXPECT_EQ(h.Finish(), Sha256(data)) << split;
  }
}

TEST(Md5Test, Rfc1321Vectors) {
  EXPECT_EQ(HexEncode(Md5({})), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(HexEncode(Md5(AsBytes("abc"))), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(HexEncode(Md5(AsBytes("message digest"))), "f96b697d7cb7938d525a2f31aaf161d0");
}

TEST(HmacSha256Test, Rfc4231) {
  // Test case 1.
  Buffer key1(20, std::byte{0x0b});
  EXPECT_EQ(Hex(HmacSha256(key1, AsBytes("Hi There"))),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Test case 2.
  EXPECT_EQ(Hex(HmacSha256(AsBytes("Jefe"), AsBytes("what do ya want for nothing?"))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: key longer than the block size.
  Buffer key6(131, std::byte{0xaa});
  EXPECT_EQ(
      Hex(HmacSha256(key6, AsBytes("Test Using Larger Than Block-Size Key - Hash Key First"))),
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(RandomBytesTest, FillsAndDiffers) {
  Buffer a(32), b(32);
  RandomBytes(a);
  RandomBytes(b);
  EXPECT_NE(a, b);
  EXPECT_FALSE(IsAllZero(a));
  RandomBytes({});  // empty is fine
}

TEST(ScryptTest, Rfc7914Vectors) {
  Result<Buffer> k1 = Scrypt("", {}, {.n = 16, .r = 1, .p = 1}, 64);
  ASSERT_TRUE(k1.ok()) << k1.status().ToString();
  EXPECT_EQ(Hex(*k1),
            "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
            "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906");
  Result<Buffer> k2 = Scrypt("password", AsBytes("NaCl"), {.n = 1024, .r = 8, .p = 16}, 64);
  ASSERT_TRUE(k2.ok()) << k2.status().ToString();
  EXPECT_EQ(Hex(*k2),
            "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
            "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640");
}

TEST(ScryptTest, DefaultParamsWork) {
  Result<Buffer> k = Scrypt("pass", AsBytes("salt"), ScryptParams{}, 32);
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ(k->size(), 32u);
}

TEST(ScryptTest, RejectsBadParams) {
  EXPECT_EQ(Scrypt("p", {}, {.n = 1000, .r = 8, .p = 1}, 32).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Scrypt("p", {}, {.n = 0, .r = 8, .p = 1}, 32).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Scrypt("p", {}, {.n = 16, .r = 0, .p = 1}, 32).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Scrypt("p", {}, {.n = uint64_t{1} << 62, .r = 8, .p = 1}, 32).status().code(),
            StatusCode::kInvalidArgument);
  // OpenSSL's own limit: N < 2^(16r) — r=1 allows N up to 2^15 only.
  EXPECT_EQ(Scrypt("p", {}, {.n = 1u << 16, .r = 1, .p = 1}, 32).status().code(),
            StatusCode::kInvalidArgument);
}

class AeadTest : public ::testing::Test {
 protected:
  AeadTest() : key_(Aead::kKeySize), aead_((RandomBytes(key_), key_)) {}
  Buffer key_;
  Aead aead_;
};

TEST_F(AeadTest, RoundTrip) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{15}, size_t{16}, size_t{17}, size_t{524288}}) {
    Buffer pt(n);
    RandomBytes(pt);
    Buffer sealed = aead_.Seal(pt, AsBytes("chunk"));
    ASSERT_EQ(sealed.size(), n + Aead::kOverhead);
    Result<Buffer> opened = aead_.Open(sealed, AsBytes("chunk"));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(*opened, pt);
  }
}

TEST_F(AeadTest, SealToAppends) {
  Buffer out = ToBuffer("hdr");
  aead_.SealTo(AsBytes("hello"), out);
  ASSERT_EQ(out.size(), 3 + 5 + Aead::kOverhead);
  EXPECT_EQ(AsStringView(ByteSpan(out).first(3)), "hdr");
  EXPECT_EQ(AsStringView(*aead_.Open(ByteSpan(out).subspan(3))), "hello");
}

TEST_F(AeadTest, NonceIsRandom) {
  Buffer a = aead_.Seal(AsBytes("same"));
  Buffer b = aead_.Seal(AsBytes("same"));
  EXPECT_NE(a, b);
  EXPECT_NE(Hex(ByteSpan(a).first(12)), Hex(ByteSpan(b).first(12)));
}

TEST_F(AeadTest, EveryFlippedBitFails) {
  Buffer sealed = aead_.Seal(AsBytes("some secret data"));
  // Flip one bit in the nonce, the ciphertext and the tag in turn.
  for (size_t pos :
       {size_t{0}, size_t{11}, size_t{12}, size_t{20}, sealed.size() - 16, sealed.size() - 1}) {
    Buffer bad = sealed;
    bad[pos] ^= std::byte{0x04};
    Result<Buffer> r = aead_.Open(bad);
    ASSERT_FALSE(r.ok()) << pos;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    EXPECT_NE(r.status().message().find("authentication failed"), std::string::npos);
  }
}

TEST_F(AeadTest, WrongAadOrKeyFails) {
  Buffer sealed = aead_.Seal(AsBytes("data"), AsBytes("pack-1"));
  EXPECT_EQ(aead_.Open(sealed, AsBytes("pack-2")).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(aead_.Open(sealed).status().code(), StatusCode::kCorruption);
  Buffer other_key(Aead::kKeySize);
  RandomBytes(other_key);
  EXPECT_EQ(Aead(other_key).Open(sealed, AsBytes("pack-1")).status().code(),
            StatusCode::kCorruption);
}

TEST_F(AeadTest, ShortInputFails) {
  for (size_t n : {size_t{0}, size_t{12}, Aead::kOverhead - 1}) {
    Buffer tiny(n);
    Result<Buffer> r = aead_.Open(tiny);
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << n;
    EXPECT_NE(r.status().message().find("authentication failed"), std::string::npos);
  }
}

TEST_F(AeadTest, ConcurrentUse) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        Buffer pt(1000 + t * 10 + i, std::byte(t));
        Result<Buffer> back = aead_.Open(aead_.Seal(pt));
        if (!back.ok() || *back != pt || Sha256(pt) != Sha256(*back)) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

// McGrew & Viega GCM spec, test case 14 (AES-256, zero key and IV).
TEST(AeadKnownAnswerTest, GcmSpecCase14) {
  Buffer key(32, std::byte{0});
  Buffer sealed = Unhex("000000000000000000000000");
  Append(sealed, Unhex("cea7403d4d606b6e074ec5d3baf39d18"));
  Append(sealed, Unhex("d0d1c8a799996bf0265b98b5d48ab919"));
  Result<Buffer> pt = Aead(key).Open(sealed);
  ASSERT_TRUE(pt.ok()) << pt.status().ToString();
  EXPECT_EQ(*pt, Buffer(16, std::byte{0}));
}

// IEEE P1619 XTS-AES-256 vector 10: data unit 0xff, 512 bytes 00..ff twice.
TEST(XtsCipherTest, Ieee1619Vector10) {
  Buffer key = Unhex("2718281828459045235360287471352662497757247093699959574966967627");
  Append(key, Unhex("3141592653589793238462643383279502884197169399375105820974944592"));
  Buffer pt(512);
  for (size_t i = 0; i < pt.size(); ++i) pt[i] = std::byte(i & 0xff);
  XtsCipher xts(key);
  Buffer ct(512);
  xts.Encrypt(0xff, 512, pt, ct);
  EXPECT_EQ(Hex(ByteSpan(ct).first(32)),
            "1c3b3a102f770386e4836c99e370cf9bea00803f5e482357a4ae12d414a3e63b");
  EXPECT_EQ(Hex(ByteSpan(ct).last(16)), "c4f36ffda9fcea70b9c6e693e148c151");
  Buffer back(512);
  xts.Decrypt(0xff, 512, ct, back);
  EXPECT_EQ(back, pt);
}

TEST(XtsCipherTest, SectorNumberIsTheTweakAndInPlaceWorks) {
  Buffer key(XtsCipher::kKeySize);
  RandomBytes(key);
  XtsCipher xts(key);
  Buffer pt(3 * 4096, std::byte{0x5a});  // three equal sectors
  Buffer ct = pt;
  xts.Encrypt(7, 4096, ct, ct);  // in place
  ByteSpan c(ct);
  EXPECT_NE(Hex(c.subspan(0, 4096)), Hex(c.subspan(4096, 4096)));
  EXPECT_NE(Hex(c.subspan(4096, 4096)), Hex(c.subspan(8192, 4096)));
  // Sector 8 alone encrypts as the middle sector of the run starting at 7.
  Buffer one(4096);
  xts.Encrypt(8, 4096, ByteSpan(pt).first(4096), one);
  EXPECT_EQ(Hex(one), Hex(c.subspan(4096, 4096)));
  xts.Decrypt(7, 4096, ct, ct);
  EXPECT_EQ(ct, pt);
  // The wrong sector number does not decrypt.
  Buffer wrong(4096);
  xts.Decrypt(9, 4096, c.subspan(4096, 4096), wrong);
  EXPECT_NE(wrong, Buffer(4096, std::byte{0x5a}));
}

TEST(XtsCipherTest, ConcurrentUseWithTwoKeys) {
  Buffer k1(XtsCipher::kKeySize), k2(XtsCipher::kKeySize);
  RandomBytes(k1);
  RandomBytes(k2);
  XtsCipher a(k1), b(k2);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Buffer pt(8192, std::byte(t));
      for (int i = 0; i < 200; ++i) {
        const XtsCipher& x = (i + t) % 2 ? a : b;
        Buffer ct(pt.size()), back(pt.size());
        x.Encrypt(i, 4096, pt, ct);
        x.Decrypt(i, 4096, ct, back);
        if (back != pt || ct == pt) failures++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace cairn
