// Volumes from snapshots through the daemon's API: lazy and eager creation,
// default and too-small sizes, progress, restart resumes, and the first
// snapshot being incremental against the origin.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/log.h"
#include "repo/backup.h"
#include "repo/engine_test_util.h"
#include "repo/repository.h"
#include "service/api_client.h"
#include "service/daemon_test_util.h"
#include "service/daemon.h"
#include "storage/local_backend.h"

namespace cairn::service {
namespace {

using nlohmann::json;

constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kImageSize = 6 * kMiB - 8192;  // not a multiple of the block

class ImageSource : public repo::Source {
 public:
  explicit ImageSource(Buffer data) : data_(std::move(data)) {}
  uint64_t size() const override { return data_.size(); }
  std::string name() const override { return "/dev/vdz"; }
  Status ReadAt(uint64_t offset, MutableByteSpan out) override {
    std::memcpy(out.data(), data_.data() + offset, out.size());
    return Status::OK();
  }
  Result<std::vector<repo::Extent>> DataExtents() override {
    return std::vector<repo::Extent>{{0, data_.size()}};
  }

 private:
  Buffer data_;
};

class DaemonHydrateTest : public testing::DaemonFixture {
 protected:
  void SetUp() override {
    DaemonFixture::SetUp();
    auto repo = OpenRepo();
    ASSERT_NE(repo, nullptr);
    image_ = repo::testing::RandomData(kImageSize, 5);
    std::memset(image_.data() + 2 * kMiB, 0, kMiB);  // a hole of 16 blocks
    ImageSource src(image_);
    auto snap = repo::CreateSnapshot(*repo, src, repo::BackupOptions{});
    ASSERT_TRUE(snap.ok()) << snap.status().ToString();
    snap_ = snap->snapshot.id.str();
    StartDaemon();
  }
  json WaitHydrated(const std::string& id) {
    return WaitFor("/v1/volumes/" + id,
                   [](const json& v) { return v["hydration"]["state"] != "hydrating"; }, 60);
  }
  // The volume's data file (unencrypted volumes: the bytes themselves).
  Buffer DataFile(const std::string& id) {
    std::ifstream f(dir_ + "/data/volumes/" + id + "/data", std::ios::binary);
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    Buffer b(s.size());
    std::memcpy(b.data(), s.data(), s.size());
    return b;
  }
  Buffer Expected(uint64_t size) const {
    Buffer b = image_;
    b.resize(size);
    return b;
  }

  Buffer image_;
  std::string snap_;
};

TEST_F(DaemonHydrateTest, LazyVolumeIsAvailableAtOnceAndHydratesByteExact) {
  auto v = Call("POST", "/v1/volumes", {{"snapshot_id", snap_}, {"volume_type", "standard"}});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  const std::string id = (*v)["id"];
  EXPECT_EQ((*v)["state"], "available");
  EXPECT_EQ((*v)["size"], kImageSize);  // the snapshot's size
  EXPECT_EQ((*v)["origin_snapshot"], snap_);
  EXPECT_EQ((*v)["last_snapshot"], snap_);
  EXPECT_EQ((*v)["hydration"]["total"], kImageSize - kMiB);  // the hole is not fetched
  json done = WaitHydrated(id);
  EXPECT_EQ(done["hydration"]["state"], "done");
  EXPECT_EQ(done["hydration"]["percent"], 100.0);
  auto events = Call("GET", "/v1/events?after=0&limit=1000");
  ASSERT_TRUE(events.ok());
  bool started = false, finished = false;
  for (const auto& e : (*events)["events"]) {
    if (e["object"] != id) continue;
    const std::string m = e["message"];
    started = started || m.find("hydration started from " + snap_) != std::string::npos;
    finished = finished || m.find("hydration finished") != std::string::npos;
  }
  EXPECT_TRUE(started) << events->dump();
  EXPECT_TRUE(finished) << events->dump();
  daemon_.reset();  // clean stop: the data file is complete
  EXPECT_TRUE(DataFile(id) == Expected(kImageSize));
}

TEST_F(DaemonHydrateTest, SizeSmallerThanTheSnapshotIsRefused) {
  auto v = Call("POST", "/v1/volumes", {{"snapshot_id", snap_}, {"size", 4 * kMiB}});
  EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(v.status().message().find("--size"), std::string::npos) << v.status().message();
  EXPECT_NE(v.status().message().find(std::to_string(kImageSize) + " bytes"), std::string::npos)
      << v.status().message();
  auto unknown = Call("POST", "/v1/volumes", {{"snapshot_id", "snap-0123456789abcdef0"}});
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  auto no_snap = Call("POST", "/v1/volumes", {{"size", kMiB}, {"hydrate", "eager"}});
  EXPECT_EQ(no_snap.status().code(), StatusCode::kInvalidArgument);
  auto volumes = Call("GET", "/v1/volumes");
  ASSERT_TRUE(volumes.ok());
  EXPECT_TRUE((*volumes)["volumes"].empty());  // nothing left behind
}

TEST_F(DaemonHydrateTest, EagerVolumeIsCreatingUntilHydrated) {
  auto v = Call("POST", "/v1/volumes",
                {{"snapshot_id", snap_},
                 {"hydrate", "eager"},
                 {"size", 8 * kMiB},
                 {"initialization_rate", 1}});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  const std::string id = (*v)["id"];
  EXPECT_EQ((*v)["state"], "creating");  // 5 MiB at 1 MiB/s: not done yet
  auto attach = Call("POST", "/v1/volumes/" + id + "/attach");
  EXPECT_EQ(attach.status().code(), StatusCode::kFailedPrecondition);
  json done = WaitHydrated(id);
  EXPECT_EQ(done["hydration"]["state"], "done");
  EXPECT_EQ(done["state"], "available");
  daemon_.reset();
  EXPECT_TRUE(DataFile(id) == Expected(8 * kMiB));
}

TEST_F(DaemonHydrateTest, RestartResumesWhereItStopped) {
  auto v = Call("POST", "/v1/volumes", {{"snapshot_id", snap_}, {"initialization_rate", 1}});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  const std::string id = (*v)["id"];
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  daemon_.reset();  // stops the hydration and saves its state
  StartDaemon();
  auto again = Call("GET", "/v1/volumes/" + id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)["hydration"]["state"], "hydrating");
  const uint64_t resumed_at = (*again)["hydration"]["done"];
  EXPECT_GT(resumed_at, 0u);  // kept what was fetched before the stop
  EXPECT_LT(resumed_at, kImageSize - kMiB);
  auto fast = Call("GET", "/v1/events?after=0&limit=1000");
  ASSERT_TRUE(fast.ok());
  bool resumed = false;
  for (const auto& e : (*fast)["events"]) {
    resumed = resumed || (e["object"] == id && e["message"].get<std::string>().find(
                                                   "hydration resumed") != std::string::npos);
  }
  EXPECT_TRUE(resumed);
  json done = WaitHydrated(id);
  EXPECT_EQ(done["hydration"]["state"], "done");
  daemon_.reset();
  EXPECT_TRUE(DataFile(id) == Expected(kImageSize));
}

}  // namespace
}  // namespace cairn::service
