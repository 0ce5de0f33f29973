#include "repo/check.h"

#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "repo/maintenance_test_util.h"
#include "repo/pack.h"

namespace cairn::repo {
namespace {

using testing::kTestBlockSize;

// Two snapshots sharing six blocks, one pack each:
//   img1: 12 blocks → pack1;  img2: img1 blocks 0-5 + 6 new → pack2.
struct Fixture {
  testing::FaultRepo t;
  Buffer img1 = testing::Image(12, 1);
  Buffer img2;
  SnapshotId snap1, snap2;
  IndexedPack pack1, pack2;

  explicit Fixture(bool encrypted = true) : t(testing::MakeFaultRepo(encrypted)) {
    img2 = Buffer(img1.begin(), img1.begin() + 6 * kTestBlockSize);
    Append(img2, testing::Image(6, 2));
    snap1 = testing::Backup(*t.repo, "/dev/one", img1);
    pack1 = t.repo->index().Packs().at(0);
    snap2 = testing::Backup(*t.repo, "/dev/two", img2);
    for (const IndexedPack& p : t.repo->index().Packs()) {
      if (p.id != pack1.id) pack2 = p;
    }
  }
  CheckReport Check(bool read_data = false) {
    CheckOptions options;
    options.read_data = read_data;
    auto r = CheckRepository(*t.repo, options);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : CheckReport{};
  }
  std::unique_ptr<Repository> Reopen() { return testing::ReopenFaultRepo(t); }
};

// Findings about `object` whose message contains every one of `parts`.
size_t Count(const CheckReport& r, const std::string& object,
             std::initializer_list<std::string> parts,
             CheckFinding::Severity severity = CheckFinding::Severity::kError) {
  size_t n = 0;
  for (const CheckFinding& f : r.findings) {
    bool all = f.object == object && f.severity == severity;
    for (const std::string& p : parts) all = all && f.message.find(p) != std::string::npos;
    n += all;
  }
  return n;
}

std::string Dump(const CheckReport& r) {
  std::string s;
  for (const CheckFinding& f : r.findings) {
    s += (f.severity == CheckFinding::Severity::kError ? "E " : "W ") + f.object + ": " +
         f.message + "\n";
  }
  return s;
}

TEST(CheckTest, CleanRepositoryHasNoFindings) {
  Fixture f;
  Progress progress(Progress::Mode::kNone, "check", 0);
  CheckOptions options;
  options.read_data = true;
  options.threads = 2;
  options.progress = &progress;
  auto r = CheckRepository(*f.t.repo, options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->findings.empty()) << Dump(*r);
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->snapshots_checked, 2u);
  EXPECT_EQ(r->packs_checked, 2u);
  EXPECT_EQ(r->packs_read, 2u);
  EXPECT_EQ(r->chunks_verified, 18u);
  EXPECT_EQ(r->bytes_read, f.pack1.size + f.pack2.size);
  EXPECT_EQ(progress.done(), r->bytes_read);
  EXPECT_TRUE(testing::Objects(*f.t.mem, "locks/").empty());
}

TEST(CheckTest, UnencryptedRepositoryChecksCleanAndFindsAFlippedBit) {
  Fixture f(/*encrypted=*/false);
  CheckReport clean = f.Check(true);
  EXPECT_TRUE(clean.findings.empty()) << Dump(clean);
  EXPECT_EQ(clean.chunks_verified, 18u);
  const PackEntry& e = f.pack1.entries.at(0);
  ASSERT_TRUE(f.t.mem->Corrupt(PackKey(f.pack1.id), e.offset + 30).ok());
  CheckReport r = f.Check(true);
  EXPECT_EQ(Count(r, PackKey(f.pack1.id),
                  {"pack " + f.pack1.id.Hex() + " offset " + std::to_string(e.offset)}),
            1u)
      << Dump(r);
}

TEST(CheckTest, FlippedBitInAPackIsFoundByReadDataNamingPackAndOffset) {
  Fixture f;
  const PackEntry& e = f.pack2.entries.at(1);
  const std::string key = PackKey(f.pack2.id);
  ASSERT_TRUE(f.t.mem->Corrupt(key, e.offset + 20).ok());
  EXPECT_TRUE(f.Check(false).ok()) << "structure is intact";
  CheckReport r = f.Check(true);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Count(r, key, {"pack " + f.pack2.id.Hex() + " offset " + std::to_string(e.offset), e.id.ShortHex()}), 1u)
      << Dump(r);
  EXPECT_EQ(Count(r, key, {"does not match its name"}), 1u) << Dump(r);
  EXPECT_EQ(Count(r, SnapshotKey(f.snap2), {"cannot be restored completely"}), 1u) << Dump(r);
  EXPECT_EQ(Count(r, SnapshotKey(f.snap1), {}), 0u) << Dump(r);
}

