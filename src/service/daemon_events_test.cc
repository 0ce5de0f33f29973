// The event log's retention through the daemon's API: a real Daemon with a
// small --events-keep, restarted so its start-up prune runs, read with
// GET /v1/events (first_seq) and GET /v1/daemon (the settings).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "service/daemon.h"
#include "service/daemon_test_util.h"

namespace cairn::service {
namespace {

using nlohmann::json;

class DaemonEventsTest : public testing::DaemonFixture {
 protected:
  void StartWith(int64_t keep) {
    DaemonOptions o = Options();
    o.event_retention.keep_events = keep;
    auto d = Daemon::Start(o, OpenRepo());
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    daemon_ = std::move(d).value();
  }
};

TEST_F(DaemonEventsTest, RestartPrunesToTheNewestAndTheReplySaysWhereTheLogBegins) {
  StartWith(3);
  auto settings = Call("GET", "/v1/daemon");
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ((*settings)["events_keep"], 3);
  EXPECT_EQ((*settings)["events_keep_days"], 90);

  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Call("POST", "/v1/volumes", {{"size", 64 << 20}}).ok());
  }
  auto before = Call("GET", "/v1/events");
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ((*before)["first_seq"], 1);  // nothing pruned while running: < 1000 inserts
  const size_t count = (*before)["events"].size();
  ASSERT_GT(count, 3u);
  const int64_t last = (*before)["events"].back()["seq"];

  daemon_.reset();  // records "stopped cleanly" as seq last + 1
  StartWith(3);     // prunes at start: keeps last - 1, last, last + 1
  auto after = Call("GET", "/v1/events?after=1");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ((*after)["first_seq"], last - 1);
  const json& events = (*after)["events"];
  ASSERT_GE(events.size(), 4u);  // the 3 kept, then this start's own events
  EXPECT_EQ(events[0]["seq"], last - 1);
  EXPECT_EQ(events[2]["message"], "stopped cleanly");
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_EQ(events[i]["seq"].get<int64_t>(), events[i - 1]["seq"].get<int64_t>() + 1);
  }
  // New events carry on from the old numbering.
  EXPECT_EQ(events[3]["seq"], last + 2);

  // A reader that is up to date sees no cut.
  auto tail = Call("GET", "/v1/events?after=" + std::to_string(last));
  ASSERT_TRUE(tail.ok());
  EXPECT_LE((*tail)["first_seq"].get<int64_t>(), last + 1);
}

}  // namespace
}  // namespace cairn::service
