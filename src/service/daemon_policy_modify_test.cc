// Changing a policy after it was made, through the API (POST
// /v1/policies/{id}/modify, …/enable, …/disable): a real daemon, a real
// local repository, the real scheduler. What is checked: disable stops the
// scheduled runs (a requested one still runs), enable resumes them from now
// without a burst, a changed keep rule decides what the next run keeps
// (exact snapshots), a new schedule applies at once, bad input is refused
// naming the field and changes nothing, unknown policies are 404, the
// changes survive a restart; and, with the scheduler alone and a run held
// open, that a modify during a run neither changes that run nor is undone
// by it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "core/units.h"
#include "service/daemon_policy_test_util.h"
#include "service/event_log.h"
#include "service/policy_change.h"
#include "service/policy_scheduler.h"

namespace cairn::service {
namespace {

using nlohmann::json;
using Clock = std::chrono::system_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

class DaemonPolicyModifyTest : public testing::PolicyFixture {
 protected:
  std::string NewPolicy(const json& body) {
    auto p = Call("POST", "/v1/policies", body);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? (*p)["id"].get<std::string>() : "";
  }

  json Get(const std::string& id) {
    auto p = Call("GET", "/v1/policies/" + id);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? *p : json();
  }

  // The messages of the policy's events, oldest first.
  std::vector<std::string> Events(const std::string& id) {
    std::vector<std::string> out;
    auto events = Call("GET", "/v1/events?limit=1000&object=" + id);
    EXPECT_TRUE(events.ok()) << events.status().ToString();
    if (!events.ok()) return out;
    for (const auto& e : (*events)["events"]) out.push_back(e["message"].get<std::string>());
    return out;
  }

  int CountEvents(const std::string& id, const std::string& prefix) {
    int n = 0;
    for (const auto& m : Events(id)) n += m.starts_with(prefix) ? 1 : 0;
    return n;
  }

  static Clock::time_point Time(const json& text) {
    auto t = ParseTimeUtc(text.is_string() ? text.get<std::string>() : "");
    EXPECT_TRUE(t.ok()) << text.dump();
    return t.ok() ? *t : Clock::time_point{};
  }

  json Settled(const std::string& id) {
    return WaitFor(
        "/v1/policies/" + id, [](const json& p) { return !p["running"]; }, 30);
  }
};

TEST_F(DaemonPolicyModifyTest, DisableStopsScheduledRunsAndEnableResumesWithoutABurst) {
  NewVolume({{"env", "prod"}});
  const std::string id =
      NewPolicy({{"tags", {{"env", "prod"}}}, {"every", "2s"}, {"keep", {{"last", 2}}}});
  WaitRuns(id, 1);

  auto off = Call("POST", "/v1/policies/" + id + "/disable");
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_EQ((*off)["enabled"], false);
  EXPECT_TRUE((*off)["next_run"].is_null()) << off->dump();
  const uint64_t runs = Settled(id)["runs"];  // a run in progress at the disable ends
  std::this_thread::sleep_for(seconds(5));    // two and a half periods
  json p = Get(id);
  EXPECT_EQ(p["runs"], runs) << "a scheduled run came while disabled: " << p.dump();
  EXPECT_EQ(p["enabled"], false);
  EXPECT_TRUE(p["next_run"].is_null());

  // Idempotent, and said once.
  auto again = Call("POST", "/v1/policies/" + id + "/disable");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)["enabled"], false);
  EXPECT_EQ(CountEvents(id, "policy disabled"), 1);

  // Asked for, it still runs.
  ASSERT_TRUE(Call("POST", "/v1/policies/" + id + "/run").ok());
  p = WaitRuns(id, runs + 1);
  EXPECT_EQ(p["last_run"]["result"], "ok") << p.dump();
  EXPECT_TRUE(p["next_run"].is_null()) << p.dump();

  // Enabled: the next run is one period from now; the runs missed while
  // disabled are not made up for.
  const auto before = Clock::now();
  auto on = Call("POST", "/v1/policies/" + id + "/enable");
  const auto after = Clock::now();
  ASSERT_TRUE(on.ok()) << on.status().ToString();
  EXPECT_EQ((*on)["enabled"], true);
  const auto next = Time((*on)["next_run"]);
  EXPECT_GE(next, before + milliseconds(1990)) << on->dump();
  EXPECT_LE(next, after + seconds(2)) << on->dump();
  std::this_thread::sleep_for(seconds(1));
  EXPECT_EQ(Get(id)["runs"], runs + 1) << "enable ran the policy at once";
  p = WaitRuns(id, runs + 2, 15);
  EXPECT_GE(Time(p["last_run"]["started"]), before + milliseconds(1990)) << p.dump();
  ASSERT_TRUE(Call("POST", "/v1/policies/" + id + "/enable").ok());
  EXPECT_EQ(CountEvents(id, "policy enabled: next run "), 1);
}

