// The event log's retention on a real catalog (SQLite in a temp dir): events
// are inserted with chosen timestamps and pruned as of a fixed `now`, so no
// test waits for a day or an hour to pass.
#include "service/event_log.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "core/log.h"
#include "core/units.h"

namespace cairn::service {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
using std::chrono::system_clock;

class EventLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetLogLevel(LogLevel::kQuiet);
    char tmpl[] = "/tmp/cairn-event-log-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    catalog_ = Open();
    ASSERT_NE(catalog_, nullptr);
    auto t = ParseTimeUtc("2026-12-01T12:00:00Z");
    ASSERT_TRUE(t.ok());
    now_ = *t;
  }
  void TearDown() override {
    catalog_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<Catalog> Open() {
    auto c = Catalog::Open(dir_ + "/catalog.db");
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  // An event stamped `age` before now_; returns its seq.
  int64_t Add(system_clock::duration age, const std::string& kind = "info") {
    auto seq = catalog_->AddEvent({0, FormatTimeUtc(now_ - age), "daemon", kind, "e"});
    EXPECT_TRUE(seq.ok()) << seq.status().ToString();
    return seq.ok() ? *seq : -1;
  }

  std::vector<int64_t> Seqs() {
    auto list = catalog_->ListEvents({.limit = 1000000});
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    std::vector<int64_t> out;
    if (list.ok()) {
      for (const auto& e : *list) out.push_back(e.seq);
    }
    return out;
  }

  static std::vector<int64_t> Range(int64_t from, int64_t to) {  // [from, to]
    std::vector<int64_t> out;
    for (int64_t s = from; s <= to; ++s) out.push_back(s);
    return out;
  }

  std::string dir_;
  std::unique_ptr<Catalog> catalog_;
  system_clock::time_point now_;
};

TEST_F(EventLogTest, CountLimitKeepsExactlyTheNewest) {
  for (int i = 0; i < 25; ++i) Add(seconds(25 - i));
  EventLog log(*catalog_, {.keep_days = 0, .keep_events = 10});
  auto removed = log.PruneOnce(now_);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, 15);
  EXPECT_EQ(Seqs(), Range(16, 25));
  // Already within the limit: a second prune removes nothing.
  removed = log.PruneOnce(now_);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 0);
  EXPECT_EQ(Seqs(), Range(16, 25));
}

TEST_F(EventLogTest, DayLimitRemovesExactlyTheOlderOnes) {
  Add(hours(24 * 400));              // 1
  Add(hours(24 * 91));               // 2
  Add(hours(24 * 90) + seconds(1));  // 3: one second too old
  Add(hours(24 * 90), "warning");    // 4: exactly 90 days: kept
  Add(hours(24 * 90) - seconds(1));  // 5
  Add(hours(24), "warning");         // 6
  Add(seconds(0));                   // 7
  EventLog log(*catalog_, {.keep_days = 90, .keep_events = 0});
  auto removed = log.PruneOnce(now_);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, 3);
  EXPECT_EQ(Seqs(), Range(4, 7));
}

TEST_F(EventLogTest, WhicheverRuleRemovesMoreWins) {
  // 10 events 100 days old, then 10 of today.
  for (int i = 0; i < 10; ++i) Add(hours(24 * 100));
  for (int i = 0; i < 10; ++i) Add(seconds(10 - i));
  {  // The age rule removes 10, the count rule (15) only 5.
    EventLog log(*catalog_, {.keep_days = 90, .keep_events = 15});
    auto removed = log.PruneOnce(now_);
    ASSERT_TRUE(removed.ok());
    EXPECT_EQ(*removed, 10);
    EXPECT_EQ(Seqs(), Range(11, 20));
  }
  {  // Now the count rule (4) removes more than the age rule (none).
    EventLog log(*catalog_, {.keep_days = 90, .keep_events = 4});
    auto removed = log.PruneOnce(now_);
    ASSERT_TRUE(removed.ok());
    EXPECT_EQ(*removed, 6);
    EXPECT_EQ(Seqs(), Range(17, 20));
  }
}

TEST_F(EventLogTest, ZeroMeansNoLimit) {
  for (int i = 0; i < 5; ++i) Add(hours(24 * 1000));
  EventLog log(*catalog_, {.keep_days = 0, .keep_events = 0});
  auto removed = log.PruneOnce(now_);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 0);
  EXPECT_EQ(Seqs(), Range(1, 5));
}

