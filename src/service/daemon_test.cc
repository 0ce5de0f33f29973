// The daemon through its API: a real Daemon (catalog in SQLite, volumes in a
// temp directory, an NBD listener on a free loopback port, a local
// repository) and a real ApiClient over the unix socket.
#include "service/daemon.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/log.h"
#include "repo/repository.h"
#include "service/api_client.h"
#include "service/daemon_test_util.h"
#include "service/catalog.h"
#include "storage/local_backend.h"

namespace cairn::service {
namespace {

using nlohmann::json;

class DaemonTest : public testing::DaemonFixture {
 protected:
  void SetUp() override {
    DaemonFixture::SetUp();
    StartDaemon();
  }

  std::string CreateVolume(uint64_t size) {
    auto v = Call("POST", "/v1/volumes", {{"size", size}, {"tags", {{"app", "test"}}}});
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? (*v)["id"].get<std::string>() : "";
  }

  json WaitSnapshot(const std::string& id) {
    return WaitFor("/v1/snapshots/" + id, [](const json& s) { return s["state"] != "pending"; },
                   30);
  }
};

TEST_F(DaemonTest, SecondDaemonOnTheSameDirectoryIsRefusedNamingThePid) {
  auto second = Daemon::Start(Options(), OpenRepo());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kAborted);
  EXPECT_NE(second.status().message().find("pid " + std::to_string(::getpid())), std::string::npos)
      << second.status().message();
  // The first one still answers.
  EXPECT_TRUE(Call("GET", "/v1/daemon").ok());
}

TEST_F(DaemonTest, VolumeLifecycle) {
  const std::string id = CreateVolume(64 << 20);
  ASSERT_FALSE(id.empty());
  auto v = Call("GET", "/v1/volumes/" + id);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ((*v)["state"], "available");
  EXPECT_EQ((*v)["volume_type"], "gp3");
  EXPECT_EQ((*v)["iops"], 3000);
  EXPECT_EQ((*v)["throughput"], 125);
  EXPECT_EQ((*v)["tags"]["app"], "test");
  EXPECT_TRUE((*v)["attachments"].empty());

  auto attached = Call("POST", "/v1/volumes/" + id + "/attach");
  ASSERT_TRUE(attached.ok()) << attached.status().ToString();
  EXPECT_EQ((*attached)["state"], "in-use");
  ASSERT_EQ((*attached)["attachments"].size(), 1u);
  const std::string uri = (*attached)["attachments"][0]["uri"];
  EXPECT_TRUE(uri.starts_with("nbd://127.0.0.1:")) << uri;
  EXPECT_TRUE(uri.ends_with("/" + id)) << uri;

  auto refused = Call("DELETE", "/v1/volumes/" + id);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("detach"), std::string::npos);

  auto grown = Call("POST", "/v1/volumes/" + id + "/resize", {{"size", 128 << 20}});
  ASSERT_TRUE(grown.ok()) << grown.status().ToString();
  EXPECT_EQ((*grown)["size"], 128 << 20);
  auto shrink = Call("POST", "/v1/volumes/" + id + "/resize", {{"size", 64 << 20}});
  EXPECT_EQ(shrink.status().code(), StatusCode::kInvalidArgument);

  auto detached = Call("POST", "/v1/volumes/" + id + "/detach");
  ASSERT_TRUE(detached.ok());
  EXPECT_EQ((*detached)["state"], "available");
  EXPECT_TRUE((*detached)["attachments"].empty());

