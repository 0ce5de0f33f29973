#include "repo/pack.h"

#include <gtest/gtest.h>

#include "repo/chunk.h"

namespace cairn::repo {
namespace {

Buffer Block(size_t n, char c) {
  Buffer b(n);
  for (size_t i = 0; i < n; ++i) b[i] = std::byte(c + (i % 7));
  return b;
}

class PackTest : public ::testing::TestWithParam<bool> {
 protected:
  RepoCipher cipher_ =
      GetParam() ? RepoCipher::Encrypted(MasterKey::Generate()) : RepoCipher::Unencrypted();
  // A pack of three chunks.
  PackWriter::Finished MakePack() {
    PackWriter w;
    for (char c : {'a', 'b', 'c'}) {
      Buffer p = Block(1000 + c, c);
      w.Add(cipher_.ComputeChunkId(p), EncodeChunk(cipher_, p), static_cast<uint32_t>(p.size()));
    }
    return w.Finish(cipher_);
  }
};

TEST(PackEntryTest, RoundTrip) {
  PackEntry e;
  e.id.bytes[0] = std::byte{0xab};
  e.id.bytes[31] = std::byte{0xcd};
  e.offset = 0x0102030405060708;
  e.length = 0x11223344;
  e.raw_length = 0x55667788;
  Buffer b;
  EncodePackEntry(e, b);
  ASSERT_EQ(b.size(), kPackEntrySize);
  EXPECT_EQ(b[32], std::byte{0x08});  // little-endian
  PackEntry d = DecodePackEntry(b);
  EXPECT_EQ(d.id, e.id);
  EXPECT_EQ(d.offset, e.offset);
  EXPECT_EQ(d.length, e.length);
  EXPECT_EQ(d.raw_length, e.raw_length);
}

TEST_P(PackTest, WriterAndParserAgree) {
  PackWriter::Finished f = MakePack();
  EXPECT_EQ(f.id.bytes, Sha256(f.data));
  ASSERT_EQ(f.entries.size(), 3u);
  EXPECT_EQ(AsStringView(ByteSpan(f.data).last(8)), "CAIRNPK1");
  Result<std::vector<PackEntry>> parsed = ParsePackHeader(cipher_, f.data);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const PackEntry& e = (*parsed)[i];
    EXPECT_EQ(e.id, f.entries[i].id);
    EXPECT_EQ(e.offset, f.entries[i].offset);
    Result<Buffer> plain =
        DecodeChunk(cipher_, e.id, ByteSpan(f.data).subspan(e.offset, e.length), e.raw_length);
    ASSERT_TRUE(plain.ok()) << plain.status().ToString();
    EXPECT_EQ(plain->size(), e.raw_length);
  }
}

TEST_P(PackTest, WriterIsReusable) {
  PackWriter w;
  Buffer p = Block(100, 'x');
  w.Add(cipher_.ComputeChunkId(p), EncodeChunk(cipher_, p), 100);
  w.Finish(cipher_);
  EXPECT_TRUE(w.empty());
  EXPECT_EQ(w.size(), 0u);
  const PackEntry& e = w.Add(cipher_.ComputeChunkId(p), EncodeChunk(cipher_, p), 100);
  EXPECT_EQ(e.offset, 0u);
  EXPECT_EQ(w.count(), 1u);
}

TEST_P(PackTest, FlippedBitInHeaderOrTrailerIsCorruption) {
  PackWriter::Finished f = MakePack();
  const size_t header_len = GetU32LE(ByteSpan(f.data).last(12));
  const size_t header_start = f.data.size() - 12 - header_len;
  for (size_t pos = header_start; pos < f.data.size(); pos += 7) {
    Buffer bad = f.data;
    bad[pos] ^= std::byte{0x04};
    Result<std::vector<PackEntry>> r = ParsePackHeader(cipher_, bad);
    ASSERT_FALSE(r.ok()) << "pos " << pos;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
  }
}

TEST_P(PackTest, TruncatedPackIsCorruption) {
  PackWriter::Finished f = MakePack();
  for (size_t n : {size_t{0}, size_t{11}, f.data.size() / 2, f.data.size() - 1}) {
    Result<std::vector<PackEntry>> r = ParsePackHeader(cipher_, ByteSpan(f.data).first(n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
  }
}

TEST_P(PackTest, ShortTailAsksForMore) {
  PackWriter::Finished f = MakePack();
  uint64_t needed = 0;
  Result<std::vector<PackEntry>> r =
      ParsePackTail(cipher_, ByteSpan(f.data).last(20), f.data.size(), &needed);
  ASSERT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
  EXPECT_EQ(needed, 12 + 3 * kPackEntrySize + cipher_.overhead());
  r = ParsePackTail(cipher_, ByteSpan(f.data).last(needed), f.data.size(), &needed);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), 3u);
}

// Builds a pack whose (validly sealed) header holds `entries` over `blob_bytes`.
Buffer CraftPack(const RepoCipher& c, const std::vector<PackEntry>& entries, size_t blob_bytes) {
  Buffer data(blob_bytes, std::byte{0x5a});
  Buffer header;
  for (const PackEntry& e : entries) EncodePackEntry(e, header);
  const size_t before = data.size();
  c.SealTo(header, data);
  PutU32LE(data, static_cast<uint32_t>(data.size() - before));
  Append(data, AsBytes(kPackMagic));
  return data;
}

TEST_P(PackTest, EntriesOutsideThePackAreCorruption) {
  const uint32_t len = 100;
  EXPECT_TRUE(ParsePackHeader(cipher_, CraftPack(cipher_, {{ChunkId{}, 0, len, 10}}, 200)).ok());
  const std::vector<std::vector<PackEntry>> bad = {
      {{ChunkId{}, 150, len, 10}},                          // runs past the blobs
      {{ChunkId{}, ~uint64_t{0} - 10, len, 10}},            // offset overflow
      {{ChunkId{}, 0, len, 10}, {ChunkId{}, 50, len, 10}},  // overlap
      {{ChunkId{}, 0, 0, 10}},                              // empty blob
      {{ChunkId{}, 0, len, 64u << 20}},                     // raw length too big
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    Result<std::vector<PackEntry>> r = ParsePackHeader(cipher_, CraftPack(cipher_, bad[i], 200));
    ASSERT_FALSE(r.ok()) << i;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << i;
  }
}

TEST_P(PackTest, BadHeaderLengthIsCorruption) {
  Buffer data = CraftPack(cipher_, {{ChunkId{}, 0, 100, 10}}, 200);
  Buffer huge = data;
  huge[huge.size() - 12 + 3] = std::byte{0x7f};  // header_len far beyond the pack
  EXPECT_EQ(ParsePackHeader(cipher_, huge).status().code(), StatusCode::kCorruption);
  Buffer odd = data;
  odd[odd.size() - 12] = std::byte(std::to_integer<uint8_t>(odd[odd.size() - 12]) - 1);
  EXPECT_EQ(ParsePackHeader(cipher_, odd).status().code(), StatusCode::kCorruption);
}

INSTANTIATE_TEST_SUITE_P(Modes, PackTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Encrypted" : "Plain"; });

}  // namespace
}  // namespace cairn::repo
