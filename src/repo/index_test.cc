#include "repo/index.h"

#include <gtest/gtest.h>

#include <thread>

#include "storage/memory_backend.h"

namespace cairn::repo {
namespace {

ChunkId Cid(uint8_t n) {
  ChunkId id;
  id.bytes[0] = std::byte{n};
  id.bytes[9] = std::byte{0x77};
  return id;
}

IndexedPack MakePack(uint8_t pack_n, std::initializer_list<uint8_t> chunks) {
  IndexedPack p;
  p.id.bytes[0] = std::byte{pack_n};
  uint64_t off = 0;
  for (uint8_t c : chunks) {
    p.entries.push_back(PackEntry{Cid(c), off, 100, 4096});
    off += 100;
  }
  p.size = off + 200;
  return p;
}

class IndexObjectTest : public ::testing::TestWithParam<bool> {
 protected:
  RepoCipher cipher_ =
      GetParam() ? RepoCipher::Encrypted(MasterKey::Generate()) : RepoCipher::Unencrypted();
  IndexObject Sample() {
    IndexObject o;
    o.supersedes.push_back(IndexId{});
    o.supersedes.back().bytes[5] = std::byte{9};
    o.packs.push_back(MakePack(1, {1, 2, 3}));
    o.packs.push_back(MakePack(2, {4}));
    return o;
  }
};

TEST_P(IndexObjectTest, RoundTrip) {
  IndexObject o = Sample();
  Buffer data = EncodeIndexObject(cipher_, o);
  EXPECT_EQ(AsStringView(ByteSpan(data).first(8)), "CAIRNIX1");
  IndexId id{Sha256(data)};
  Result<IndexObject> d = DecodeIndexObject(cipher_, id, data);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->supersedes, o.supersedes);
  ASSERT_EQ(d->packs.size(), 2u);
  EXPECT_EQ(d->packs[0].id, o.packs[0].id);
  EXPECT_EQ(d->packs[0].size, o.packs[0].size);
  ASSERT_EQ(d->packs[0].entries.size(), 3u);
  EXPECT_EQ(d->packs[0].entries[2].id, Cid(3));
  EXPECT_EQ(d->packs[0].entries[2].offset, 200u);
  EXPECT_EQ(d->packs[1].entries[0].raw_length, 4096u);
}

TEST_P(IndexObjectTest, NameMismatchIsCorruption) {
  Buffer data = EncodeIndexObject(cipher_, Sample());
  Result<IndexObject> d = DecodeIndexObject(cipher_, IndexId{}, data);
  ASSERT_EQ(d.status().code(), StatusCode::kCorruption);
  EXPECT_NE(d.status().message().find("does not match its name"), std::string::npos);
}

TEST_P(IndexObjectTest, FlippedBitsAndTruncationAreCorruption) {
  Buffer data = EncodeIndexObject(cipher_, Sample());
  IndexId id{Sha256(data)};
  for (size_t pos = 0; pos < data.size(); pos += 5) {
    Buffer bad = data;
    bad[pos] ^= std::byte{0x80};
    // Both against the original name and against the damaged object's own
    // hash (a renamed damaged object must still fail to decode).
    EXPECT_EQ(DecodeIndexObject(cipher_, id, bad).status().code(), StatusCode::kCorruption);
    EXPECT_EQ(DecodeIndexObject(cipher_, IndexId{Sha256(bad)}, bad).status().code(),
              StatusCode::kCorruption)
        << "pos " << pos;
  }
  for (size_t n : {size_t{0}, size_t{8}, data.size() / 2, data.size() - 1}) {
    ByteSpan cut = ByteSpan(data).first(n);
    EXPECT_EQ(DecodeIndexObject(cipher_, IndexId{Sha256(cut)}, cut).status().code(),
              StatusCode::kCorruption)
        << n;
  }
}

TEST_P(IndexObjectTest, MalformedBodyIsCorruption) {
  auto object_of = [&](const Buffer& body) {
    Buffer o = ToBuffer("CAIRNIX1");
    cipher_.SealTo(body, o);
    return o;
  };
  Buffer body;
  PutU32LE(body, 1000);  // claims 1000 superseded ids that are not there
  Buffer o = object_of(body);
  EXPECT_EQ(DecodeIndexObject(cipher_, IndexId{Sha256(o)}, o).status().code(),
            StatusCode::kCorruption);
  // An entry past its pack's size.
  IndexObject bad;
  bad.packs.push_back(MakePack(1, {1, 2}));
  bad.packs[0].size = 150;
  o = EncodeIndexObject(cipher_, bad);
  EXPECT_EQ(DecodeIndexObject(cipher_, IndexId{Sha256(o)}, o).status().code(),
            StatusCode::kCorruption);
  // Trailing garbage after a valid body.
  body.clear();
  PutU32LE(body, 0);
  PutU32LE(body, 0);
  o = object_of(body);
  EXPECT_TRUE(DecodeIndexObject(cipher_, IndexId{Sha256(o)}, o).ok());
  body.push_back(std::byte{0});
  o = object_of(body);
  EXPECT_EQ(DecodeIndexObject(cipher_, IndexId{Sha256(o)}, o).status().code(),
            StatusCode::kCorruption);
}

INSTANTIATE_TEST_SUITE_P(Modes, IndexObjectTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Encrypted" : "Plain"; });

TEST(IndexTest, LookupAndCounts) {
  Index index;
  index.AddPack(MakePack(1, {1, 2}));
  index.AddPack(MakePack(2, {2, 3}));  // chunk 2 in two packs: first kept
  EXPECT_EQ(index.chunk_count(), 3u);
  EXPECT_EQ(index.pack_count(), 2u);
  std::optional<ChunkLocation> loc = index.Lookup(Cid(2));
  ASSERT_TRUE(loc.has_value());
  EXPECT_EQ(loc->pack, MakePack(1, {}).id);
  EXPECT_EQ(loc->offset, 100u);
  EXPECT_EQ(loc->length, 100u);
  EXPECT_EQ(loc->raw_length, 4096u);
  EXPECT_TRUE(index.Contains(Cid(3)));
  EXPECT_FALSE(index.Contains(Cid(4)));
  EXPECT_FALSE(index.Lookup(Cid(4)).has_value());
  EXPECT_EQ(index.PackSize(MakePack(2, {}).id), 400u);
  EXPECT_FALSE(index.PackSize(MakePack(3, {}).id).has_value());
  EXPECT_EQ(index.Packs().size(), 2u);
  index.Clear();
  EXPECT_EQ(index.chunk_count(), 0u);
  EXPECT_FALSE(index.Contains(Cid(1)));
}

TEST(IndexTest, ConcurrentLookupsAndAdds) {
  Index index;
  std::thread writer([&] {
    for (uint8_t i = 1; i < 200; ++i) index.AddPack(MakePack(i, {i}));
  });
  size_t found = 0;
  for (int round = 0; round < 2000; ++round) found += index.Contains(Cid(1)) ? 1 : 0;
  writer.join();
  EXPECT_EQ(index.chunk_count(), 199u);
  EXPECT_LE(found, 2000u);
}

TEST(LoadIndexTest, SkipsSupersededAndCollectsDamaged) {
  storage::MemoryBackend backend;
  RepoCipher cipher = RepoCipher::Encrypted(MasterKey::Generate());
  auto put = [&](const IndexObject& o) {
    Buffer data = EncodeIndexObject(cipher, o);
    IndexId id{Sha256(data)};
    EXPECT_TRUE(backend.Put(IndexKey(id), data).ok());
    return id;
  };
  IndexObject old_obj;
  old_obj.packs.push_back(MakePack(1, {1}));
  IndexId old_id = put(old_obj);
  IndexObject newer;
  newer.supersedes.push_back(old_id);
  newer.packs.push_back(MakePack(2, {2}));
  IndexId new_id = put(newer);
  IndexObject other;
  other.packs.push_back(MakePack(3, {3}));
  IndexId damaged_id = put(other);
  ASSERT_TRUE(backend.Corrupt(IndexKey(damaged_id), 20).ok());

  Index index;
  Result<LoadedIndex> loaded = LoadIndex(backend, cipher, index);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->objects, std::vector<IndexId>{new_id});
  EXPECT_EQ(loaded->superseded, std::vector<IndexId>{old_id});
  ASSERT_EQ(loaded->damaged.size(), 1u);
  EXPECT_EQ(loaded->damaged[0].first, damaged_id);
  EXPECT_EQ(loaded->damaged[0].second.code(), StatusCode::kCorruption);
  EXPECT_FALSE(index.Contains(Cid(1)));  // superseded
  EXPECT_TRUE(index.Contains(Cid(2)));
  EXPECT_FALSE(index.Contains(Cid(3)));  // damaged
}

TEST(LoadIndexTest, ManyObjectsLoadInParallel) {
  storage::MemoryBackend backend;
  RepoCipher cipher = RepoCipher::Unencrypted();
  for (uint8_t i = 1; i <= 100; ++i) {
    IndexObject o;
    o.packs.push_back(MakePack(i, {i}));
    Buffer data = EncodeIndexObject(cipher, o);
    ASSERT_TRUE(backend.Put(IndexKey(IndexId{Sha256(data)}), data).ok());
  }
  Index index;
  Result<LoadedIndex> loaded = LoadIndex(backend, cipher, index);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->objects.size(), 100u);
  EXPECT_EQ(index.chunk_count(), 100u);
  EXPECT_TRUE(loaded->damaged.empty());
}

}  // namespace
}  // namespace cairn::repo