TEST(CheckTest, FlippedBitInAnIndexObjectIsAFinding) {
  Fixture f;
  const std::string key = testing::Objects(*f.t.mem, "index/").begin()->first;
  ASSERT_TRUE(f.t.mem->Corrupt(key, 30).ok());
  CheckReport r = f.Check();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Count(r, key, {"damaged", "rebuild-index"}), 1u) << Dump(r);
}

TEST(CheckTest, FlippedBitInAManifestIsAFinding) {
  Fixture f;
  const std::string key = SnapshotKey(f.snap1);
  ASSERT_TRUE(f.t.mem->Corrupt(key, testing::Objects(*f.t.mem)[key] - 5).ok());
  CheckReport r = f.Check();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Count(r, key, {"snapshot " + f.snap1.str(), "snapshot delete"}), 1u) << Dump(r);
  EXPECT_EQ(r.snapshots_checked, 1u);
  EXPECT_EQ(r.findings.size(), 1u) << Dump(r);
}

TEST(CheckTest, TruncatedPackIsFoundWithoutReadingData) {
  Fixture f;
  const std::string key = PackKey(f.pack1.id);
  const uint64_t cut = f.pack1.entries.back().offset + 10;
  ASSERT_TRUE(f.t.mem->Truncate(key, cut).ok());
  CheckReport r = f.Check();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Count(r, key, {fmt::format("pack {} is {} bytes, the index says {}: truncated",
                                       f.pack1.id.Hex(),
                                       cut, f.pack1.size)}),
            1u)
      << Dump(r);
  // The last blob is cut off: the snapshot naming it is reported at its block.
  auto m = f.t.repo->LoadManifest(f.snap1);
  ASSERT_TRUE(m.ok());
  auto it = std::find(m->blocks.begin(), m->blocks.end(), f.pack1.entries.back().id);
  ASSERT_NE(it, m->blocks.end());
  const uint64_t block = it - m->blocks.begin();
  EXPECT_EQ(Count(r, SnapshotKey(f.snap1),
                  {fmt::format("1 block is stored in missing or damaged places"),
                   fmt::format("block {} (byte offset {})", block, block * kTestBlockSize),
                   fmt::format("at offset {}", f.pack1.entries.back().offset)}),
            1u)
      << Dump(r);
}

TEST(CheckTest, MissingPackIsAFindingAndNamesTheSnapshotsItBreaks) {
  Fixture f;
  const std::string key = PackKey(f.pack1.id);
  ASSERT_TRUE(f.t.mem->Remove(key).ok());
  CheckReport r = f.Check();
  EXPECT_EQ(Count(r, key, {"is missing", "12 chunks"}), 1u) << Dump(r);
  EXPECT_EQ(Count(r, SnapshotKey(f.snap1), {"12 blocks", "block 0 "}), 1u) << Dump(r);
  EXPECT_EQ(Count(r, SnapshotKey(f.snap2), {"6 blocks", "block 0 "}), 1u) << Dump(r);
}

TEST(CheckTest, UnindexedPackIsOnlyAWarning) {
  Fixture f;
  PackWriter writer;
  Buffer plain = testing::RandomData(1000, 99);
  ChunkId id = f.t.repo->cipher().ComputeChunkId(plain);
  writer.Add(id, EncodeChunk(f.t.repo->cipher(), plain), 1000);
  PackWriter::Finished pack = writer.Finish(f.t.repo->cipher());
  ASSERT_TRUE(f.t.mem->Put(PackKey(pack.id), pack.data).ok());
  CheckReport r = f.Check(true);
  EXPECT_TRUE(r.ok()) << Dump(r);
  EXPECT_EQ(Count(r, PackKey(pack.id), {"interrupted backup", "repo gc"},
                  CheckFinding::Severity::kWarning),
            1u)
      << Dump(r);
}

