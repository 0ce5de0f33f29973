// Daemon::ModifyVolume through the API (POST /v1/volumes/{id}/modify): a real
// daemon in a temp directory, a local repository, the real unix-socket client.
// What is checked: kept and reset values, validation naming the flag, the
// engine's volume.json and the catalog agreeing, an event, and the limits
// surviving a restart.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/log.h"
#include "repo/repository.h"
#include "service/api_client.h"
#include "service/daemon_test_util.h"
#include "service/daemon.h"
#include "storage/local_backend.h"

namespace cairn::service {
namespace {

using nlohmann::json;

class DaemonModifyTest : public testing::DaemonFixture {
 protected:
  void SetUp() override {
    DaemonFixture::SetUp();
    StartDaemon();
  }

  Result<json> Modify(const std::string& id, const json& body) {
    return Call("POST", "/v1/volumes/" + id + "/modify", body);
  }

  // The engine's own record of the volume (volume.json).
  json VolumeJsonFile(const std::string& id) {
    std::ifstream in(dir_ + "/data/volumes/" + id + "/volume.json");
    return json::parse(in, nullptr, /*allow_exceptions=*/false);
  }

};

TEST_F(DaemonModifyTest, ChangesLimitsKeepingWhatIsNotGiven) {
  auto v = Call("POST", "/v1/volumes", {{"size", 64 << 20}});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  const std::string id = (*v)["id"];
  ASSERT_TRUE(Call("POST", "/v1/volumes/" + id + "/attach").ok());

  // Same type: what is not given is kept.
  auto m = Modify(id, {{"iops", 6000}});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)["volume_type"], "gp3");
  EXPECT_EQ((*m)["iops"], 6000);
  EXPECT_EQ((*m)["throughput"], 125);
  EXPECT_EQ((*m)["limits"], "gp3, 6000 IOPS, 125 MiB/s");
  EXPECT_EQ((*m)["state"], "in-use");  // online: still attached
  m = Modify(id, {{"throughput", 250}});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)["iops"], 6000);
  EXPECT_EQ((*m)["throughput"], 250);

  // The engine persisted what the catalog says.
  json file = VolumeJsonFile(id);
  ASSERT_FALSE(file.is_discarded());
  EXPECT_EQ(file["iops"], 6000) << file.dump();
  EXPECT_EQ(file["throughput_mibps"], 250) << file.dump();

  // A new type starts from its defaults: io2 needs --iops.
  auto io2 = Modify(id, {{"volume_type", "io2"}});
  ASSERT_FALSE(io2.ok());
  EXPECT_EQ(io2.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(io2.status().message().find("--iops"), std::string::npos) << io2.status().message();
  m = Modify(id, {{"volume_type", "io2"}, {"iops", 1000}});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)["volume_type"], "io2");
  EXPECT_EQ((*m)["iops"], 1000);
  EXPECT_EQ((*m)["throughput"], 0);
  EXPECT_EQ((*m)["limits"], "io2, 1000 IOPS, 250 MiB/s");

  // Back to gp3: its defaults, not io2's numbers.
  m = Modify(id, {{"volume_type", "gp3"}});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)["iops"], 3000);
  EXPECT_EQ((*m)["throughput"], 125);

  // Flags that do not apply are refused, naming the flag.
  auto bad = Modify(id, {{"volume_type", "st1"}, {"iops", 500}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--iops"), std::string::npos) << bad.status().message();
  bad = Modify(id, {{"iops", 20000}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--iops 20000"), std::string::npos)
      << bad.status().message();
  auto nothing = Modify(id, json::object());
  ASSERT_FALSE(nothing.ok());
  EXPECT_EQ(nothing.status().code(), StatusCode::kInvalidArgument);
  auto unknown = Modify("vol-0123456789abcdef0", {{"iops", 4000}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  // A refused change left the volume as it was.
  auto now = Call("GET", "/v1/volumes/" + id);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ((*now)["limits"], "gp3, 3000 IOPS, 125 MiB/s");

  // Each change is an event.
  auto events = Call("GET", "/v1/events");
  ASSERT_TRUE(events.ok());
  int modified = 0;
  for (const auto& e : (*events)["events"]) {
    if (e["object"] == id && e["message"].get<std::string>().starts_with("modified: ")) {
      ++modified;
    }
  }
  EXPECT_EQ(modified, 4);
}

TEST_F(DaemonModifyTest, NewLimitsSurviveARestart) {
  auto v = Call("POST", "/v1/volumes", {{"size", 16 << 20}});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  const std::string id = (*v)["id"];
  ASSERT_TRUE(Modify(id, {{"volume_type", "standard"}}).ok());
  daemon_.reset();
  StartDaemon();
  auto after = Call("GET", "/v1/volumes/" + id);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ((*after)["volume_type"], "standard");
  EXPECT_EQ((*after)["iops"], 0);
  EXPECT_EQ((*after)["throughput"], 0);
  EXPECT_EQ(VolumeJsonFile(id)["type"], "standard") << VolumeJsonFile(id).dump();
}

}  // namespace
}  // namespace cairn::service
