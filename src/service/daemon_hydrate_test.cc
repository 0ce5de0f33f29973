// Volumes from snapshots through the daemon's API: lazy and eager creation,
// default and too-small sizes, progress, restart resumes, and the first
// snapshot being incremental against the origin. A failed hydration is
// retried (the repository's packs fail, then heal) and gc is refused while
// a volume hydrates.
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
#include "repo/gc.h"
#include "repo/recycle_bin.h"
#include "repo/repository.h"
#include "service/api_client.h"
#include "service/daemon_test_util.h"
#include "service/daemon.h"
#include "storage/fault_backend.h"
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
  // Restarts the daemon on a repository whose backend can be made to fail
  // (faults_), with retries of failed hydrations after 20 ms, 40 ms, …
  // Reads of keys under `down` fail from the start (kUnavailable: S3 down)
  // until faults_->ClearRules(); {"packs/"}: the snapshot's data fails, its
  // manifest and the index still read.
  void StartDaemonWithFaults(std::vector<std::string> down) {
    // A stop right after a start can hang in HttpServer::Stop (its listen
    // thread not yet listening): let the API answer once first.
    if (daemon_) {
      EXPECT_TRUE(Call("GET", "/v1/volumes").ok());
    }
    daemon_.reset();
    auto local = storage::LocalBackend::Open(dir_ + "/repo");
    ASSERT_TRUE(local.ok()) << local.status().ToString();
    auto fault = std::make_unique<storage::FaultInjectingBackend>(
        std::shared_ptr<storage::Backend>(std::move(local).value()));
    faults_ = fault.get();
    for (const std::string& prefix : down) {
      for (storage::Op op : {storage::Op::kGet, storage::Op::kGetRange}) {
        storage::FaultRule rule =
            storage::FaultRule::Always(op, UnavailableError("S3 is down (injected)"));
        rule.key_prefix = prefix;
        fault->AddRule(rule);
      }
    }
    auto repo = repo::Repository::Open(std::move(fault), "");
    ASSERT_TRUE(repo.ok()) << repo.status().ToString();
    DaemonOptions o = Options();
    o.hydration_retry_ms = 20;
    auto d = Daemon::Start(o, std::move(repo).value());
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    daemon_ = std::move(d).value();
  }
  // Messages of the events about `id`.
  std::vector<std::string> EventsOf(const std::string& id) {
    std::vector<std::string> out;
    auto events = Call("GET", "/v1/events?after=0&limit=10000");
    EXPECT_TRUE(events.ok()) << events.status().ToString();
    if (!events.ok()) return out;
    for (const auto& e : (*events)["events"]) {
      if (e["object"] == id) out.push_back(e["message"]);
    }
    return out;
  }
  static size_t CountContaining(const std::vector<std::string>& lines, const std::string& what) {
    size_t n = 0;
    for (const auto& l : lines) n += l.find(what) != std::string::npos ? 1 : 0;
    return n;
  }
  // `cairn repo gc` from another process's point of view.
  Result<repo::GcResult> Gc() {
    auto repo = OpenRepo();
    if (repo == nullptr) return InternalError("cannot open the repository");
    return repo::CollectGarbage(*repo, repo::GcOptions{});
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
  storage::FaultInjectingBackend* faults_ = nullptr;  // owned by the daemon's repository
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

TEST_F(DaemonHydrateTest, AnOriginDeletedIntoTheRecycleBinStillFinishesAfterARestart) {
  auto v = Call("POST", "/v1/volumes", {{"snapshot_id", snap_}, {"initialization_rate", 2}});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  const std::string id = (*v)["id"];
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  daemon_.reset();
  {
    auto repo = OpenRepo();
    ASSERT_NE(repo, nullptr);
    auto sid = repo::SnapshotId::Parse(snap_);
    ASSERT_TRUE(sid.ok());
    auto moved = repo::MoveToRecycleBin(*repo, *sid, std::chrono::system_clock::now());
    ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  }
  StartDaemon();
  auto again = Call("GET", "/v1/volumes/" + id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)["state"], "available") << again->dump();
  EXPECT_EQ((*again)["hydration"]["state"], "hydrating") << again->dump();
  json done = WaitHydrated(id);
  EXPECT_EQ(done["hydration"]["state"], "done") << done.dump();
  const auto events = EventsOf(id);
  EXPECT_EQ(CountContaining(events, "origin snapshot " + snap_ + " is in the recycle bin"), 1u);
  daemon_.reset();
  EXPECT_TRUE(DataFile(id) == Expected(kImageSize));
}

