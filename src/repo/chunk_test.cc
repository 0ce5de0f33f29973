#include "repo/chunk.h"

#include <gtest/gtest.h>

#include <random>

#include "core/compress.h"

namespace cairn::repo {
namespace {

Buffer RandomData(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Buffer b(n);
  for (auto& x : b) x = std::byte(rng() & 0xff);
  return b;
}

Buffer TextData(size_t n) {
  Buffer b(n);
  for (size_t i = 0; i < n; ++i) b[i] = std::byte("cairn block "[i % 12]);
  return b;
}

class ChunkTest : public ::testing::TestWithParam<bool> {
 protected:
  RepoCipher cipher_ =
      GetParam() ? RepoCipher::Encrypted(MasterKey::Generate()) : RepoCipher::Unencrypted();
  // Opens a blob and returns flag | payload.
  Buffer Payload(const Buffer& blob) { return cipher_.Open(blob).value(); }
};

TEST_P(ChunkTest, CompressibleRoundTripUsesZstd) {
  Buffer p = TextData(64 * 1024);
  ChunkId id = cipher_.ComputeChunkId(p);
  Buffer blob = EncodeChunk(cipher_, p);
  EXPECT_LT(blob.size(), p.size() / 4);
  EXPECT_EQ(Payload(blob)[0], std::byte{0x01});
  Result<Buffer> back = DecodeChunk(cipher_, id, blob, static_cast<uint32_t>(p.size()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, p);
}

TEST_P(ChunkTest, IncompressibleIsStoredRaw) {
  Buffer p = RandomData(64 * 1024, 1);
  Buffer blob = EncodeChunk(cipher_, p);
  EXPECT_EQ(blob.size(), 1 + p.size() + cipher_.overhead());
  EXPECT_EQ(Payload(blob)[0], std::byte{0x00});
  Result<Buffer> back =
      DecodeChunk(cipher_, cipher_.ComputeChunkId(p), blob, static_cast<uint32_t>(p.size()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, p);
}

TEST_P(ChunkTest, SmallSavingsAreNotWorthIt) {
  // 1/64 of the block compressible: zstd saves less than 1/32 → raw.
  Buffer p = RandomData(64 * 1024, 2);
  std::fill(p.begin(), p.begin() + 1024, std::byte{0});
  EXPECT_EQ(Payload(EncodeChunk(cipher_, p))[0], std::byte{0x00});
  // A quarter of it compressible: zstd is kept.
  std::fill(p.begin(), p.begin() + 16 * 1024, std::byte{0});
  EXPECT_EQ(Payload(EncodeChunk(cipher_, p))[0], std::byte{0x01});
}

TEST_P(ChunkTest, LevelZeroStoresRaw) {
  Buffer p = TextData(4096);
  Buffer blob = EncodeChunk(cipher_, p, 0);
  EXPECT_EQ(Payload(blob)[0], std::byte{0x00});
  EXPECT_TRUE(DecodeChunk(cipher_, cipher_.ComputeChunkId(p), blob, 4096).ok());
}

TEST_P(ChunkTest, EmptyChunkRoundTrips) {
  Buffer blob = EncodeChunk(cipher_, {});
  Result<Buffer> back = DecodeChunk(cipher_, cipher_.ComputeChunkId({}), blob, 0);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->empty());
}

TEST_P(ChunkTest, FlippedBitAnywhereIsCorruption) {
  for (bool compressible : {true, false}) {
    Buffer p = compressible ? TextData(8192) : RandomData(8192, 3);
    ChunkId id = cipher_.ComputeChunkId(p);
    Buffer blob = EncodeChunk(cipher_, p);
    for (size_t pos : {size_t{0}, size_t{1}, size_t{12}, size_t{13}, blob.size() / 2,
                       blob.size() - 17, blob.size() - 1}) {
      Buffer bad = blob;
      bad[pos] ^= std::byte{0x10};
      Result<Buffer> r = DecodeChunk(cipher_, id, bad, 8192);
      ASSERT_FALSE(r.ok()) << "pos " << pos;
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
    }
  }
}

TEST_P(ChunkTest, TruncatedBlobIsCorruption) {
  Buffer p = TextData(8192);
  Buffer blob = EncodeChunk(cipher_, p);
  for (size_t n : {size_t{0}, size_t{1}, blob.size() / 2, blob.size() - 1}) {
    Result<Buffer> r =
        DecodeChunk(cipher_, cipher_.ComputeChunkId(p), ByteSpan(blob).first(n), 8192);
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  }
}

TEST_P(ChunkTest, WrongIdOrLengthIsNamed) {
  Buffer p = RandomData(4096, 4);
  ChunkId id = cipher_.ComputeChunkId(p);
  Buffer blob = EncodeChunk(cipher_, p);
  ChunkId other = id;
  other.bytes[0] ^= std::byte{1};
  Result<Buffer> r = DecodeChunk(cipher_, other, blob, 4096);
  ASSERT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("chunk id mismatch"), std::string::npos);
  r = DecodeChunk(cipher_, id, blob, 4095);
  ASSERT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("length mismatch"), std::string::npos);
  Buffer text = TextData(4096);
  r = DecodeChunk(cipher_, cipher_.ComputeChunkId(text), EncodeChunk(cipher_, text), 4000);
  ASSERT_EQ(r.status().code(), StatusCode::kCorruption);
}

TEST_P(ChunkTest, UnknownFlagIsCorruption) {
  Buffer payload{std::byte{0x02}, std::byte{'x'}};
  Result<Buffer> r = DecodeChunk(cipher_, ChunkId{}, cipher_.Seal(payload), 1);
  ASSERT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("unknown flag"), std::string::npos);
}

TEST_P(ChunkTest, WrongCipherIsCorruption) {
  Buffer p = TextData(1024);
  Buffer blob = EncodeChunk(cipher_, p);
  RepoCipher other = GetParam() ? RepoCipher::Encrypted(MasterKey::Generate())
                                : RepoCipher::Encrypted(MasterKey::Generate());
  EXPECT_EQ(DecodeChunk(other, cipher_.ComputeChunkId(p), blob, 1024).status().code(),
            StatusCode::kCorruption);
}

INSTANTIATE_TEST_SUITE_P(Modes, ChunkTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Encrypted" : "Plain"; });

}  // namespace
}  // namespace cairn::repo
