// A fixture for tests of the daemon's lifecycle policies through its API
// (daemon_policy_test.cc, daemon_policy_modify_test.cc): DaemonFixture with
// a daemon started, and helpers to make volumes, wait for runs, count the
// policy's snapshots in a repository, and make an encrypted copy target.
#ifndef CAIRN_SERVICE_DAEMON_POLICY_TEST_UTIL_H_
#define CAIRN_SERVICE_DAEMON_POLICY_TEST_UTIL_H_

#include <fstream>
#include <map>
#include <set>
#include <string>

#include "service/daemon_test_util.h"
#include "service/policy.h"

namespace cairn::service::testing {

class PolicyFixture : public DaemonFixture {
 protected:
  void SetUp() override {
    DaemonFixture::SetUp();
    StartDaemon();
  }

  std::string NewVolume(const json& tags = json::object()) {
    auto v = Call("POST", "/v1/volumes", {{"size", 4 << 20}, {"tags", tags}});
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? (*v)["id"].get<std::string>() : "";
  }

  // The ids of the live snapshots of `repository` carrying the policy's tag.
  std::set<std::string> PolicySnapshotIds(repo::Repository& repository, const std::string& id) {
    std::set<std::string> out;
    auto list = repository.ListSnapshots();
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    if (!list.ok()) return out;
    for (const auto& h : list->snapshots) {
      auto it = h.tags.find(kPolicyTag);
      if (it != h.tags.end() && it->second == id) out.insert(h.id.str());
    }
    return out;
  }

  // How many of those there are per source (volume).
  std::map<std::string, int> PolicySnapshots(repo::Repository& repository, const std::string& id) {
    std::map<std::string, int> out;
    const std::set<std::string> ids = PolicySnapshotIds(repository, id);
    auto list = repository.ListSnapshots();
    if (!list.ok()) return out;
    for (const auto& h : list->snapshots) {
      if (ids.count(h.id.str()) > 0) ++out[h.source];
    }
    return out;
  }

  // The policy once it has `runs` finished runs and none in progress.
  json WaitRuns(const std::string& id, uint64_t runs, int seconds = 60) {
    return WaitFor(
        "/v1/policies/" + id,
        [&](const json& p) { return p["runs"].get<uint64_t>() >= runs && !p["running"]; }, seconds);
  }

  // An encrypted repository at DIR/dr with its passphrase in DIR/dr.pass.
  std::string MakeCopyTarget() {
    auto backend = storage::LocalBackend::Create(dir_ + "/dr");
    EXPECT_TRUE(backend.ok());
    repo::InitOptions init;
    init.passphrase = "dr secret";
    init.scrypt.n = 1024;  // fast key derivation for the test
    init.block_size = 64 << 10;
    EXPECT_TRUE(repo::Repository::Init(std::move(backend).value(), init).ok());
    std::ofstream(dir_ + "/dr.pass") << "dr secret\n";
    return dir_ + "/dr";
  }

  std::unique_ptr<repo::Repository> OpenCopyTarget() {
    auto backend = storage::LocalBackend::Open(dir_ + "/dr");
    EXPECT_TRUE(backend.ok());
    auto r = repo::Repository::Open(std::move(backend).value(), "dr secret");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }
};

}  // namespace cairn::service::testing

#endif  // CAIRN_SERVICE_DAEMON_POLICY_TEST_UTIL_H_
