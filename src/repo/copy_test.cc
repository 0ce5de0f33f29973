#include "repo/copy.h"

#include <gtest/gtest.h>

#include "repo/backup.h"
#include "repo/check.h"
#include "repo/engine_test_util.h"
#include "repo/maintenance_test_util.h"
#include "repo/snapshot_source.h"
#include "storage/fault_backend.h"

namespace cairn::repo {
namespace {

using testing::kTestBlockSize;

// Counts what is Put under packs/, index/ and snapshots/ (not locks).
class CountingBackend : public storage::Backend {
 public:
  explicit CountingBackend(std::shared_ptr<storage::Backend> target) : target_(std::move(target)) {}
  Status Put(std::string_view key, ByteSpan data) override {
    if (!key.starts_with("locks/")) {
      puts_.fetch_add(1);
      bytes_.fetch_add(data.size());
    }
    return target_->Put(key, data);
  }
  Result<Buffer> Get(std::string_view key) override { return target_->Get(key); }
  Result<Buffer> GetRange(std::string_view key, uint64_t offset, uint64_t length) override {
    return target_->GetRange(key, offset, length);
  }
  Result<storage::ObjectInfo> Stat(std::string_view key) override { return target_->Stat(key); }
  Status List(std::string_view prefix,
              const std::function<Status(const storage::ObjectInfo&)>& fn) override {
    return target_->List(prefix, fn);
  }
  Status Remove(std::string_view key) override { return target_->Remove(key); }
  std::string Describe() const override { return "counting"; }

  uint64_t puts() const { return puts_.load(); }
  uint64_t bytes() const { return bytes_.load(); }
  void Reset() { puts_ = 0, bytes_ = 0; }