TEST_F(DaemonPolicyModifyTest, AChangedKeepRuleDecidesWhatTheNextRunKeeps) {
  const std::string vol = NewVolume();
  const std::string id = NewPolicy(
      {{"volume_ids", {vol}}, {"every", "1h"}, {"enabled", false}, {"keep", {{"last", 3}}}});
  std::set<std::string> taken;
  for (uint64_t n = 1; n <= 3; ++n) {
    ASSERT_TRUE(Call("POST", "/v1/policies/" + id + "/run").ok());
    const json done = WaitRuns(id, n);
    ASSERT_EQ(done["last_run"]["result"], "ok") << done.dump();
    taken.insert(done["last_run"]["snapshots"][0].get<std::string>());
    // Runs in different seconds, so "last N" has one answer.
    std::this_thread::sleep_for(milliseconds(1100));
  }
  ASSERT_EQ(PolicySnapshotIds(*OpenRepo(), id), taken);

  auto m = Call("POST", "/v1/policies/" + id + "/modify", {{"keep", {{"last", 1}}}});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)["keep_text"], "last 1");
  EXPECT_EQ((*m)["changes"], "keep last 3 → last 1");
  EXPECT_EQ(CountEvents(id, "policy modified: keep last 3 → last 1"), 1);
  // Nothing is removed until the next run.
  EXPECT_EQ(PolicySnapshotIds(*OpenRepo(), id), taken);

  ASSERT_TRUE(Call("POST", "/v1/policies/" + id + "/run").ok());
  const json done = WaitRuns(id, 4);
  ASSERT_EQ(done["last_run"]["result"], "ok") << done.dump();
  const std::string newest = done["last_run"]["snapshots"][0];
  EXPECT_EQ(PolicySnapshotIds(*OpenRepo(), id), std::set<std::string>{newest});
  std::set<std::string> removed;
  for (const auto& s : done["last_run"]["removed"]) removed.insert(s.get<std::string>());
  EXPECT_EQ(removed, taken);

  // Rules change one by one: 0 drops one, the others stay.
  m = Call("POST", "/v1/policies/" + id + "/modify", {{"keep", {{"last", 0}, {"daily", 7}}}});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)["changes"], "keep last 1 → daily 7");
  m = Call("POST", "/v1/policies/" + id + "/modify", {{"keep", {{"weekly", 2}}}});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)["keep_text"], "daily 7, weekly 2");
}

TEST_F(DaemonPolicyModifyTest, ANewScheduleAppliesAtOnce) {
  NewVolume({{"env", "prod"}});
  const std::string id =
      NewPolicy({{"tags", {{"env", "prod"}}}, {"every", "1h"}, {"keep", {{"last", 2}}}});
  EXPECT_GE(Time(Get(id)["next_run"]), Clock::now() + std::chrono::minutes(59));

  const auto before = Clock::now();
  auto m = Call("POST", "/v1/policies/" + id + "/modify", {{"every", "2s"}});
  const auto after = Clock::now();
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)["schedule"], "every 2s");
  EXPECT_EQ((*m)["changes"], "schedule every 1h → every 2s");
  const auto next = Time((*m)["next_run"]);
  EXPECT_GE(next, before + milliseconds(1990)) << m->dump();
  EXPECT_LE(next, after + seconds(2)) << m->dump();
  const json done = WaitRuns(id, 1, 15);
  EXPECT_GE(Time(done["last_run"]["started"]), before + milliseconds(1990)) << done.dump();

  m = Call("POST", "/v1/policies/" + id + "/modify", {{"cron", "0 3 * * *"}});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)["schedule"], "cron 0 3 * * *");
  const std::string cron_next = (*m)["next_run"];
  EXPECT_TRUE(cron_next.ends_with("T03:00:00.000Z")) << cron_next;
  EXPECT_GT(Time((*m)["next_run"]), Clock::now());
  EXPECT_EQ(CountEvents(id, "policy modified: schedule every 2s → cron 0 3 * * *"), 1);

  // A disabled policy keeps no next run; enabling computes it.
  ASSERT_TRUE(Call("POST", "/v1/policies/" + id + "/disable").ok());
  m = Call("POST", "/v1/policies/" + id + "/modify", {{"every", "5m"}});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE((*m)["next_run"].is_null()) << m->dump();
  auto on = Call("POST", "/v1/policies/" + id + "/enable");
  ASSERT_TRUE(on.ok());
  EXPECT_GE(Time((*on)["next_run"]), Clock::now() + std::chrono::minutes(4));
}

