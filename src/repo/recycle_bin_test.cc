#include "repo/recycle_bin.h"

#include <gtest/gtest.h>

#include "core/units.h"
#include "repo/check.h"
#include "repo/gc.h"
#include "repo/maintenance_test_util.h"

namespace cairn::repo {
namespace {

using namespace std::chrono_literals;
using testing::kTestBlockSize;

// Deletion "happens" tomorrow at 10:00 UTC: after the packs were written (gc
// compares its `now` with their real modification times), on whole seconds.
const TimePoint kDeletedAt =
    std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()) + 34h;
std::string At(std::chrono::hours after) { return FormatTimeUtc(kDeletedAt + after); }

// Two snapshots sharing nothing, each in its own pack.
struct Fixture {
  testing::FaultRepo t = testing::MakeFaultRepo();
  Buffer img1 = testing::Image(12, 1);
  Buffer img2 = testing::Image(6, 2);
  SnapshotId snap1, snap2;

  Fixture() {
    snap1 = testing::Backup(*t.repo, "/dev/one", img1);
    snap2 = testing::Backup(*t.repo, "/dev/two", img2);
  }
  std::map<std::string, uint64_t> Objects(std::string_view prefix) {
    return testing::Objects(*t.mem, prefix);
  }
  // gc as if run at `now`, with no grace period.
  GcResult Gc(TimePoint now) {
    GcOptions options;
    options.grace = 0s;
    options.now = now;
    auto r = CollectGarbage(*t.repo, options);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : GcResult{};
  }
  void ExpectCheckClean() {
    CheckOptions options;
    options.read_data = true;
    auto report = CheckRepository(*t.repo, options);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    for (const CheckFinding& f : report->findings) ADD_FAILURE() << f.object << ": " << f.message;
  }
};

TEST(RecycleBinTest, DeleteMovesIntoTheBinForThePeriod) {
  Fixture f;
  auto entry = MoveToRecycleBin(*f.t.repo, f.snap1, kDeletedAt);
  ASSERT_TRUE(entry.ok()) << entry.status().ToString();
  EXPECT_EQ(entry->record.deleted, At(0h));
  EXPECT_EQ(entry->record.expires, At(7 * 24h));  // the default 7 days
  EXPECT_EQ(entry->header.source, "/dev/one");

  auto reopened = testing::ReopenFaultRepo(f.t);
  auto live = reopened->ListSnapshots();
  ASSERT_TRUE(live.ok());
  ASSERT_EQ(live->snapshots.size(), 1u);
  EXPECT_EQ(live->snapshots[0].id, f.snap2);
  auto bin = ListRecycleBin(*reopened);
  ASSERT_TRUE(bin.ok()) << bin.status().ToString();
  ASSERT_EQ(bin->entries.size(), 1u);
  EXPECT_EQ(bin->entries[0].header.id, f.snap1);
  EXPECT_EQ(bin->entries[0].record.expires, At(7 * 24h));
  EXPECT_TRUE(bin->damaged.empty());

  // Restore, show, copy read snapshots/ only; the error says how to undelete.
  auto m = reopened->LoadManifest(f.snap1);
  EXPECT_EQ(m.status().code(), StatusCode::kNotFound);
  EXPECT_NE(m.status().message().find("recycle bin"), std::string::npos) << m.status().message();
  EXPECT_NE(m.status().message().find("snapshot undelete " + f.snap1.str()), std::string::npos);
}

TEST(RecycleBinTest, UndeleteWithinThePeriodRestoresByteExactAfterGc) {
  Fixture f;
  const uint64_t packs_before = f.Objects(kPacksPrefix).size();
  ASSERT_TRUE(MoveToRecycleBin(*f.t.repo, f.snap1, kDeletedAt).ok());
  GcResult gc = f.Gc(kDeletedAt + 6 * 24h);  // a day before expiry: data kept
  EXPECT_EQ(gc.plan.bin_kept, 1u);
  EXPECT_TRUE(gc.plan.bin_expired.empty());
  EXPECT_EQ(f.Objects(kPacksPrefix).size(), packs_before);
  f.ExpectCheckClean();

  auto h = UndeleteSnapshot(*f.t.repo, f.snap1, kDeletedAt + 6 * 24h);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->id, f.snap1);
  EXPECT_TRUE(f.Objects(kDeletedPrefix).empty());
  EXPECT_TRUE(f.Objects(std::string(kLocksPrefix)).empty());  // the lock is released
  auto reopened = testing::ReopenFaultRepo(f.t);
  testing::ExpectRestores(*reopened, f.snap1, f.img1);
  testing::ExpectRestores(*reopened, f.snap2, f.img2);

