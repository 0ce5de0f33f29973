#include "repo/repository.h"

#include <gtest/gtest.h>

#include "repo/chunk.h"
#include "repo/lock.h"
#include "repo/pack.h"
#include "storage/memory_backend.h"

namespace cairn::repo {
namespace {

const ScryptParams kFast{1024, 8, 1};

// A backend that outlives the Repository owning a wrapper around it, so a
// test can reopen the same objects.
class SharedBackend : public storage::Backend {
 public:
  explicit SharedBackend(storage::MemoryBackend& b) : b_(b) {}
  Status Put(std::string_view k, ByteSpan d) override { return b_.Put(k, d); }
  Result<Buffer> Get(std::string_view k) override { return b_.Get(k); }
  Result<Buffer> GetRange(std::string_view k, uint64_t o, uint64_t l) override {
    ++range_reads;
    return b_.GetRange(k, o, l);
  }
  Result<storage::ObjectInfo> Stat(std::string_view k) override { return b_.Stat(k); }
  Status List(std::string_view p,
              const std::function<Status(const storage::ObjectInfo&)>& fn) override {
    return b_.List(p, fn);
  }
  Status Remove(std::string_view k) override { return b_.Remove(k); }
  std::string Describe() const override { return "mem://test"; }
  inline static std::atomic<int> range_reads{0};