TEST_F(DaemonPolicyModifyTest, BadInputIsRefusedNamingTheFieldAndChangesNothing) {
  const std::string vol = NewVolume();
  const std::string id = NewPolicy({{"volume_ids", {vol}},
                                    {"every", "1h"},
                                    {"keep", {{"last", 2}}},
                                    {"name", "n"},
                                    {"snapshot_tags", {{"team", "db"}}}});
  const json before = Get(id);
  struct Case {
    json body;
    StatusCode code;
    std::string says;
  };
  const Case cases[] = {
      {json::object(), StatusCode::kInvalidArgument, "nothing to change"},
      {{{"every", "1h"}}, StatusCode::kInvalidArgument, "nothing changes"},
      {{{"keep", {{"last", 2}}}, {"name", "n"}}, StatusCode::kInvalidArgument, "nothing changes"},
      {{{"every", "1h"}, {"cron", "0 3 * * *"}}, StatusCode::kInvalidArgument, "--cron"},
      {{{"every", "0s"}}, StatusCode::kInvalidArgument, "--every"},
      {{{"cron", "0 24 * * *"}}, StatusCode::kInvalidArgument, "hour"},
      {{{"keep", {{"last", 0}}}}, StatusCode::kInvalidArgument, "--keep-"},
      {{{"keep", {{"last", -2}}}}, StatusCode::kInvalidArgument, "--keep-last"},
      {{{"keep", {{"daily", "x"}}}}, StatusCode::kInvalidArgument, "keep.daily"},
      {{{"keep", {{"dayly", 1}}}}, StatusCode::kInvalidArgument, "keep.dayly"},
      {{{"keep", 3}}, StatusCode::kInvalidArgument, "\"keep\""},
      {{{"snapshot_tags", {{"cairn:x", "y"}}}}, StatusCode::kInvalidArgument, "cairn:"},
      {{{"volume_ids", {vol}}}, StatusCode::kInvalidArgument, "volume_ids"},
      {{{"tags", {{"env", "x"}}}}, StatusCode::kInvalidArgument, "--tag"},
      {{{"enabled", false}}, StatusCode::kInvalidArgument, "/disable"},
      {{{"bogus", 1}}, StatusCode::kInvalidArgument, "bogus"},
      {{{"name", 5}}, StatusCode::kInvalidArgument, "\"name\""},
      {{{"copy_to", {{{"url", ""}}}}}, StatusCode::kInvalidArgument, "--copy-to"},
      {{{"copy_to", {{{"url", dir_ + "/nowhere"}}}}}, StatusCode::kNotFound, dir_ + "/nowhere"},
  };
  for (const Case& c : cases) {
    auto r = Call("POST", "/v1/policies/" + id + "/modify", c.body);
    ASSERT_FALSE(r.ok()) << c.body.dump();
    EXPECT_EQ(r.status().code(), c.code) << c.body.dump() << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.says), std::string::npos)
        << c.body.dump() << ": " << r.status().ToString();
  }
  EXPECT_EQ(Get(id), before);
  EXPECT_EQ(CountEvents(id, "policy modified"), 0);
}

TEST_F(DaemonPolicyModifyTest, UnknownPoliciesAreNotFound) {
  const std::string unknown = "pol-00000000000000000";
  for (const std::string verb : {"modify", "enable", "disable"}) {
    auto r = Call("POST", "/v1/policies/" + unknown + "/" + verb, {{"every", "1h"}});
    ASSERT_FALSE(r.ok()) << verb;
    EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << verb << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(unknown), std::string::npos) << r.status().ToString();
    r = Call("POST", "/v1/policies/not-a-policy/" + verb, {{"every", "1h"}});
    ASSERT_FALSE(r.ok()) << verb;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    EXPECT_NE(r.status().message().find("not a policy id"), std::string::npos)
        << r.status().ToString();
  }
}