 private:
  std::shared_ptr<storage::Backend> target_;
  std::atomic<uint64_t> puts_{0};
  std::atomic<uint64_t> bytes_{0};
};

using testing::BufferSource;

// 40 blocks: text and random, zeros at 5-7, block 2 repeated at 30, short tail.
Buffer Image(uint64_t seed) {
  Buffer img;
  for (size_t i = 0; i < 40; ++i) {
    Append(img, i % 4 == 0 ? testing::TextData(kTestBlockSize, seed * 100 + i)
                           : testing::RandomData(kTestBlockSize, seed * 100 + i));
  }
  std::fill_n(img.begin() + 5 * kTestBlockSize, 3 * kTestBlockSize, std::byte{0});
  std::copy_n(img.begin() + 2 * kTestBlockSize, kTestBlockSize, img.begin() + 30 * kTestBlockSize);
  img.resize(img.size() - 1234);
  return img;
}

enum class Kind { kSameParams, kOtherKey, kOtherBlockSize };

// A destination repository: counting Puts, faults injectable.
struct Dest {
  std::shared_ptr<storage::MemoryBackend> mem = std::make_shared<storage::MemoryBackend>();
  CountingBackend* counter = nullptr;
  storage::FaultInjectingBackend* faults = nullptr;
  std::unique_ptr<Repository> repo;
};

Dest MakeDest(const Repository& from, Kind kind) {
  Dest d;
  auto counting = std::make_shared<CountingBackend>(d.mem);
  d.counter = counting.get();
  auto faulty = std::make_unique<storage::FaultInjectingBackend>(counting);
  d.faults = faulty.get();
  InitOptions opts;
  opts.block_size = kind == Kind::kOtherBlockSize ? 2 * kTestBlockSize : kTestBlockSize;
  opts.passphrase = "other passphrase";
  opts.scrypt.n = 1024;
  if (kind == Kind::kSameParams) opts.id_key = from.cipher().master_key().id_key;
  auto repo = Repository::Init(std::move(faulty), opts);
  EXPECT_TRUE(repo.ok()) << repo.status().ToString();
  d.repo = std::move(*repo);
  return d;
}

Buffer ReadSnapshot(Repository& repo, const SnapshotId& id) {
  EXPECT_TRUE(repo.LoadIndex().ok());
  auto src = SnapshotSource::Open(repo, id);
  EXPECT_TRUE(src.ok()) << src.status().ToString();
  if (!src.ok()) return {};
  Buffer out((*src)->size());
  Status s = (*src)->ReadAt(0, out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

void ExpectChecksClean(Repository& repo, bool allow_warnings = false) {
  CheckOptions o;
  o.read_data = true;
  auto report = CheckRepository(repo, o);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  for (const CheckFinding& f : report->findings) {
    const bool error = f.severity == CheckFinding::Severity::kError;
    EXPECT_TRUE(!error && allow_warnings) << f.object << ": " << f.message;
  }
}

Result<CopyResult> Copy(Repository& from, Repository& to, std::vector<SnapshotId> ids) {
  CopyOptions o;
  o.threads = 3;
  return CopySnapshots(from, to, ids, o);
}

class CopyTest : public ::testing::TestWithParam<Kind> {
 protected:
  testing::TestRepo src_ = testing::MakeTestRepo();

  SnapshotHeader Backup(BufferSource& s, BackupOptions o = {}) {
    auto r = CreateSnapshot(*src_.repo, s, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->snapshot : SnapshotHeader{};
  }
};

TEST_P(CopyTest, CopyKeepsHeaderAndBytes) {
  BufferSource s("/dev/sdb", Image(1));
  BackupOptions o;
  o.description = "nightly";
  o.tags = {{"app", "db"}};
  SnapshotHeader first = Backup(s, o);
  s.data()[3] ^= std::byte{1};
  SnapshotHeader h = Backup(s, o);
  Dest d = MakeDest(*src_.repo, GetParam());

  auto r = Copy(*src_.repo, *d.repo, {h.id});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->snapshots.size(), 1u);
  const SnapshotCopy& c = r->snapshots[0];
  EXPECT_EQ(c.fast, GetParam() == Kind::kSameParams);
  EXPECT_FALSE(c.skipped);
  EXPECT_EQ(r->copied, 1u);

  auto got = d.repo->LoadSnapshotHeader(h.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->source, "/dev/sdb");
  EXPECT_EQ(got->host, h.host);
  EXPECT_EQ(got->size, h.size);
  EXPECT_EQ(got->created, h.created);
  EXPECT_EQ(got->completed, h.completed);
  EXPECT_EQ(got->description, "nightly");
  EXPECT_EQ(got->tags, h.tags);
  ASSERT_TRUE(got->parent.has_value());
  EXPECT_EQ(*got->parent, first.id);  // the link is kept though the parent was not copied
  EXPECT_EQ(ReadSnapshot(*d.repo, h.id), s.data());

  // Same chunk ids: the map is the source's, so the repositories dedup.
  auto ms = src_.repo->LoadManifest(h.id);
  auto md = d.repo->LoadManifest(h.id);
  ASSERT_TRUE(ms.ok() && md.ok());
  EXPECT_EQ(ms->blocks == md->blocks, GetParam() == Kind::kSameParams);
  // 40 blocks minus 3 zero blocks minus one duplicate.
  EXPECT_EQ(c.chunks_sent, GetParam() == Kind::kOtherBlockSize ? 19u : 36u);
  EXPECT_EQ(c.chunks_present, 0u);
  ExpectChecksClean(*d.repo);
  ExpectChecksClean(*src_.repo);
}

TEST_P(CopyTest, IncrementalCopySendsOnlyNewChunks) {
  BufferSource s("/dev/sdb", Image(2));
  SnapshotHeader h1 = Backup(s);
  for (size_t b : {11, 27}) s.data()[b * kTestBlockSize + 99] ^= std::byte{0x5a};
  SnapshotHeader h2 = Backup(s);
  Dest d = MakeDest(*src_.repo, GetParam());
  ASSERT_TRUE(Copy(*src_.repo, *d.repo, {h1.id}).ok());

  d.counter->Reset();
  auto r = Copy(*src_.repo, *d.repo, {h2.id});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const SnapshotCopy& c = r->snapshots[0];
  EXPECT_EQ(c.chunks_sent, 2u);
  EXPECT_GT(c.chunks_present, 15u);
  // One pack with two chunks, one index object, one manifest.
  const uint64_t dest_block = d.repo->config().block_size;
  EXPECT_EQ(d.counter->puts(), 3u);
  EXPECT_LT(d.counter->bytes(), 2 * dest_block + 8192);
  EXPECT_GT(c.bytes_sent, 0u);
  EXPECT_LT(c.bytes_sent, d.counter->bytes());
  // Slow path: the parent was copied, so only the blocks that changed are read.
  EXPECT_EQ(c.bytes_read, c.fast ? 0 : 2 * dest_block);
  EXPECT_EQ(ReadSnapshot(*d.repo, h2.id), s.data());
  ExpectChecksClean(*d.repo);
}

TEST_P(CopyTest, CopyingAgainIsANoOpAndManyAreCopiedOldestFirst) {
  BufferSource s("/dev/sdb", Image(3));
  SnapshotHeader h1 = Backup(s);
  s.data()[7 * kTestBlockSize] ^= std::byte{1};
  SnapshotHeader h2 = Backup(s);
  Dest d = MakeDest(*src_.repo, GetParam());
  auto r = Copy(*src_.repo, *d.repo, {h2.id, h1.id, h2.id});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->snapshots.size(), 2u);
  EXPECT_EQ(r->snapshots[0].id, h1.id);
  EXPECT_EQ(r->copied, 2u);
  EXPECT_EQ(r->snapshots[1].chunks_sent, 1u);

  d.counter->Reset();
  auto again = Copy(*src_.repo, *d.repo, {h1.id, h2.id});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->skipped, 2u);
  EXPECT_EQ(again->copied, 0u);
  EXPECT_TRUE(again->snapshots[0].skipped && again->snapshots[1].skipped);
  EXPECT_EQ(d.counter->puts(), 0u);
}

TEST_P(CopyTest, DamagedSourceChunkIsCorruptionNamingSnapshotAndBlock) {
  BufferSource s("/dev/sdb", Image(4));
  SnapshotHeader h = Backup(s);
  auto m = src_.repo->LoadManifest(h.id);
  ASSERT_TRUE(m.ok());
  auto loc = src_.repo->index().Lookup(m->blocks[13]);
  ASSERT_TRUE(loc.has_value());
  ASSERT_TRUE(src_.mem->Corrupt(PackKey(loc->pack), loc->offset + loc->length / 2).ok());
  Dest d = MakeDest(*src_.repo, GetParam());

  auto r = Copy(*src_.repo, *d.repo, {h.id});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
  EXPECT_NE(r.status().message().find("snapshot " + h.id.str() + " block 13"), std::string::npos)
      << r.status().ToString();
  EXPECT_NE(r.status().message().find(PackKey(loc->pack).substr(9)), std::string::npos)
      << r.status().ToString();
  EXPECT_EQ(testing::CountObjects(*d.mem, "snapshots/"), 0u);
  EXPECT_EQ(testing::CountObjects(*d.mem, "locks/"), 0u);
  EXPECT_EQ(testing::CountObjects(*src_.mem, "locks/"), 0u);
}

TEST_P(CopyTest, InterruptedCopyLeavesCleanDestinationAndNextCopyCompletes) {
  BufferSource s("/dev/sdb", Image(5));
  SnapshotHeader h = Backup(s);
  Dest d = MakeDest(*src_.repo, GetParam());
  // Fails writing the index object (packs written, none indexed), then the
  // manifest (packs indexed, no snapshot names them).
  for (const char* prefix : {"index/", "snapshots/"}) {
    storage::FaultRule rule = storage::FaultRule::Always(storage::Op::kPut, IoError("crash"));
    rule.key_prefix = prefix;
    d.faults->AddRule(rule);
    auto r = Copy(*src_.repo, *d.repo, {h.id});
    ASSERT_FALSE(r.ok()) << prefix;
    EXPECT_NE(r.status().message().find("copying snapshot " + h.id.str()), std::string::npos)
        << r.status().ToString();
    d.faults->ClearRules();
    EXPECT_EQ(testing::CountObjects(*d.mem, "snapshots/"), 0u);
    ExpectChecksClean(*d.repo, /*allow_warnings=*/true);  // unindexed packs are warnings
  }
  auto r = Copy(*src_.repo, *d.repo, {h.id});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->copied, 1u);
  // What the second attempt indexed is reused, not sent again.
  EXPECT_EQ(r->snapshots[0].chunks_sent, 0u);
  EXPECT_EQ(ReadSnapshot(*d.repo, h.id), s.data());
  ExpectChecksClean(*d.repo, /*allow_warnings=*/true);
}

TEST_P(CopyTest, UnknownSnapshotCopiesNothing) {
  BufferSource s("/dev/sdb", Image(6));
  SnapshotHeader h = Backup(s);
  Dest d = MakeDest(*src_.repo, GetParam());
  auto missing = SnapshotId::Parse("snap-00000000000000001");
  ASSERT_TRUE(missing.ok());
  auto r = Copy(*src_.repo, *d.repo, {h.id, *missing});
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("snap-00000000000000001"), std::string::npos);
  EXPECT_EQ(testing::CountObjects(*d.mem, "snapshots/"), 0u);
}

