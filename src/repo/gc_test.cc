#include "repo/gc.h"

#include <set>

#include <gtest/gtest.h>

#include "repo/check.h"
#include "repo/maintenance_test_util.h"

namespace cairn::repo {
namespace {

using namespace std::chrono_literals;
using storage::FaultRule;
using storage::Op;
using testing::kTestBlockSize;

Buffer Blocks(const Buffer& img, size_t first, size_t count) {
  return Buffer(img.begin() + first * kTestBlockSize,
                img.begin() + (first + count) * kTestBlockSize);
}

std::set<PackId> PackIds(Repository& repo) {
  std::set<PackId> ids;
  for (const IndexedPack& p : repo.index().Packs()) ids.insert(p.id);
  return ids;
}

// Three snapshots sharing chunks plus one sharing nothing, each backup in its
// own pack:
//   img1: 20 new blocks                           → pack1
//   img2: img1 blocks 0-4 + 15 new blocks         → pack2
//   img3: img2 blocks 5-14 + 4 new blocks         → pack3
//   img4: 6 new blocks                            → pack4
// Deleting snap1 and snap4 leaves pack1 a quarter used (repack) and pack4
// unused (remove).
struct Fixture {
  testing::FaultRepo t = testing::MakeFaultRepo();
  Buffer img1 = testing::Image(20, 1);
  Buffer img2, img3, img4 = testing::Image(6, 4);
  SnapshotId snap1, snap2, snap3, snap4;
  PackId pack1, pack4;

  Fixture() {
    img2 = Blocks(img1, 0, 5);
    Append(img2, testing::Image(15, 2));
    img3 = Blocks(img2, 5, 10);
    Append(img3, testing::Image(4, 3));
    Repository& repo = *t.repo;
    snap1 = testing::Backup(repo, "/dev/one", img1);
    EXPECT_EQ(PackIds(repo).size(), 1u);
    pack1 = *PackIds(repo).begin();
    snap2 = testing::Backup(repo, "/dev/two", img2);
    snap3 = testing::Backup(repo, "/dev/three", img3);
    std::set<PackId> before = PackIds(repo);
    snap4 = testing::Backup(repo, "/dev/four", img4);
    for (const PackId& id : PackIds(repo)) {
      if (!before.contains(id)) pack4 = id;
    }
    EXPECT_EQ(PackIds(repo).size(), 4u);
  }
  void DeleteTwo() {
    ASSERT_TRUE(t.repo->DeleteSnapshot(snap1).ok());
    ASSERT_TRUE(t.repo->DeleteSnapshot(snap4).ok());
  }
  void ExpectSurvivorsRestore(Repository& repo) {
    testing::ExpectRestores(repo, snap2, img2);
    testing::ExpectRestores(repo, snap3, img3);
  }
  std::unique_ptr<Repository> Reopen() { return testing::ReopenFaultRepo(t); }
  void ExpectCheckClean() {
    CheckOptions options;
    options.read_data = true;
    auto report = CheckRepository(*t.repo, options);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    for (const CheckFinding& f : report->findings) ADD_FAILURE() << f.object << ": " << f.message;
  }
};

GcOptions NoGrace() {
  GcOptions options;
  options.grace = 0s;
  return options;
}

TEST(GcTest, CollectsDeletedSnapshotsAndKeepsTheOthersByteExact) {
  Fixture f;
  f.DeleteTwo();
  const uint64_t stored_before = testing::TotalSize(testing::Objects(*f.t.mem, "packs/"));

  auto r = CollectGarbage(*f.t.repo, NoGrace());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->plan.repack, std::vector<PackId>{f.pack1});
  EXPECT_EQ(r->plan.remove, std::vector<PackId>{f.pack4});
  EXPECT_EQ(r->plan.chunks_used, 5u + 15 + 4);
  EXPECT_EQ(r->plan.chunks_unused, 15u + 6);
  EXPECT_EQ(r->packs_written, 1u);
  EXPECT_EQ(r->packs_removed, 2u);

  const uint64_t stored_after = testing::TotalSize(testing::Objects(*f.t.mem, "packs/"));
  EXPECT_LT(stored_after, stored_before);
  EXPECT_EQ(r->bytes_freed, stored_before - stored_after);
  EXPECT_EQ(testing::Objects(*f.t.mem, "index/").size(), 1u);
  EXPECT_EQ(testing::Objects(*f.t.mem, "locks/").size(), 0u);
  EXPECT_FALSE(testing::Objects(*f.t.mem).contains(PackKey(f.pack1)));

  f.ExpectSurvivorsRestore(*f.t.repo);
  f.ExpectSurvivorsRestore(*f.Reopen());
  f.ExpectCheckClean();

  // Nothing left to collect.
  auto again = CollectGarbage(*f.t.repo, NoGrace());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->packs_removed, 0u);
  EXPECT_EQ(again->packs_written, 0u);
  EXPECT_EQ(again->plan.chunks_unused, 0u);
}

TEST(GcTest, DryRunChangesNothing) {
  Fixture f;
  f.DeleteTwo();
  auto before = testing::Objects(*f.t.mem);
  GcOptions options = NoGrace();
  options.dry_run = true;
  auto r = CollectGarbage(*f.t.repo, options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->plan.repack.size(), 1u);
  EXPECT_EQ(r->plan.remove.size(), 1u);
  EXPECT_GT(r->plan.bytes_freed, 0u);
  EXPECT_EQ(r->packs_removed, 0u);
  EXPECT_EQ(testing::Objects(*f.t.mem), before);
}