  // Not in the bin any more.
  auto again = UndeleteSnapshot(*f.t.repo, f.snap1, kDeletedAt);
  EXPECT_EQ(again.status().code(), StatusCode::kNotFound);
  EXPECT_NE(again.status().message().find(f.snap1.str()), std::string::npos);
}

TEST(RecycleBinTest, AfterThePeriodGcRemovesTheDeletedManifestAndItsData) {
  Fixture f;
  const uint64_t bytes_before = testing::TotalSize(f.Objects(kPacksPrefix));
  ASSERT_TRUE(MoveToRecycleBin(*f.t.repo, f.snap1, kDeletedAt).ok());

  // Expired but not yet collected: undelete refuses, naming the date.
  auto late = UndeleteSnapshot(*f.t.repo, f.snap1, kDeletedAt + 7 * 24h);
  EXPECT_EQ(late.status().code(), StatusCode::kNotFound);
  EXPECT_NE(late.status().message().find("expired from the recycle bin on " + At(7 * 24h)),
            std::string::npos)
      << late.status().message();

  GcOptions dry;
  dry.dry_run = true;
  dry.grace = 0s;
  dry.now = kDeletedAt + 8 * 24h;
  auto plan = CollectGarbage(*f.t.repo, dry);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->plan.bin_expired, std::vector<SnapshotId>{f.snap1});
  EXPECT_EQ(f.Objects(kDeletedPrefix).size(), 1u);  // dry run: nothing removed

  GcResult gc = f.Gc(kDeletedAt + 8 * 24h);
  EXPECT_EQ(gc.plan.bin_expired, std::vector<SnapshotId>{f.snap1});
  EXPECT_EQ(gc.plan.bin_kept, 0u);
  EXPECT_TRUE(f.Objects(kDeletedPrefix).empty());
  EXPECT_GT(gc.packs_removed, 0u);
  EXPECT_LT(testing::TotalSize(f.Objects(kPacksPrefix)), bytes_before);
  f.ExpectCheckClean();
  testing::ExpectRestores(*testing::ReopenFaultRepo(f.t), f.snap2, f.img2);

  auto gone = UndeleteSnapshot(*f.t.repo, f.snap1, kDeletedAt + 8 * 24h);
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
}

TEST(RecycleBinTest, ACrashBetweenTheTwoStepsLeavesBothAndTheLiveOneWins) {
  Fixture f;
  // The first step of a move only: deleted/ written, snapshots/ still there.
  auto manifest = f.t.mem->Get(SnapshotKey(f.snap1));
  ASSERT_TRUE(manifest.ok());
  BinRecord record{f.snap1, At(0h), At(7 * 24h), "h"};
  ASSERT_TRUE(
      f.t.mem->Put(DeletedKey(f.snap1), EncodeBinObject(f.t.repo->cipher(), record, *manifest))
          .ok());
  auto bin = ListRecycleBin(*f.t.repo);
  ASSERT_TRUE(bin.ok());
  EXPECT_TRUE(bin->entries.empty());  // live: not shown as deleted
  EXPECT_TRUE(f.t.repo->LoadManifest(f.snap1).ok());
  EXPECT_EQ(f.Gc(kDeletedAt + 24h).plan.bin_kept, 1u);
  testing::ExpectRestores(*f.t.repo, f.snap1, f.img1);

  // Undelete tidies up the stale copy; the snapshot stays.
  ASSERT_TRUE(UndeleteSnapshot(*f.t.repo, f.snap1, kDeletedAt).ok());
  EXPECT_TRUE(f.Objects(kDeletedPrefix).empty());
  testing::ExpectRestores(*f.t.repo, f.snap1, f.img1);
}