TEST_F(DaemonPolicyModifyTest, ChangesAndDisabledStateSurviveARestart) {
  const std::string vol = NewVolume();
  const std::string id =
      NewPolicy({{"volume_ids", {vol}}, {"every", "1s"}, {"keep", {{"last", 3}}}, {"name", "a"}});
  WaitRuns(id, 1);
  auto m = Call("POST", "/v1/policies/" + id + "/modify",
                {{"keep", {{"last", 1}}}, {"name", "b"}, {"snapshot_tags", {{"t", "1"}}}});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)["changes"], "name \"a\" → \"b\"; keep last 3 → last 1; snapshot tags none → t=1");
  ASSERT_TRUE(Call("POST", "/v1/policies/" + id + "/disable").ok());
  const uint64_t runs = Settled(id)["runs"];

  daemon_.reset();
  StartDaemon();
  json p = Get(id);
  EXPECT_EQ(p["enabled"], false) << p.dump();
  EXPECT_TRUE(p["next_run"].is_null()) << p.dump();
  EXPECT_EQ(p["keep_text"], "last 1");
  EXPECT_EQ(p["name"], "b");
  EXPECT_EQ(p["snapshot_tags"], json({{"t", "1"}}));
  EXPECT_EQ(p["runs"], runs);
  std::this_thread::sleep_for(milliseconds(2500));
  EXPECT_EQ(Get(id)["runs"], runs) << "a disabled policy ran after the restart";

  ASSERT_TRUE(Call("POST", "/v1/policies/" + id + "/enable").ok());
  p = WaitRuns(id, runs + 1, 15);
  ASSERT_EQ(p["last_run"]["result"], "ok") << p.dump();
  const std::string newest = p["last_run"]["snapshots"][0];
  auto repository = OpenRepo();
  EXPECT_EQ(PolicySnapshotIds(*repository, id), std::set<std::string>{newest});
  auto list = repository->ListSnapshots();
  ASSERT_TRUE(list.ok());
  for (const auto& h : list->snapshots) {
    if (h.id.str() == newest) {
      EXPECT_EQ(h.tags.at("t"), "1");
    }
  }
}

// The scheduler alone, with a run held open: a modify and a disable during
// the run do not change what the run works with, and the run's record does
// not undo them.
TEST(PolicySchedulerModifyTest, ARunInProgressKeepsItsDefinitionAndDoesNotUndoAModify) {
  SetLogLevel(LogLevel::kQuiet);
  std::string dir = ::testing::TempDir() + "cairn-policy-modify.XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  auto catalog = Catalog::Open(dir + "/catalog.db");
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  EventLog events(**catalog);

  PolicyRecord p;
  p.id = NewPolicyId();
  p.created = NowUtc();
  p.definition.volume_ids = {"vol-0123456789abcdef0"};
  p.definition.schedule = "every 1h";
  p.definition.keep.last = 3;
  p.state.next_run = PolicyScheduler::FirstRun(p.definition.schedule, Clock::now());
  ASSERT_TRUE((*catalog)->InsertPolicy(p).ok());

  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::mutex mu;
  std::vector<PolicyDefinition> seen;
  PolicyScheduler scheduler(**catalog, events,
                            [&](const PolicyRecord& r, uint64_t, std::stop_token) {
                              {
                                std::lock_guard lock(mu);
                                seen.push_back(r.definition);
                              }
                              released.wait_for(seconds(30));  // not forever if the test fails
                              PolicyRun run;
                              run.result = "ok";
                              run.message = "held";
                              return run;
                            });
  scheduler.Start();
  scheduler.RequestRun(p.id);
  for (int i = 0; i < 200 && scheduler.Running() != p.id; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ(scheduler.Running(), p.id);

  PolicyChange change;
  change.keep["last"] = 1;
  change.schedule = "every 2h";
  ASSERT_TRUE((*catalog)
                  ->UpdatePolicy(p.id,
                                 [&](PolicyRecord& r) {
                                   r.definition =
                                       ApplyPolicyChange(r.definition, change).definition;
                                   r.state.enabled = false;
                                   r.state.next_run.clear();
                                   return Status::OK();
                                 })
                  .ok());
  release.set_value();
  Result<PolicyRecord> after = NotFoundError("not read yet");
  for (int i = 0; i < 200; ++i) {
    after = (*catalog)->GetPolicy(p.id);
    if (after.ok() && after->state.runs == 1 && scheduler.Running().empty()) break;
    std::this_thread::sleep_for(milliseconds(10));
  }
  scheduler.Stop();
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].keep.last, 3);  // the run's own copy, as it started
    EXPECT_EQ(seen[0].schedule, "every 1h");
  }
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->state.runs, 1u);
  ASSERT_TRUE(after->state.last_run.has_value());
  EXPECT_EQ(after->state.last_run->message, "held");
  EXPECT_EQ(after->definition.keep.last, 1);  // the modify stays
  EXPECT_EQ(after->definition.schedule, "every 2h");
  EXPECT_FALSE(after->state.enabled);  // and so does the disable
  EXPECT_TRUE(after->state.next_run.empty());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cairn::service