TEST(GcTest, GracePeriodKeepsFreshPacks) {
  Fixture f;
  f.DeleteTwo();
  auto before = testing::Objects(*f.t.mem, "packs/");
  auto r = CollectGarbage(*f.t.repo, GcOptions{});  // 1 h
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->plan.kept_young, (std::vector<PackId>{std::min(f.pack1, f.pack4),
                                                     std::max(f.pack1, f.pack4)}));
  EXPECT_EQ(r->packs_removed, 0u);
  EXPECT_EQ(r->packs_written, 0u);
  EXPECT_EQ(testing::Objects(*f.t.mem, "packs/"), before);
  EXPECT_EQ(testing::Objects(*f.t.mem, "index/").size(), 1u);  // consolidated
  f.ExpectSurvivorsRestore(*f.Reopen());
}

TEST(GcTest, RefusesWhenAManifestIsDamaged) {
  Fixture f;
  f.DeleteTwo();
  ASSERT_TRUE(f.t.mem->Corrupt(SnapshotKey(f.snap2), 40).ok());
  auto before = testing::Objects(*f.t.mem);
  auto r = CollectGarbage(*f.t.repo, NoGrace());
  ASSERT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
  EXPECT_NE(r.status().message().find(SnapshotKey(f.snap2)), std::string::npos)
      << r.status().ToString();
  EXPECT_EQ(testing::Objects(*f.t.mem), before);
}

TEST(GcTest, RefusesWhenAnIndexObjectIsDamaged) {
  Fixture f;
  f.DeleteTwo();
  std::string index_key = testing::Objects(*f.t.mem, "index/").begin()->first;
  ASSERT_TRUE(f.t.mem->Corrupt(index_key, 20).ok());
  auto before = testing::Objects(*f.t.mem);
  auto r = CollectGarbage(*f.t.repo, NoGrace());
  ASSERT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
  EXPECT_NE(r.status().message().find("rebuild-index"), std::string::npos);
  EXPECT_NE(r.status().message().find(index_key), std::string::npos);
  EXPECT_EQ(testing::Objects(*f.t.mem), before);
}

TEST(GcTest, RefusesWhileAManifestNamesAnUnindexedChunk) {
  Fixture f;
  f.DeleteTwo();
  for (const auto& [key, size] : testing::Objects(*f.t.mem, "index/")) {
    ASSERT_TRUE(f.t.mem->Remove(key).ok());
  }
  auto before = testing::Objects(*f.t.mem);
  auto r = CollectGarbage(*f.t.repo, NoGrace());  // every pack is now "unindexed"
  ASSERT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
  EXPECT_NE(r.status().message().find("is not in the index"), std::string::npos);
  EXPECT_EQ(testing::Objects(*f.t.mem), before);

  auto rebuilt = RebuildIndex(*f.t.repo);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
  auto collected = CollectGarbage(*f.t.repo, NoGrace());
  ASSERT_TRUE(collected.ok()) << collected.status().ToString();
  EXPECT_EQ(collected->packs_removed, 2u);
  f.ExpectSurvivorsRestore(*f.Reopen());
  f.ExpectCheckClean();
}

TEST(GcTest, CorruptChunkToRepackStopsBeforeRemovingAnything) {
  Fixture f;
  f.DeleteTwo();
  ASSERT_TRUE(f.t.mem->Corrupt(PackKey(f.pack1), 30).ok());  // block 0, used by snap2
  auto before = testing::Objects(*f.t.mem);
  auto r = CollectGarbage(*f.t.repo, NoGrace());
  ASSERT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
  EXPECT_NE(r.status().message().find(PackKey(f.pack1) + " offset 0"), std::string::npos)
      << r.status().ToString();
  EXPECT_EQ(testing::Objects(*f.t.mem), before);
}

// A failure at each write step leaves every surviving snapshot restorable,
// and the next gc finishes the job.
TEST(GcTest, InterruptedGcLeavesARestorableRepository) {
  struct Step {
    const char* name;
    FaultRule rule;
  };
  Status boom = UnavailableError("injected");
  FaultRule index_put = FaultRule::Nth(Op::kPut, 1, boom);
  index_put.key_prefix = "index/";
  FaultRule index_remove = FaultRule::Nth(Op::kRemove, 1, boom);
  index_remove.key_prefix = "index/";
  FaultRule pack_remove = FaultRule::Nth(Op::kRemove, 2, boom);
  pack_remove.key_prefix = "packs/";
  FaultRule pack_put = FaultRule::Nth(Op::kPut, 1, boom);
  pack_put.key_prefix = "packs/";
  for (const Step& step : {Step{"pack put", pack_put}, Step{"index put", index_put},
                           Step{"index remove", index_remove},
                           Step{"pack remove", pack_remove}}) {
    SCOPED_TRACE(step.name);
    Fixture f;
    f.DeleteTwo();
    f.t.faults->AddRule(step.rule);
    auto r = CollectGarbage(*f.t.repo, NoGrace());
    EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
    f.t.faults->ClearRules();
    f.ExpectSurvivorsRestore(*f.Reopen());
    auto finish = CollectGarbage(*f.t.repo, NoGrace());
    ASSERT_TRUE(finish.ok()) << finish.status().ToString();
    EXPECT_EQ(testing::Objects(*f.t.mem, "packs/").size(), 3u);  // pack2, pack3, new
    f.ExpectSurvivorsRestore(*f.Reopen());
    f.ExpectCheckClean();
  }
}

}  // namespace
}  // namespace cairn::repo