  ASSERT_TRUE(Call("DELETE", "/v1/volumes/" + id).ok());
  EXPECT_EQ(Call("GET", "/v1/volumes/" + id).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/data/volumes/" + id));

  // Every state change left an event.
  auto events = Call("GET", "/v1/events");
  ASSERT_TRUE(events.ok());
  std::string seen;
  for (const auto& e : (*events)["events"]) {
    if (e["object"] == id && e["kind"] == "state") seen += e["message"].get<std::string>() + ";";
  }
  EXPECT_NE(seen.find("available;in-use;"), std::string::npos) << seen;
  EXPECT_NE(seen.find("deleting;deleted;"), std::string::npos) << seen;
}

TEST_F(DaemonTest, BadRequestsNameWhatIsWrong) {
  auto no_size = Call("POST", "/v1/volumes", json::object());
  EXPECT_EQ(no_size.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_size.status().message().find("size"), std::string::npos);
  auto odd = Call("POST", "/v1/volumes", {{"size", 1000}});
  EXPECT_EQ(odd.status().code(), StatusCode::kInvalidArgument);
  auto type = Call("POST", "/v1/volumes", {{"size", 1 << 20}, {"volume_type", "gp9"}});
  EXPECT_EQ(type.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(type.status().message().find("gp9"), std::string::npos);
  auto io2 = Call("POST", "/v1/volumes", {{"size", 1 << 20}, {"volume_type", "io2"}});
  EXPECT_EQ(io2.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(io2.status().message().find("--iops"), std::string::npos);
  auto bad_id = Call("GET", "/v1/volumes/vol-xyz");
  EXPECT_EQ(bad_id.status().code(), StatusCode::kInvalidArgument);
  auto missing = Call("GET", "/v1/volumes/vol-0123456789abcdef0");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("vol-0123456789abcdef0"), std::string::npos);
  auto snap_missing = Call("POST", "/v1/snapshots", {{"volume_ids", {"vol-0123456789abcdef0"}}});
  EXPECT_EQ(snap_missing.status().code(), StatusCode::kNotFound);
  // Nothing was left behind by the failed creates.
  auto list = Call("GET", "/v1/volumes");
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE((*list)["volumes"].empty()) << list->dump();
}

TEST_F(DaemonTest, SnapshotsCompleteAndTheSecondReadsOnlyChanges) {
  const std::string a = CreateVolume(8 << 20);
  const std::string b = CreateVolume(4 << 20);
  auto created = Call("POST", "/v1/snapshots",
                      {{"volume_ids", {a, b}}, {"description", "both"}, {"tags", {{"k", "v"}}}});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const auto& snaps = (*created)["snapshots"];
  ASSERT_EQ(snaps.size(), 2u);
  EXPECT_EQ(snaps[0]["volume_id"], a);
  EXPECT_EQ(snaps[1]["volume_id"], b);
  EXPECT_EQ(snaps[0]["created"], snaps[1]["created"]) << "one instant for the group";
  EXPECT_FALSE(snaps[0]["group_id"].is_null());
  EXPECT_EQ(snaps[0]["group_id"], snaps[1]["group_id"]);

  for (const auto& s : snaps) {
    json done = WaitSnapshot(s["id"]);
    ASSERT_EQ(done["state"], "completed") << done.dump();
    EXPECT_EQ(done["read_mode"], "full");
    EXPECT_NE(done["read_reason"].get<std::string>().find("first snapshot"), std::string::npos);
  }
  // In the repository, with the id handed out at the instant.
  auto repo = OpenRepo();
  auto header =
      repo->LoadSnapshotHeader(repo::SnapshotId::Parse(snaps[0]["id"].get<std::string>()).value());
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(header->source, a);
  EXPECT_EQ(header->size, 8u << 20);
  EXPECT_EQ(header->created, snaps[0]["created"]);
  EXPECT_EQ(header->description, "both");

  auto v = Call("GET", "/v1/volumes/" + a);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ((*v)["last_snapshot"], snaps[0]["id"]);

  // Nothing written since: the next snapshot reads nothing.
  auto second = Call("POST", "/v1/snapshots", {{"volume_ids", {a}}});
  ASSERT_TRUE(second.ok());
  json done = WaitSnapshot((*second)["snapshots"][0]["id"]);
  ASSERT_EQ(done["state"], "completed") << done.dump();
  EXPECT_EQ(done["read_mode"], "changed");
  EXPECT_EQ(done["parent"], snaps[0]["id"]);
  EXPECT_EQ(done["stats"]["bytes_read"], 0);
}

TEST_F(DaemonTest, StateSurvivesRestartAndPendingSnapshotsAreMarkedError) {
  const std::string id = CreateVolume(16 << 20);
  ASSERT_TRUE(Call("POST", "/v1/volumes/" + id + "/attach").ok());
  daemon_.reset();  // clean stop
  {
    // A snapshot a previous run left pending (as after kill -9 mid-upload).
    auto catalog = Catalog::Open(dir_ + "/data/catalog.db");
    ASSERT_TRUE(catalog.ok());
    SnapshotRecord s;
    s.id = "snap-0000000000000000a";
    s.volume_id = id;
    s.state = kSnapshotPending;
    s.created = "2026-11-24T09:00:00Z";
    ASSERT_TRUE((*catalog)->InsertSnapshots({s}).ok());
  }
  StartDaemon();
  auto s = Call("GET", "/v1/snapshots/snap-0000000000000000a");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)["state"], "error");
  EXPECT_NE((*s)["error"].get<std::string>().find("daemon stopped"), std::string::npos);
  auto v = Call("GET", "/v1/volumes/" + id);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ((*v)["state"], "in-use") << "attachments survive a restart";
  EXPECT_EQ((*v)["attachments"].size(), 1u);
}

}  // namespace
}  // namespace cairn::service
