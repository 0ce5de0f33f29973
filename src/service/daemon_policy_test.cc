// Policies through the API (POST/GET/DELETE /v1/policies, …/run): a real
// daemon, a real local repository (and a second, encrypted one as a copy
// target), the real scheduler. What is checked: validation naming the flag,
// runs on schedule keeping exactly what the rules say (the rest in the
// recycle bin), copies with retention in the target, a failing target that
// loses nothing, persistence across a restart, and delete stopping runs.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "repo/recycle_bin.h"
#include "service/daemon_policy_test_util.h"
#include "service/policy.h"

namespace cairn::service {
namespace {

using nlohmann::json;

// The fixture and its helpers: daemon_policy_test_util.h.
class DaemonPolicyTest : public testing::PolicyFixture {};

TEST_F(DaemonPolicyTest, CreateRefusesBadDefinitionsNamingTheFlag) {
  const std::string vol = NewVolume();
  const json keep = {{"last", 2}};
  struct Case {
    json body;
    StatusCode code;
    std::string says;
  };
  const Case cases[] = {
      {{{"every", "1h"}, {"keep", keep}}, StatusCode::kInvalidArgument, "--volume"},
      {{{"volume_ids", {vol}}, {"tags", {{"env", "prod"}}}, {"every", "1h"}, {"keep", keep}},
       StatusCode::kInvalidArgument,
       "not both"},
      {{{"volume_ids", {vol}}, {"keep", keep}}, StatusCode::kInvalidArgument, "--every"},
      {{{"volume_ids", {vol}}, {"every", "1h"}, {"cron", "0 3 * * *"}, {"keep", keep}},
       StatusCode::kInvalidArgument,
       "--cron"},
      {{{"volume_ids", {vol}}, {"cron", "0 24 * * *"}, {"keep", keep}},
       StatusCode::kInvalidArgument,
       "hour"},
      {{{"volume_ids", {vol}}, {"every", "1h"}}, StatusCode::kInvalidArgument, "--keep"},
      {{{"volume_ids", {"vol-00000000000000000"}}, {"every", "1h"}, {"keep", keep}},
       StatusCode::kNotFound,
       "vol-00000000000000000"},
      {{{"volume_ids", {vol}},
        {"every", "1h"},
        {"keep", keep},
        {"copy_to", {{{"url", dir_ + "/nowhere"}}}}},
       StatusCode::kNotFound,
       dir_ + "/nowhere"},
      {{{"volume_ids", {vol}},
        {"every", "1h"},
        {"keep", keep},
        {"snapshot_tags", {{"cairn:policy", "x"}}}},
       StatusCode::kInvalidArgument,
       "cairn:"},
  };
  for (const Case& c : cases) {
    auto r = Call("POST", "/v1/policies", c.body);
    ASSERT_FALSE(r.ok()) << c.body.dump();
    EXPECT_EQ(r.status().code(), c.code) << c.body.dump() << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.says), std::string::npos)
        << c.body.dump() << ": " << r.status().ToString();
  }
  auto list = Call("GET", "/v1/policies");
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE((*list)["policies"].empty());
}

TEST_F(DaemonPolicyTest, RunsOnScheduleAndKeepsWhatTheRulesSay) {
  const std::string a = NewVolume({{"env", "prod"}});
  const std::string b = NewVolume({{"env", "prod"}});
  const std::string other = NewVolume({{"env", "test"}});
  auto p = Call("POST", "/v1/policies",
                {{"name", "fast"},
                 {"tags", {{"env", "prod"}}},
                 {"every", "1s"},
                 {"keep", {{"last", 2}}},
                 {"snapshot_tags", {{"team", "db"}}}});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const std::string id = (*p)["id"];
  EXPECT_EQ((*p)["schedule"], "every 1s");
  EXPECT_FALSE((*p)["next_run"].is_null());

  const json done = WaitRuns(id, 4);
  ASSERT_FALSE(done.is_null());
  EXPECT_EQ(done["failures"], 0) << done.dump();
  EXPECT_EQ(done["last_run"]["result"], "ok") << done.dump();

  auto repository = OpenRepo();
  const auto kept = PolicySnapshots(*repository, id);
  EXPECT_EQ(kept, (std::map<std::string, int>{{a, 2}, {b, 2}}));  // none of `other`
  auto list = repository->ListSnapshots();
  ASSERT_TRUE(list.ok());
  for (const auto& h : list->snapshots) {
    EXPECT_EQ(h.tags.at("team"), "db");
    EXPECT_NE(h.source, other);
  }
  // The rest went into the recycle bin, not away.
  auto bin = repo::ListRecycleBin(*repository);
  ASSERT_TRUE(bin.ok());
  EXPECT_GE(bin->entries.size(), 4u);

  auto events = Call("GET", "/v1/events?limit=10000");
  ASSERT_TRUE(events.ok());
  std::set<std::string> messages;
  for (const auto& e : (*events)["events"]) {
    if (e["object"] == id) messages.insert(e["message"].get<std::string>().substr(0, 8));
  }
  EXPECT_TRUE(messages.count("run 1 st")) << events->dump();
  EXPECT_TRUE(messages.count("run 1 ok")) << events->dump();
}