TEST_F(DaemonHydrateTest, FailedHydrationIsRetriedWhileGcIsRefused) {
  StartDaemonWithFaults({"packs/"});
  auto v = Call("POST", "/v1/volumes", {{"snapshot_id", snap_}});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  const std::string id = (*v)["id"];
  EXPECT_EQ((*v)["state"], "available");
  // Failed, with the error shown, and retried with growing waits: the
  // volume stays available meanwhile.
  json failed = WaitFor("/v1/volumes/" + id,
                        [](const json& v) { return v["hydration"]["state"] == "failed"; }, 30);
  EXPECT_EQ(failed["state"], "available");
  EXPECT_NE(failed["hydration"]["error"].get<std::string>().find("S3 is down"), std::string::npos)
      << failed.dump();
  for (int i = 0; i < 600 && CountContaining(EventsOf(id), "hydration failed (attempt 2)") == 0;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const auto events = EventsOf(id);
  EXPECT_EQ(CountContaining(events, "hydration failed (attempt 1): "), 1u);
  EXPECT_EQ(CountContaining(events, "next attempt in 20 ms"), 1u);
  EXPECT_EQ(CountContaining(events, "next attempt in 40 ms"), 1u);
  EXPECT_EQ(CountContaining(events, "hydration retrying (attempt 2) from " + snap_), 1u);
  // The volume's source is protected: gc is refused, naming the volume.
  auto refused = Gc();
  EXPECT_EQ(refused.status().code(), StatusCode::kAborted);
  EXPECT_NE(refused.status().message().find("hydrate " + id), std::string::npos)
      << refused.status().message();
  // S3 is back: the next attempt finishes; the lock is gone with it.
  faults_->ClearRules();
  json done = WaitFor("/v1/volumes/" + id,
                      [](const json& v) { return v["hydration"]["state"] == "done"; }, 60);
  EXPECT_TRUE(done["hydration"]["error"].is_null() || done["hydration"]["error"] == "")
      << done.dump();
  EXPECT_EQ(CountContaining(EventsOf(id), "hydration finished"), 1u);
  auto gc = Gc();
  EXPECT_TRUE(gc.ok()) << gc.status().ToString();
  daemon_.reset();
  EXPECT_TRUE(DataFile(id) == Expected(kImageSize));
}

TEST_F(DaemonHydrateTest, TheLockGoesWithAStopAndADeleteAndComesBackOnResume) {
  // Hydration cannot read the snapshot's data, so it stays unfinished: no
  // timing involved.
  StartDaemonWithFaults({"packs/"});
  auto v = Call("POST", "/v1/volumes", {{"snapshot_id", snap_}});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  const std::string id = (*v)["id"];
  auto refused = Gc();
  EXPECT_EQ(refused.status().code(), StatusCode::kAborted);
  EXPECT_NE(refused.status().message().find("(hydrate " + id + ")"), std::string::npos)
      << refused.status().message();
  daemon_.reset();  // a clean stop releases the lock
  auto gc = Gc();
  EXPECT_TRUE(gc.ok()) << gc.status().ToString();
  StartDaemonWithFaults({"packs/"});  // resumes the hydration: locked again
  EXPECT_EQ(Gc().status().code(), StatusCode::kAborted);
  auto deleted = Call("DELETE", "/v1/volumes/" + id);  // deleting releases it
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  gc = Gc();
  EXPECT_TRUE(gc.ok()) << gc.status().ToString();
}

TEST_F(DaemonHydrateTest, AResumeThatCannotReachTheRepositoryIsRetried) {
  StartDaemonWithFaults({"packs/"});
  auto v = Call("POST", "/v1/volumes", {{"snapshot_id", snap_}});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  const std::string id = (*v)["id"];
  // Restart with the snapshot's manifest unreadable too: the hydration
  // cannot even resume. The volume is not `error`: it waits for the retry.
  StartDaemonWithFaults({"packs/", "snapshots/"});
  json failed = WaitFor("/v1/volumes/" + id,
                        [](const json& v) { return v["hydration"]["state"] == "failed"; }, 30);
  EXPECT_EQ(failed["state"], "available") << failed.dump();
  EXPECT_NE(failed["hydration"]["error"].get<std::string>().find("could not resume"),
            std::string::npos)
      << failed.dump();
  faults_->ClearRules();
  json done = WaitFor("/v1/volumes/" + id,
                      [](const json& v) { return v["hydration"]["state"] == "done"; }, 60);
  EXPECT_EQ(done["state"], "available");
  const auto events = EventsOf(id);
  EXPECT_GE(CountContaining(events, "hydration failed (attempt 1): could not resume"), 1u);
  EXPECT_GE(CountContaining(events, "hydration resumed from " + snap_), 1u);
  EXPECT_EQ(CountContaining(events, "hydration finished"), 1u);
  EXPECT_TRUE(Gc().ok());
  daemon_.reset();
  EXPECT_TRUE(DataFile(id) == Expected(kImageSize));
}

}  // namespace
}  // namespace cairn::service