INSTANTIATE_TEST_SUITE_P(Paths, CopyTest,
                         ::testing::Values(Kind::kSameParams, Kind::kOtherKey,
                                           Kind::kOtherBlockSize),
                         [](const auto& info) {
                           switch (info.param) {
                             case Kind::kSameParams:
                               return std::string("Fast");
                             case Kind::kOtherKey:
                               return std::string("Rekey");
                             case Kind::kOtherBlockSize:
                               return std::string("OtherBlockSize");
                           }
                           return std::string();
                         });

TEST(CopyUnencryptedTest, UnencryptedRepositoriesShareIdsAndTakeTheFastPath) {
  testing::TestRepo from = testing::MakeTestRepo(/*encrypted=*/false);
  testing::TestRepo to = testing::MakeTestRepo(/*encrypted=*/false);
  BufferSource s("/dev/plain", Image(7));
  auto h = CreateSnapshot(*from.repo, s, BackupOptions{});
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  auto r = Copy(*from.repo, *to.repo, {h->snapshot.id});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->snapshots[0].fast);
  EXPECT_EQ(ReadSnapshot(*to.repo, h->snapshot.id), s.data());
  ExpectChecksClean(*to.repo);
}

TEST(SharesChunkIdsTest, NeedsBlockSizeAndIdKey) {
  testing::TestRepo a = testing::MakeTestRepo();
  EXPECT_TRUE(SharesChunkIds(*a.repo, *MakeDest(*a.repo, Kind::kSameParams).repo));
  EXPECT_FALSE(SharesChunkIds(*a.repo, *MakeDest(*a.repo, Kind::kOtherKey).repo));
  EXPECT_FALSE(SharesChunkIds(*a.repo, *MakeDest(*a.repo, Kind::kOtherBlockSize).repo));
  testing::TestRepo plain1 = testing::MakeTestRepo(/*encrypted=*/false);
  testing::TestRepo plain2 = testing::MakeTestRepo(/*encrypted=*/false);
  EXPECT_TRUE(SharesChunkIds(*plain1.repo, *plain2.repo));
  EXPECT_FALSE(SharesChunkIds(*a.repo, *plain1.repo));
}

}  // namespace
}  // namespace cairn::repo