TEST_F(DaemonPolicyTest, CopiesWhatItKeepsAndAppliesRetentionThere) {
  const std::string vol = NewVolume();
  const std::string dr = MakeCopyTarget();
  auto p = Call("POST", "/v1/policies",
                {{"volume_ids", {vol}},
                 {"every", "1h"},
                 {"enabled", false},
                 {"keep", {{"last", 2}}},
                 {"copy_to", {{{"url", dr}, {"password_file", dir_ + "/dr.pass"}}}}});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const std::string id = (*p)["id"];
  EXPECT_TRUE((*p)["next_run"].is_null());  // disabled: runs only when asked
  for (uint64_t n = 1; n <= 3; ++n) {
    ASSERT_TRUE(Call("POST", "/v1/policies/" + id + "/run").ok());
    const json done = WaitRuns(id, n);
    ASSERT_EQ(done["last_run"]["result"], "ok") << done.dump();
    EXPECT_EQ(done["last_run"]["copied"], 1) << done.dump();
    // The run's own snapshot is never what its retention removes, even when
    // it shares its (whole-second) created time with the one before.
    ASSERT_EQ(done["last_run"]["snapshots"].size(), 1u);
    const std::string taken = done["last_run"]["snapshots"][0];
    EXPECT_TRUE(PolicySnapshotIds(*OpenRepo(), id).count(taken)) << done.dump();
    EXPECT_TRUE(PolicySnapshotIds(*OpenCopyTarget(), id).count(taken)) << done.dump();
    // The next run in another second, so "keep last 2" has one answer.
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  }
  auto target = OpenCopyTarget();
  EXPECT_EQ(PolicySnapshots(*target, id), (std::map<std::string, int>{{vol, 2}}));
  auto repository = OpenRepo();
  EXPECT_EQ(PolicySnapshots(*repository, id), (std::map<std::string, int>{{vol, 2}}));
}

TEST_F(DaemonPolicyTest, AFailingCopyTargetFailsTheRunAndLosesNothing) {
  const std::string vol = NewVolume();
  const std::string dr = MakeCopyTarget();
  auto p = Call("POST", "/v1/policies",
                {{"volume_ids", {vol}},
                 {"every", "1h"},
                 {"enabled", false},
                 {"keep", {{"last", 1}}},
                 {"copy_to", {{{"url", dr}, {"password_file", dir_ + "/dr.pass"}}}}});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const std::string id = (*p)["id"];
  std::ofstream(dir_ + "/dr.pass") << "not the passphrase\n";  // changed after create
  ASSERT_TRUE(Call("POST", "/v1/policies/" + id + "/run").ok());
  const json done = WaitRuns(id, 1);
  EXPECT_EQ(done["last_run"]["result"], "failed");
  EXPECT_EQ(done["failures"], 1);
  const std::string message = done["last_run"]["message"];
  EXPECT_NE(message.find("copy target " + dr), std::string::npos) << message;
  EXPECT_NE(message.find("passphrase"), std::string::npos) << message;
  EXPECT_NE(message.find("stay in the primary repository"), std::string::npos) << message;
  // The snapshot of the run is kept in the primary repository.
  ASSERT_EQ(done["last_run"]["snapshots"].size(), 1u);
  auto repository = OpenRepo();
  EXPECT_EQ(PolicySnapshots(*repository, id), (std::map<std::string, int>{{vol, 1}}));
  EXPECT_TRUE(PolicySnapshots(*OpenCopyTarget(), id).empty());
}

TEST_F(DaemonPolicyTest, SurvivesARestartAndDeleteStopsIt) {
  const std::string vol = NewVolume();
  auto p = Call("POST", "/v1/policies",
                {{"volume_ids", {vol}}, {"every", "1s"}, {"keep", {{"last", 3}}}});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const std::string id = (*p)["id"];
  WaitRuns(id, 1);

  daemon_.reset();
  StartDaemon();
  auto again = Call("GET", "/v1/policies/" + id);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  const uint64_t before = (*again)["runs"];
  EXPECT_GE(before, 1u);
  WaitRuns(id, before + 2);

  ASSERT_TRUE(Call("DELETE", "/v1/policies/" + id).ok());
  auto gone = Call("GET", "/v1/policies/" + id);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  // A run in progress at the delete finishes (a 4 MiB volume: well under 2 s).
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const auto kept = PolicySnapshotIds(*OpenRepo(), id);
  EXPECT_EQ(kept.size(), 3u);  // its snapshots stay
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(PolicySnapshotIds(*OpenRepo(), id), kept);  // and no run came after the delete
}

}  // namespace
}  // namespace cairn::service
