#include "repo/retention.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "core/units.h"

namespace cairn::repo {
namespace {

using namespace std::chrono;

SnapshotHeader Snap(int n, const std::string& created, const std::string& source = "/dev/sdb",
                    const std::string& host = "db1", std::map<std::string, std::string> tags = {}) {
  SnapshotHeader h;
  h.id = *SnapshotId::Parse(fmt::format("snap-{:017x}", n));
  h.created = created;
  h.source = source;
  h.host = host;
  h.tags = std::move(tags);
  return h;
}

// One snapshot every 6 hours from 2025-01-01T00:00Z to 2026-12-31T18:00Z
// (2 years, 2920 snapshots), numbered in time order.
std::vector<SnapshotHeader> TwoYears() {
  std::vector<SnapshotHeader> out;
  const sys_days start = 2025y / January / 1;
  const sys_days end = 2027y / January / 1;
  int n = 0;
  for (system_clock::time_point t = start; t < end; t += hours(6)) {
    out.push_back(Snap(++n, FormatTimeUtc(t)));
  }
  return out;
}

// Created times of the kept snapshots, newest first.
std::vector<std::string> Kept(const std::vector<RetentionDecision>& decisions) {
  std::vector<std::string> out;
  for (const auto& d : decisions) {
    if (d.keep) out.push_back(d.snapshot.created);
  }
  return out;
}

struct Case {
  std::string name;
  KeepRules rules;
  std::vector<std::string> kept;  // created times, newest first
};

TEST(RetentionTest, TwoYearsOfSnapshotsEachRuleAloneAndCombined) {
  const std::vector<Case> cases = {
      {"nothing", {}, {}},
      {"last 3",
       {.last = 3},
       {"2026-12-31T18:00:00Z", "2026-12-31T12:00:00Z", "2026-12-31T06:00:00Z"}},
      // Snapshots are 6 h apart, so every one is in its own hour.
      {"hourly 2", {.hourly = 2}, {"2026-12-31T18:00:00Z", "2026-12-31T12:00:00Z"}},
      {"daily 3",
       {.daily = 3},
       {"2026-12-31T18:00:00Z", "2026-12-30T18:00:00Z", "2026-12-29T18:00:00Z"}},
      // 2026-12-31 is a Thursday of ISO week 2026-W53; weeks end on Sunday.
      {"weekly 3",
       {.weekly = 3},
       {"2026-12-31T18:00:00Z", "2026-12-27T18:00:00Z", "2026-12-20T18:00:00Z"}},
      {"monthly 3",
       {.monthly = 3},
       {"2026-12-31T18:00:00Z", "2026-11-30T18:00:00Z", "2026-10-31T18:00:00Z"}},
      // Only two years exist: more asked than there are buckets.
      {"yearly 5", {.yearly = 5}, {"2026-12-31T18:00:00Z", "2025-12-31T18:00:00Z"}},
      {"yearly all", {.yearly = -1}, {"2026-12-31T18:00:00Z", "2025-12-31T18:00:00Z"}},
      // The rules overlap: the newest is kept by both, once.
      {"last 2 + daily 3",
       {.last = 2, .daily = 3},
       {"2026-12-31T18:00:00Z", "2026-12-31T12:00:00Z", "2026-12-30T18:00:00Z",
        "2026-12-29T18:00:00Z"}},
      {"daily 2 + monthly 2 + yearly 2",
       {.daily = 2, .monthly = 2, .yearly = 2},
       {"2026-12-31T18:00:00Z", "2026-12-30T18:00:00Z", "2026-11-30T18:00:00Z",
        "2025-12-31T18:00:00Z"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<RetentionDecision> d = ApplyRetention(TwoYears(), c.rules);
    ASSERT_EQ(d.size(), 2920u);
    EXPECT_EQ(Kept(d), c.kept);
    for (const auto& one : d) EXPECT_EQ(one.keep, !one.reasons.empty()) << one.snapshot.created;
  }
}

TEST(RetentionTest, CountsOfKeptSnapshotsOverTwoYears) {
  auto count = [](KeepRules r) { return Kept(ApplyRetention(TwoYears(), r)).size(); };
  EXPECT_EQ(count({.daily = -1}), 730u);  // 365 + 365 days
  EXPECT_EQ(count({.monthly = -1}), 24u);
  EXPECT_EQ(count({.hourly = -1}), 2920u);  // every snapshot in its own hour
  EXPECT_EQ(count({.last = -1}), 2920u);
  // 2025-01-01 is a Wednesday of 2025-W01; 2026 has 53 ISO weeks.
  EXPECT_EQ(count({.weekly = -1}), 52u + 53u);
  EXPECT_EQ(count({.daily = 10, .weekly = 10}), 10u + 8u);  // the newest 2 weeks overlap
}

TEST(RetentionTest, ReasonsNameTheRuleAndTheBucket) {
  std::vector<RetentionDecision> d = ApplyRetention(
      TwoYears(), {.last = 1, .hourly = 1, .daily = 1, .weekly = 1, .monthly = 1, .yearly = 2});
  ASSERT_TRUE(d[0].keep);
  EXPECT_EQ(d[0].reasons,
            (std::vector<std::string>{"last 1", "hourly 2026-12-31T18", "daily 2026-12-31",
                                      "weekly 2026-W53", "monthly 2026-12", "yearly 2026"}));
  EXPECT_FALSE(d[1].keep);
  EXPECT_TRUE(d[1].reasons.empty());
  EXPECT_EQ(d.back().snapshot.created, "2025-01-01T00:00:00Z");  // oldest last
  const RetentionDecision& y2025 = d[4 * 365];                   // 2025-12-31T18
  EXPECT_EQ(y2025.snapshot.created, "2025-12-31T18:00:00Z");
  EXPECT_EQ(y2025.reasons, std::vector<std::string>{"yearly 2025"});
}

TEST(RetentionTest, IsoWeeksCrossTheYearBoundary) {
  // 2025-12-28 is a Sunday (2025-W52); Monday 2025-12-29 starts 2026-W01.
  std::vector<SnapshotHeader> s = {Snap(1, "2025-12-28T10:00:00Z"), Snap(2, "2025-12-29T10:00:00Z"),
                                   Snap(3, "2026-01-01T10:00:00Z")};
  std::vector<RetentionDecision> d = ApplyRetention(s, {.weekly = 2});
  EXPECT_EQ(Kept(d), (std::vector<std::string>{"2026-01-01T10:00:00Z", "2025-12-28T10:00:00Z"}));
  EXPECT_EQ(d[0].reasons, std::vector<std::string>{"weekly 2026-W01"});
  EXPECT_EQ(d[2].reasons, std::vector<std::string>{"weekly 2025-W52"});
}

TEST(RetentionTest, BucketsAreUtcAndMillisecondsOrderWithinASecond) {
  std::vector<SnapshotHeader> s = {Snap(1, "2026-11-30T23:59:59.100Z"),
                                   Snap(2, "2026-11-30T23:59:59.900Z"),
                                   Snap(3, "2026-12-01T00:00:00.000Z")};
  std::vector<RetentionDecision> d = ApplyRetention(s, {.daily = 2});
  EXPECT_EQ(Kept(d),
            (std::vector<std::string>{"2026-12-01T00:00:00.000Z", "2026-11-30T23:59:59.900Z"}));
}

TEST(RetentionTest, TiesOrderByIdAndCountOnce) {
  // Same created time: the larger id counts as newer; one daily bucket.
  std::vector<SnapshotHeader> s = {Snap(7, "2026-11-30T12:00:00Z"), Snap(9, "2026-11-30T12:00:00Z"),
                                   Snap(8, "2026-11-29T12:00:00Z")};
  std::vector<RetentionDecision> d = ApplyRetention(s, {.daily = 5});
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].snapshot.id.str(), "snap-00000000000000009");
  EXPECT_TRUE(d[0].keep);
  EXPECT_EQ(d[1].snapshot.id.str(), "snap-00000000000000007");
  EXPECT_FALSE(d[1].keep);
  EXPECT_TRUE(d[2].keep);
  d = ApplyRetention(s, {.last = 2});
  EXPECT_EQ(d[1].reasons, std::vector<std::string>{"last 2"});
  EXPECT_FALSE(d[2].keep);
}

TEST(RetentionTest, UnreadableCreatedTimeIsKept) {
  std::vector<RetentionDecision> d =
      ApplyRetention({Snap(1, "2026-11-30T12:00:00Z"), Snap(2, "yesterday")}, {.daily = 1});
  ASSERT_EQ(d.size(), 2u);
  // "yesterday" sorts after the digits (newest) and takes no daily bucket.
  EXPECT_EQ(d[0].reasons, std::vector<std::string>{"created time unreadable"});
  EXPECT_EQ(d[1].reasons, std::vector<std::string>{"daily 2026-11-30"});
}

TEST(RetentionTest, GroupsByHostAndSourceAndFiltersByTags) {
  std::vector<SnapshotHeader> s = {
      Snap(1, "2026-11-01T00:00:00Z", "/dev/sdb", "db1", {{"app", "db"}}),
      Snap(2, "2026-11-02T00:00:00Z", "/dev/sdb", "db1", {{"app", "db"}}),
      Snap(3, "2026-11-03T00:00:00Z", "/dev/sdb", "db2", {{"app", "db"}}),
      Snap(4, "2026-11-04T00:00:00Z", "/dev/sdc", "db1", {{"app", "web"}}),
      Snap(5, "2026-11-05T00:00:00Z", "/dev/sdc", "db1", {{"app", "db"}}),
  };
  std::vector<RetentionGroup> g = ApplyRetentionByGroup(s, {.last = 1});
  ASSERT_EQ(g.size(), 3u);
  EXPECT_EQ(g[0].host, "db1");
  EXPECT_EQ(g[0].source, "/dev/sdb");
  EXPECT_EQ(Kept(g[0].decisions), std::vector<std::string>{"2026-11-02T00:00:00Z"});
  EXPECT_EQ(g[0].decisions.size(), 2u);
  EXPECT_EQ(g[1].source, "/dev/sdc");
  EXPECT_EQ(Kept(g[1].decisions), std::vector<std::string>{"2026-11-05T00:00:00Z"});
  EXPECT_EQ(g[2].host, "db2");
  EXPECT_EQ(g[2].decisions.size(), 1u);

  // Only app=web takes part: snapshot 4 alone, in its own group.
  g = ApplyRetentionByGroup(s, {.last = 1}, {{"app", "web"}});
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].decisions.size(), 1u);
  EXPECT_EQ(g[0].decisions[0].snapshot.id.str(), "snap-00000000000000004");
  EXPECT_TRUE(g[0].decisions[0].keep);
  EXPECT_TRUE(ApplyRetentionByGroup(s, {.last = 1}, {{"app", "none"}}).empty());
}

TEST(RetentionTest, RulesDescribeAndValidate) {
  EXPECT_TRUE(KeepRules{}.empty());
  EXPECT_FALSE(KeepRules{.yearly = -1}.empty());
  EXPECT_EQ((KeepRules{.last = 3, .daily = 7, .yearly = -1}).Describe(),
            "last 3, daily 7, yearly all");
  EXPECT_TRUE((KeepRules{.weekly = -1}).Validate().ok());
  Status bad = KeepRules{.monthly = -2}.Validate();
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("--keep-monthly -2"), std::string::npos) << bad.message();
}

}  // namespace
}  // namespace cairn::repo
