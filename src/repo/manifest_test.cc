#include "repo/manifest.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace cairn::repo {
namespace {

class ManifestTest : public ::testing::TestWithParam<bool> {
 protected:
  RepoCipher cipher_ =
      GetParam() ? RepoCipher::Encrypted(MasterKey::Generate()) : RepoCipher::Unencrypted();
  SnapshotId id_ = SnapshotId::Generate();

  Manifest Sample(size_t blocks = 10) {
    Manifest m;
    SnapshotHeader& h = m.header;
    h.id = id_;
    h.source = "/dev/sdb";
    h.host = "db1";
    h.block_size = 64 * 1024;
    h.size = blocks * h.block_size - 100;  // last block short
    h.created = "2026-11-24T09:00:00Z";
    h.completed = "2026-11-24T09:00:41Z";
    h.description = "hourly";
    h.tags = {{"app", "db"}, {"env", "prod"}};
    h.parent = SnapshotId::Generate();
    h.stats = {1000, 500, 300, 7, 1.5};
    for (size_t i = 0; i < blocks; ++i) {
      ChunkId c;
      if (i % 3 != 0) c.bytes[i % 32] = std::byte(i + 1);  // every third block zero
      m.blocks.push_back(c);
    }
    return m;
  }
};

TEST_P(ManifestTest, RoundTrip) {
  Manifest m = Sample();
  Buffer data = EncodeManifest(cipher_, m);
  EXPECT_EQ(AsStringView(ByteSpan(data).first(8)), "CAIRNSN1");
  EXPECT_EQ(m.header.block_count, 10u);
  EXPECT_EQ(m.header.map_sha256.size(), 64u);
  Result<Manifest> d = DecodeManifest(cipher_, id_, data);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->blocks, m.blocks);
  const SnapshotHeader& h = d->header;
  EXPECT_EQ(h.id, id_);
  EXPECT_EQ(h.state, "completed");
  EXPECT_EQ(h.source, "/dev/sdb");
  EXPECT_EQ(h.host, "db1");
  EXPECT_EQ(h.size, m.header.size);
  EXPECT_EQ(h.block_size, 64u * 1024);
  EXPECT_EQ(h.tags, m.header.tags);
  EXPECT_EQ(h.parent, m.header.parent);
  EXPECT_EQ(h.description, "hourly");
  EXPECT_EQ(h.stats.chunks_new, 7u);
  EXPECT_DOUBLE_EQ(h.stats.seconds, 1.5);
  EXPECT_EQ(h.map_length, m.header.map_length);
  EXPECT_EQ(HeaderToJson(h), HeaderToJson(m.header));
}

TEST_P(ManifestTest, NoParentAndEmptySource) {
  Manifest m = Sample(0);
  m.header.size = 0;
  m.header.parent.reset();
  Buffer data = EncodeManifest(cipher_, m);
  Result<Manifest> d = DecodeManifest(cipher_, id_, data);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_FALSE(d->header.parent.has_value());
  EXPECT_TRUE(d->blocks.empty());
  nlohmann::json j = nlohmann::json::parse(HeaderToJson(d->header));
  EXPECT_TRUE(j["parent"].is_null());
  EXPECT_EQ(j["map"]["length"].get<uint64_t>(), d->header.map_length);
}

TEST_P(ManifestTest, HeaderFromPrefix) {
  Manifest m = Sample(5000);  // the map is far larger than the header
  Buffer data = EncodeManifest(cipher_, m);
  const size_t header_end = 12 + GetU32LE(ByteSpan(data).subspan(8));
  Result<SnapshotHeader> h = DecodeManifestHeader(cipher_, id_, ByteSpan(data).first(header_end));
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->block_count, 5000u);
  EXPECT_EQ(h->description, "hourly");
  for (size_t n : {size_t{4}, size_t{11}, header_end - 1}) {
    EXPECT_EQ(DecodeManifestHeader(cipher_, id_, ByteSpan(data).first(n)).status().code(),
              StatusCode::kFailedPrecondition)
        << n;
  }
}

TEST_P(ManifestTest, WrongIdIsCorruption) {
  Manifest m = Sample();
  Buffer data = EncodeManifest(cipher_, m);
  Result<Manifest> d = DecodeManifest(cipher_, SnapshotId::Generate(), data);
  ASSERT_EQ(d.status().code(), StatusCode::kCorruption);
  EXPECT_NE(d.status().message().find(id_.str()), std::string::npos);
}

TEST_P(ManifestTest, FlippedBitAnywhereIsCorruption) {
  Manifest m = Sample(100);
  Buffer data = EncodeManifest(cipher_, m);
  for (size_t pos = 0; pos < data.size(); pos += 3) {
    Buffer bad = data;
    bad[pos] ^= std::byte{0x02};
    Result<Manifest> d = DecodeManifest(cipher_, id_, bad);
    ASSERT_FALSE(d.ok()) << "pos " << pos;
    EXPECT_EQ(d.status().code(), StatusCode::kCorruption) << "pos " << pos;
  }
}

TEST_P(ManifestTest, TruncatedOrExtendedIsCorruption) {
  Manifest m = Sample(100);
  Buffer data = EncodeManifest(cipher_, m);
  for (size_t n : {size_t{0}, size_t{7}, size_t{12}, size_t{40}, data.size() - 1}) {
    EXPECT_EQ(DecodeManifest(cipher_, id_, ByteSpan(data).first(n)).status().code(),
              StatusCode::kCorruption)
        << n;
  }
  Buffer longer = data;
  longer.push_back(std::byte{0});
  EXPECT_EQ(DecodeManifest(cipher_, id_, longer).status().code(), StatusCode::kCorruption);
}

INSTANTIATE_TEST_SUITE_P(Modes, ManifestTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Encrypted" : "Plain"; });

}  // namespace
}  // namespace cairn::repo