TEST_F(EventLogTest, AClockThatWentBackNeverRemovesNewerEvents) {
  Add(hours(24 * 200));  // 1: old
  Add(seconds(5));       // 2: recent
  Add(hours(24 * 200));  // 3: stamped old by a clock set back, but newer than 2
  Add(seconds(1));       // 4
  EventLog log(*catalog_, {.keep_days = 90, .keep_events = 0});
  auto removed = log.PruneOnce(now_);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 1);
  EXPECT_EQ(Seqs(), Range(2, 4));  // the kept events stay one run of seqs
}

TEST_F(EventLogTest, SeqKeepsIncreasingAfterEverythingIsRemovedAndAfterReopening) {
  for (int i = 0; i < 6; ++i) Add(hours(24 * 365));
  EventLog log(*catalog_, {.keep_days = 90, .keep_events = 0});
  auto removed = log.PruneOnce(now_);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 6);
  EXPECT_TRUE(Seqs().empty());
  // An empty log begins after the last seq handed out.
  auto page = catalog_->ListEventPage({.after = 0});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_TRUE(page->events.empty());
  EXPECT_EQ(page->first_seq, 7);
  EXPECT_EQ(Add(seconds(0)), 7);
  // The daemon restarts: still never reused.
  catalog_.reset();
  catalog_ = Open();
  ASSERT_NE(catalog_, nullptr);
  EXPECT_EQ(Add(seconds(0)), 8);
}

TEST_F(EventLogTest, PageSaysWhereTheLogBegins) {
  {
    auto page = catalog_->ListEventPage({});
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->first_seq, 1);  // a new log
  }
  for (int i = 0; i < 12; ++i) Add(seconds(12 - i));
  {
    auto page = catalog_->ListEventPage({.after = 3});
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->first_seq, 1);  // nothing removed: no gap after 3
    ASSERT_FALSE(page->events.empty());
    EXPECT_EQ(page->events.front().seq, 4);
  }
  EventLog log(*catalog_, {.keep_days = 0, .keep_events = 5});
  ASSERT_TRUE(log.PruneOnce(now_).ok());
  // A reader that had seen up to 3 gets the oldest kept ones and is told
  // that 4..7 are gone.
  auto page = catalog_->ListEventPage({.after = 3, .limit = 2});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->first_seq, 8);
  ASSERT_EQ(page->events.size(), 2u);
  EXPECT_EQ(page->events[0].seq, 8);
  EXPECT_EQ(page->events[1].seq, 9);
}

TEST_F(EventLogTest, OneDeleteRemovesAtMostTheBatchOldest) {
  for (int i = 0; i < 10; ++i) Add(seconds(10 - i));
  auto first = catalog_->FirstEventToKeep("", 3);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, 8);
  auto n = catalog_->DeleteEventsBefore(*first, 4);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 4);
  EXPECT_EQ(Seqs(), Range(5, 10));
  n = catalog_->DeleteEventsBefore(*first, 4);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 3);
  EXPECT_EQ(Seqs(), Range(8, 10));
  auto none = catalog_->FirstEventToKeep("", 3);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0);  // nothing left to remove
}

TEST_F(EventLogTest, StartPrunesAtOnceAndRecordDoesNotPrune) {
  for (int i = 0; i < 8; ++i) Add(seconds(8 - i));
  // prune_every 0: only the start and the hourly prune; no test waits an hour.
  EventLog log(*catalog_, {.keep_days = 0, .keep_events = 3, .prune_every = 0});
  log.StartPruning();
  EXPECT_EQ(Seqs(), Range(6, 8));
  for (int i = 0; i < 5; ++i) log.Info("daemon", "after start");
  EXPECT_EQ(Seqs(), Range(6, 13));  // inserts alone never prune
  log.StopPruning();
}

TEST_F(EventLogTest, BackgroundPrunerRunsAfterEveryNInserts) {
  EventLog log(*catalog_, {.keep_days = 0, .keep_events = 2, .prune_every = 4});
  log.StartPruning();
  for (int i = 0; i < 4; ++i) log.Info("daemon", "event " + std::to_string(i));
  // The pruner thread was woken by the 4th insert; wait (up to 10 s) for it.
  std::vector<int64_t> seqs;
  for (int i = 0; i < 200; ++i) {
    seqs = Seqs();
    if (seqs.size() <= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(seqs, Range(3, 4));
  log.StopPruning();
}

}  // namespace
}  // namespace cairn::service