TEST(CheckTest, DamagedKeyFileIsAFinding) {
  Fixture f;
  const std::string key = testing::Objects(*f.t.mem, "keys/").begin()->first;
  ASSERT_TRUE(f.t.mem->Corrupt(key, 0).ok());  // '{' → 'z'
  CheckReport r = f.Check();
  EXPECT_EQ(Count(r, key, {"key file is damaged"}), 1u) << Dump(r);
}

TEST(CheckTest, ReadDataShareReadsADeterministicSubset) {
  Fixture f;
  CheckOptions options;
  options.read_data = true;
  options.read_data_share = 0.5;
  std::set<uint64_t> sizes;
  for (int run = 0; run < 3; ++run) {
    auto r = CheckRepository(*f.t.repo, options);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->packs_read, 1u);
    sizes.insert(r->bytes_read);
  }
  EXPECT_EQ(sizes.size(), 1u);
}

TEST(CheckTest, RebuildIndexRestoresEveryChunkLocation) {
  Fixture f;
  std::map<ChunkId, std::pair<PackId, uint64_t>> before;
  for (const IndexedPack& p : f.t.repo->index().Packs()) {
    for (const PackEntry& e : p.entries) before[e.id] = {p.id, e.offset};
  }
  for (const auto& [key, size] : testing::Objects(*f.t.mem, "index/")) {
    ASSERT_TRUE(f.t.mem->Remove(key).ok());
  }
  EXPECT_FALSE(f.Check().ok());

  auto rebuilt = RebuildIndex(*f.t.repo);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
  EXPECT_EQ(rebuilt->packs, 2u);
  EXPECT_EQ(rebuilt->chunks, 18u);
  EXPECT_TRUE(rebuilt->unreadable.empty());
  EXPECT_EQ(testing::Objects(*f.t.mem, "index/").size(), 1u);

  auto reopened = f.Reopen();
  EXPECT_EQ(reopened->index().chunk_count(), before.size());
  for (const auto& [chunk, where] : before) {
    auto loc = reopened->index().Lookup(chunk);
    ASSERT_TRUE(loc.has_value()) << chunk.Hex();
    EXPECT_EQ(loc->pack, where.first);
    EXPECT_EQ(loc->offset, where.second);
  }
  testing::ExpectRestores(*reopened, f.snap1, f.img1);
  testing::ExpectRestores(*reopened, f.snap2, f.img2);
  CheckReport r = f.Check(true);
  EXPECT_TRUE(r.findings.empty()) << Dump(r);
}

TEST(CheckTest, RebuildIndexListsPacksWithDamagedHeaders) {
  Fixture f;
  const std::string key = PackKey(f.pack2.id);
  ASSERT_TRUE(f.t.mem->Corrupt(key, f.pack2.size - 20).ok());  // inside the sealed header
  // With a readable old index, its entries for the pack are kept.
  auto kept = RebuildIndex(*f.t.repo);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->unreadable, std::vector<std::string>{key});
  EXPECT_EQ(kept->packs_kept_from_index, 1u);
  EXPECT_EQ(kept->chunks, 18u);
  testing::ExpectRestores(*f.Reopen(), f.snap2, f.img2);
  // Without one, the pack's chunks leave the index (not fatal).
  for (const auto& [k, size] : testing::Objects(*f.t.mem, "index/")) {
    ASSERT_TRUE(f.t.mem->Remove(k).ok());
  }
  auto dropped = RebuildIndex(*f.t.repo);
  ASSERT_TRUE(dropped.ok()) << dropped.status().ToString();
  EXPECT_EQ(dropped->unreadable, std::vector<std::string>{key});
  EXPECT_EQ(dropped->packs, 1u);
  EXPECT_EQ(dropped->chunks, 12u);
}

TEST(CheckTest, Stats) {
  Fixture f;
  auto s = ComputeStats(*f.t.repo);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->snapshots, 2u);
  EXPECT_EQ(s->packs, 2u);
  EXPECT_EQ(s->chunks, 18u);
  EXPECT_EQ(s->stored_bytes, f.pack1.size + f.pack2.size);
  EXPECT_EQ(s->logical_bytes, f.img1.size() + f.img2.size());
  EXPECT_EQ(s->unique_raw_bytes, 18u * kTestBlockSize);
}

}  // namespace
}  // namespace cairn::repo