TEST(RecycleBinTest, CheckVerifiesBinnedSnapshotsAndGcRefusesADamagedOne) {
  Fixture f;
  ASSERT_TRUE(MoveToRecycleBin(*f.t.repo, f.snap1, kDeletedAt).ok());
  auto report = CheckRepository(*f.t.repo, {});
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->snapshots_checked, 1u);
  EXPECT_EQ(report->binned_checked, 1u);
  EXPECT_TRUE(report->ok());

  // Flip a byte of the sealed record: check names it, gc refuses.
  const std::string key = DeletedKey(f.snap1);
  Buffer data = *f.t.mem->Get(key);
  data[20] ^= std::byte{1};
  ASSERT_TRUE(f.t.mem->Put(key, data).ok());
  report = CheckRepository(*f.t.repo, {});
  ASSERT_TRUE(report.ok());
  ASSERT_FALSE(report->ok());
  bool named = false;
  for (const CheckFinding& finding : report->findings) {
    named = named || (finding.object == key &&
                      finding.message.find("--skip-recycle-bin") != std::string::npos);
  }
  EXPECT_TRUE(named);
  GcOptions options;
  options.now = kDeletedAt;
  auto gc = CollectGarbage(*f.t.repo, options);
  EXPECT_EQ(gc.status().code(), StatusCode::kCorruption);
  EXPECT_NE(gc.status().message().find(key), std::string::npos) << gc.status().message();
  EXPECT_EQ(UndeleteSnapshot(*f.t.repo, f.snap1, kDeletedAt).status().code(),
            StatusCode::kCorruption);

  // Purging it for good lets gc run again.
  ASSERT_TRUE(PurgeFromRecycleBin(*f.t.repo, f.snap1).ok());
  EXPECT_EQ(PurgeFromRecycleBin(*f.t.repo, f.snap1).code(), StatusCode::kNotFound);
  EXPECT_TRUE(CollectGarbage(*f.t.repo, options).ok());
}

TEST(RecycleBinTest, PeriodIsStoredInTheConfigAndChangeable) {
  Fixture f;
  EXPECT_EQ(f.t.repo->config().recycle_days, kDefaultRecycleDays);
  ASSERT_TRUE(f.t.repo->SetRecycleDays(30).ok());
  EXPECT_EQ(testing::ReopenFaultRepo(f.t)->config().recycle_days, 30);
  auto e = MoveToRecycleBin(*f.t.repo, f.snap1, kDeletedAt);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->record.expires, At(30 * 24h));

  EXPECT_EQ(f.t.repo->SetRecycleDays(-1).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(f.t.repo->SetRecycleDays(0).ok());
  EXPECT_EQ(MoveToRecycleBin(*f.t.repo, f.snap2, kDeletedAt).status().code(),
            StatusCode::kInvalidArgument);
  // The bin's entries keep the expiry they got.
  auto bin = ListRecycleBin(*f.t.repo);
  ASSERT_TRUE(bin.ok());
  ASSERT_EQ(bin->entries.size(), 1u);
  EXPECT_EQ(bin->entries[0].record.expires, At(30 * 24h));
}

TEST(RecycleBinTest, ConfigWithoutTheFieldMeansTheDefault) {
  auto c = RepoConfig::FromJson(
      R"({"format":"cairn-repository","version":1,"id":"7f44f82858d0589f9de027e6d34b3a4f",)"
      R"("created":"2026-11-24T11:16:05Z","block_size":65536,"encryption":"aes-256-gcm",)"
      R"("chunk_id":"hmac-sha256","compression":"zstd","pack_size":16777216})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->recycle_days, 7);
  c->recycle_days = 0;
  EXPECT_EQ(RepoConfig::FromJson(c->ToJson())->recycle_days, 0);
  std::string bad = c->ToJson();
  bad.replace(bad.find("\"recycle_days\":0"), 16, "\"recycle_days\":-3");
  EXPECT_EQ(RepoConfig::FromJson(bad).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace cairn::repo