 private:
  storage::MemoryBackend& b_;
};

class RepositoryTest : public ::testing::Test {
 protected:
  std::unique_ptr<storage::Backend> Backend() { return std::make_unique<SharedBackend>(mem_); }
  std::unique_ptr<Repository> InitRepo(bool encrypted = true, std::string pw = "pw1") {
    InitOptions o;
    o.block_size = 64 * 1024;
    o.encrypted = encrypted;
    o.passphrase = std::move(pw);
    o.scrypt = kFast;
    auto r = Repository::Init(Backend(), o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }
  Result<std::unique_ptr<Repository>> OpenRepo(std::string_view pw) {
    return Repository::Open(Backend(), pw);
  }
  // Stores one chunk in a pack and index, and a snapshot naming it.
  SnapshotId Backup(Repository& repo, std::string_view content, std::string created) {
    Buffer p = ToBuffer(content);
    ChunkId id = repo.cipher().ComputeChunkId(p);
    PackWriter w;
    w.Add(id, EncodeChunk(repo.cipher(), p), static_cast<uint32_t>(p.size()));
    PackWriter::Finished f = w.Finish(repo.cipher());
    EXPECT_TRUE(repo.backend().Put(PackKey(f.id), f.data).ok());
    IndexObject io;
    io.packs.push_back({f.id, f.data.size(), f.entries});
    Buffer idx = EncodeIndexObject(repo.cipher(), io);
    EXPECT_TRUE(repo.backend().Put(IndexKey(IndexId{Sha256(idx)}), idx).ok());
    Manifest m;
    m.header.id = SnapshotId::Generate();
    m.header.source = "/dev/test";
    m.header.size = p.size();
    m.header.created = created;
    m.header.completed = created;
    m.blocks = {id};
    EXPECT_TRUE(repo.SaveManifest(m).ok());
    return m.header.id;
  }

  storage::MemoryBackend mem_;
};

TEST_F(RepositoryTest, InitThenOpen) {
  auto repo = InitRepo();
  ASSERT_NE(repo, nullptr);
  EXPECT_TRUE(repo->config().encrypted);
  EXPECT_EQ(repo->config().block_size, 64u * 1024);
  EXPECT_EQ(repo->config().id.size(), 32u);
  auto opened = OpenRepo("pw1");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ((*opened)->config().id, repo->config().id);
  Buffer p = ToBuffer("same key");
  EXPECT_EQ((*opened)->cipher().ComputeChunkId(p), repo->cipher().ComputeChunkId(p));
}

TEST_F(RepositoryTest, InitRefusesExistingAndBadOptions) {
  ASSERT_NE(InitRepo(), nullptr);
  InitOptions o;
  o.passphrase = "x";
  o.scrypt = kFast;
  auto again = Repository::Init(Backend(), o);
  ASSERT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(again.status().message(), "a repository already exists at mem://test");
  storage::MemoryBackend other;
  o.passphrase = "";
  EXPECT_EQ(Repository::Init(std::make_unique<SharedBackend>(other), o).status().code(),
            StatusCode::kInvalidArgument);
  o.passphrase = "x";
  o.block_size = 1000;
  EXPECT_EQ(Repository::Init(std::make_unique<SharedBackend>(other), o).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(other.object_count(), 0u);
}

TEST_F(RepositoryTest, OpenErrors) {
  auto missing = OpenRepo("pw");
  ASSERT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("cairn repo init"), std::string::npos);
  ASSERT_NE(InitRepo(), nullptr);
  auto wrong = OpenRepo("not it");
  ASSERT_EQ(wrong.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(wrong.status().message(),
            "wrong passphrase: none of the 1 keys in mem://test opens with it");
}

TEST_F(RepositoryTest, TwoKeysOpenTheSameRepository) {
  auto repo = InitRepo();
  Result<std::string> k2 = repo->AddKey("second", kFast);
  ASSERT_TRUE(k2.ok()) << k2.status().ToString();
  SnapshotId snap = Backup(*repo, "data", "2026-01-01T00:00:00Z");
  for (std::string_view pw : {"pw1", "second"}) {
    auto r = OpenRepo(pw);
    ASSERT_TRUE(r.ok()) << pw << ": " << r.status().ToString();
    EXPECT_TRUE((*r)->LoadManifest(snap).ok());
  }
  auto keys = repo->ListKeys();
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ(std::count_if(keys->begin(), keys->end(), [](const KeyInfo& k) { return k.current; }),
            1);
}

TEST_F(RepositoryTest, RemoveKeyRules) {
  auto repo = InitRepo();
  auto keys = repo->ListKeys();
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  const std::string first = keys->at(0).id;
  EXPECT_EQ(repo->RemoveKey(first).code(), StatusCode::kFailedPrecondition);  // current + last
  std::string second = repo->AddKey("second", kFast).value();
  EXPECT_EQ(repo->RemoveKey(first).code(), StatusCode::kFailedPrecondition);  // current
  EXPECT_EQ(repo->RemoveKey("ffffffffffffffff").code(), StatusCode::kNotFound);
  auto via_second = OpenRepo("second");
  ASSERT_TRUE(via_second.ok());
  ASSERT_TRUE((*via_second)->RemoveKey(first).ok());
  EXPECT_EQ(OpenRepo("pw1").status().code(), StatusCode::kUnauthenticated);
  // Only `second` is left: it is both current and last.
  Status last = (*via_second)->RemoveKey(second);
  EXPECT_EQ(last.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(OpenRepo("second").ok());
}

TEST_F(RepositoryTest, RemoveKeyLastEvenIfNotCurrent) {
  auto repo = InitRepo();
  const std::string first = repo->ListKeys()->at(0).id;
  std::string second = repo->AddKey("second", kFast).value();
  ASSERT_TRUE(mem_.Remove("keys/" + first).ok());  // someone else removed ours
  EXPECT_EQ(repo->RemoveKey(second).code(), StatusCode::kFailedPrecondition);
}

TEST_F(RepositoryTest, RemoveKeyNeedsExclusiveLock) {
  auto repo = InitRepo();
  const std::string first = repo->ListKeys()->at(0).id;
  ASSERT_TRUE(repo->AddKey("second", kFast).ok());
  auto shared = RepoLock::Acquire(repo->backend(), {.operation = "backup"});
  ASSERT_TRUE(shared.ok());
  auto via_second = OpenRepo("second");
  EXPECT_EQ((*via_second)->RemoveKey(first).code(), StatusCode::kAborted);
}

TEST_F(RepositoryTest, ChangePassphrase) {
  auto repo = InitRepo();
  ASSERT_TRUE(repo->ChangePassphrase("new", kFast).ok());
  EXPECT_EQ(OpenRepo("pw1").status().code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(OpenRepo("new").ok());
  auto keys = repo->ListKeys();
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_TRUE(keys->at(0).current);
}

TEST_F(RepositoryTest, SnapshotsListLoadDelete) {
  auto repo = InitRepo();
  SnapshotId later = Backup(*repo, "two", "2026-02-01T00:00:00Z");
  SnapshotId earlier = Backup(*repo, "one", "2026-01-01T00:00:00Z");
  ASSERT_TRUE(repo->LoadIndex().ok());
  EXPECT_EQ(repo->index().chunk_count(), 2u);
  EXPECT_TRUE(repo->LoadIndex().ok());  // reload, not doubled
  EXPECT_EQ(repo->index().pack_count(), 2u);

  auto list = repo->ListSnapshots();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->snapshots.size(), 2u);
  EXPECT_EQ(list->snapshots[0].id, earlier);
  EXPECT_EQ(list->snapshots[1].id, later);
  EXPECT_TRUE(list->damaged.empty());

  auto m = repo->LoadManifest(earlier);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto loc = repo->index().Lookup(m->blocks[0]);
  ASSERT_TRUE(loc.has_value());
  Buffer pack = repo->backend().Get(PackKey(loc->pack)).value();
  auto plain = DecodeChunk(repo->cipher(), m->blocks[0],
                           ByteSpan(pack).subspan(loc->offset, loc->length), loc->raw_length);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(AsStringView(*plain), "one");
  EXPECT_EQ(repo->LoadSnapshotHeader(later)->size, 3u);

  ASSERT_TRUE(repo->DeleteSnapshot(earlier).ok());
  auto gone = repo->LoadManifest(earlier);
  ASSERT_EQ(gone.status().code(), StatusCode::kNotFound);
  EXPECT_NE(gone.status().message().find(earlier.str()), std::string::npos);
  EXPECT_EQ(repo->DeleteSnapshot(earlier).code(), StatusCode::kNotFound);
  EXPECT_EQ(repo->ListSnapshots()->snapshots.size(), 1u);
}

TEST_F(RepositoryTest, ListSnapshotsReportsDamaged) {
  auto repo = InitRepo();
  SnapshotId good = Backup(*repo, "good", "2026-01-01T00:00:00Z");
  SnapshotId bad = Backup(*repo, "bad", "2026-01-02T00:00:00Z");
  ASSERT_TRUE(mem_.Corrupt(SnapshotKey(bad), 30).ok());
  ASSERT_TRUE(mem_.Put("snapshots/garbage", ToBuffer("x")).ok());
  auto list = repo->ListSnapshots();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->snapshots.size(), 1u);
  EXPECT_EQ(list->snapshots[0].id, good);
  ASSERT_EQ(list->damaged.size(), 2u);
  EXPECT_EQ(repo->LoadManifest(bad).status().code(), StatusCode::kCorruption);
}

TEST_F(RepositoryTest, ListSnapshotsReadsPrefixesOnly) {
  auto repo = InitRepo();
  SnapshotId id = Backup(*repo, "x", "2026-01-01T00:00:00Z");
  // A large header (many tags) still lists, via the whole-object fallback.
  Manifest m;
  m.header.id = SnapshotId::Generate();
  for (int i = 0; i < 4000; ++i) m.header.tags["tag" + std::to_string(i)] = std::string(20, 'v');
  ASSERT_TRUE(repo->SaveManifest(m).ok());
  SharedBackend::range_reads = 0;
  auto list = repo->ListSnapshots();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->snapshots.size(), 2u)
      << (list->damaged.empty() ? "" : list->damaged[0].second.ToString());
  EXPECT_EQ(SharedBackend::range_reads, 2);
  EXPECT_EQ(repo->LoadSnapshotHeader(m.header.id)->tags.size(), 4000u);
  (void)id;
}

TEST_F(RepositoryTest, SaveManifestValidates) {
  auto repo = InitRepo();
  Manifest m;
  m.header.id = SnapshotId::Generate();
  m.header.size = 10;  // needs one block, has none
  EXPECT_EQ(repo->SaveManifest(m).code(), StatusCode::kInvalidArgument);
  m.blocks.resize(1);
  m.header.block_size = 128 * 1024;
  EXPECT_EQ(repo->SaveManifest(m).code(), StatusCode::kInvalidArgument);
}

TEST_F(RepositoryTest, UnencryptedRoundTrip) {
  auto repo = InitRepo(false, "");
  ASSERT_NE(repo, nullptr);
  EXPECT_FALSE(repo->cipher().encrypted());
  SnapshotId snap = Backup(*repo, "plain data", "2026-01-01T00:00:00Z");
  auto opened = OpenRepo("anything");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  ASSERT_TRUE((*opened)->LoadIndex().ok());
  auto m = (*opened)->LoadManifest(snap);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->blocks[0].bytes, Sha256(ToBuffer("plain data")));
  EXPECT_TRUE((*opened)->index().Contains(m->blocks[0]));
  EXPECT_EQ((*opened)->ListKeys().status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ((*opened)->AddKey("x", kFast).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(RepositoryTest, UnencryptedConfigWithKeysIsRefused) {
  auto repo = InitRepo();
  RepoConfig forged = repo->config();
  forged.encrypted = false;
  ASSERT_TRUE(mem_.Put("config", AsBytes(forged.ToJson())).ok());
  EXPECT_EQ(OpenRepo("pw1").status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace cairn::repo
