// A fixture for tests of the daemon through its API: a real Daemon (catalog
// in SQLite, volumes in a temp directory, an NBD listener on a free loopback
// port), an unencrypted local repository with 64 KiB blocks, and the real
// ApiClient over the unix socket.
#ifndef CAIRN_SERVICE_DAEMON_TEST_UTIL_H_
#define CAIRN_SERVICE_DAEMON_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "core/log.h"
#include "repo/repository.h"
#include "service/api_client.h"
#include "service/daemon.h"
#include "storage/local_backend.h"

namespace cairn::service::testing {

class DaemonFixture : public ::testing::Test {
 protected:
  using json = nlohmann::json;

  void SetUp() override {
    SetLogLevel(LogLevel::kQuiet);  // the daemon's event lines
    std::string tmpl = ::testing::TempDir() + "cairn-daemon-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto backend = storage::LocalBackend::Create(dir_ + "/repo");
    ASSERT_TRUE(backend.ok()) << backend.status().ToString();
    repo::InitOptions init;
    init.encrypted = false;
    init.block_size = 64 << 10;
    ASSERT_TRUE(repo::Repository::Init(std::move(backend).value(), init).ok());
  }
  void TearDown() override {
    daemon_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<repo::Repository> OpenRepo() {
    auto backend = storage::LocalBackend::Open(dir_ + "/repo");
    EXPECT_TRUE(backend.ok());
    if (!backend.ok()) return nullptr;
    auto r = repo::Repository::Open(std::move(backend).value(), "");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }

  DaemonOptions Options() {
    DaemonOptions o;
    o.data_dir = dir_ + "/data";
    o.nbd_listen = "127.0.0.1:0";
    o.repository = dir_ + "/repo";
    return o;
  }

  void StartDaemon() {
    auto d = Daemon::Start(Options(), OpenRepo());
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    daemon_ = std::move(d).value();
  }

  // One API call; the parsed body, or the error as a Status.
  Result<json> Call(const std::string& method, const std::string& path, const json& body = {}) {
    ApiClient client(dir_ + "/data/api.sock");
    ASSIGN_OR_RETURN(std::string text,
                     client.Call(method, path, body.is_null() ? "" : body.dump()));
    return json::parse(text);
  }

  // GET `path` every 50 ms until `done(body)` or `seconds` pass.
  template <typename Done>
  json WaitFor(const std::string& path, Done done, int seconds) {
    for (int i = 0; i < seconds * 20; ++i) {
      auto v = Call("GET", path);
      EXPECT_TRUE(v.ok()) << v.status().ToString();
      if (!v.ok()) return json();
      if (done(*v)) return *v;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << path << ": still not done after " << seconds << " s";
    return json();
  }

  std::string dir_;
  std::unique_ptr<Daemon> daemon_;
};

}  // namespace cairn::service::testing

#endif  // CAIRN_SERVICE_DAEMON_TEST_UTIL_H_
