#include "cli/policy_text.h"

#include <gtest/gtest.h>

namespace cairn::cli {
namespace {

using nlohmann::json;

json Policy() {
  return json::parse(R"({
    "id": "pol-0123456789abcdef0", "name": "nightly", "description": "",
    "targets": {"volume_ids": [], "tags": {"env": "prod", "tier": "db"}},
    "schedule": "cron 0 3 * * *",
    "keep": {"last": 2, "hourly": 0, "daily": 7, "weekly": 0, "monthly": 0, "yearly": 0},
    "keep_text": "last 2, daily 7",
    "copy_to": [{"url": "s3://dr/repo", "password_file": "/etc/cairn/dr.pass"}],
    "snapshot_tags": {}, "enabled": true, "created": "2026-12-02T01:00:00Z",
    "next_run": "2026-12-03T03:00:00Z", "running": false, "runs": 5, "failures": 1,
    "last_run": {"started": "2026-12-02T03:00:00Z", "finished": "2026-12-02T03:00:04Z",
                 "result": "ok", "message": "", "snapshots": ["snap-1", "snap-2"],
                 "removed": ["snap-0"], "copied": 2}})");
}

TEST(PolicyTextTest, TableRowSummarisesEveryColumn) {
  const std::vector<std::string> row = PolicyTableRow(Policy());
  ASSERT_EQ(row.size(), PolicyTableHeader().size());
  EXPECT_EQ(row, (std::vector<std::string>{
                     "pol-0123456789abcdef0", "nightly", "tags env=prod,tier=db", "cron 0 3 * * *",
                     "last 2, daily 7", "2026-12-03T03:00:00Z", "ok", "5 (1 failed)"}));
}

TEST(PolicyTextTest, TargetsByVolumeId) {
  json p = Policy();
  p["targets"] = {{"volume_ids", {"vol-a", "vol-b"}}, {"tags", json::object()}};
  EXPECT_EQ(PolicyTargetsText(p), "vol-a, vol-b");
  p.erase("targets");
  EXPECT_EQ(PolicyTargetsText(p), "-");
}

TEST(PolicyTextTest, LastRunOkCountsWhatItDid) {
  EXPECT_EQ(LastRunText(Policy()["last_run"]),
            "ok at 2026-12-02T03:00:04Z in 4.0 s: 2 snapshots, 1 removed, copied 2");
  EXPECT_EQ(LastRunText(json()), "-");
}

TEST(PolicyTextTest, LastRunFailedShowsTheMessage) {
  json run = Policy()["last_run"];
  run["result"] = "failed";
  run["message"] = "copy to s3://dr/repo: wrong passphrase";
  EXPECT_EQ(LastRunText(run),
            "failed at 2026-12-02T03:00:04Z in 4.0 s: copy to s3://dr/repo: wrong passphrase");
}

TEST(PolicyTextTest, RunningAndDisabledStates) {
  json p = Policy();
  p["running"] = true;
  EXPECT_EQ(LastResultWord(p), "running");
  p["running"] = false;
  p["last_run"] = nullptr;
  EXPECT_EQ(LastResultWord(p), "-");
  p["enabled"] = false;
  p["next_run"] = nullptr;
  EXPECT_EQ(PolicyTableRow(p)[5], "- (disabled)");
}

TEST(PolicyTextTest, DetailsNameEveryField) {
  const std::string d = PolicyDetails(Policy());
  for (const char* want :
       {"id:                pol-0123456789abcdef0\n", "volumes tagged:    env=prod,tier=db\n",
        "copy to:           s3://dr/repo (password file /etc/cairn/dr.pass)\n",
        "description:       -\n", "runs:              5 (1 failed)\n",
        "  removed:         snap-0\n"}) {
    EXPECT_NE(d.find(want), std::string::npos) << "missing \"" << want << "\" in\n" << d;
  }
}

TEST(PolicyTextTest, PolicyIdCheck) {
  EXPECT_TRUE(CheckPolicyId("pol-0123456789abcdef0", "POLICY").ok());
  for (const char* bad : {"vol-0123", "pol-", "pol-../x", "pol-a?b", ""}) {
    const Status s = CheckPolicyId(bad, "POLICY");
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("POLICY"), std::string::npos) << s.message();
  }
}

}  // namespace
}  // namespace cairn::cli
