// The Backend contract (backend.h), checked against every implementation.
// A new backend joins by adding one line to Backends() below.
//
// S3 joins when CAIRN_TEST_S3=1 and the AWS_* variables point at a server
// (scripts/s3-server.sh prints them): the bucket CAIRN_TEST_S3_BUCKET
// (default "cairn-conformance") is created if needed and every test gets a
// fresh prefix in it, once as a bare S3Backend and once as OpenBackend
// returns it (wrapped in RetryingBackend).
#include <stdlib.h>

#include <atomic>

#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/crypto.h"
#include "storage/backend.h"
#include "storage/fault_backend.h"
#include "storage/local_backend.h"
#include "storage/memory_backend.h"
#include "storage/open.h"
#include "storage/s3_backend.h"

namespace cairn::storage {
namespace {

struct BackendFactory {
  std::string name;
  // Makes a fresh, empty backend; `dir` is a new temporary directory.
  std::function<std::unique_ptr<Backend>(const std::string& dir)> make;
};

std::vector<BackendFactory> Backends() {
  std::vector<BackendFactory> all = {
    {"Local",
     [](const std::string& dir) -> std::unique_ptr<Backend> {
       auto b = LocalBackend::Open(dir);
       EXPECT_TRUE(b.ok()) << b.status().ToString();
       return std::move(b).value();
     }},
    {"Memory", [](const std::string&) -> std::unique_ptr<Backend> {
       return std::make_unique<MemoryBackend>();
     }},
    {"FaultInjectingNoFaults", [](const std::string&) -> std::unique_ptr<Backend> {
       return std::make_unique<FaultInjectingBackend>(std::make_shared<MemoryBackend>());
     }},
  };
  const char* s3 = getenv("CAIRN_TEST_S3");
  if (s3 == nullptr || std::string(s3) != "1") return all;
  const char* bucket_env = getenv("CAIRN_TEST_S3_BUCKET");
  const std::string bucket = bucket_env != nullptr ? bucket_env : "cairn-conformance";
  // The temporary directory's unique name is the test's prefix.
  auto url_for = [bucket](const std::string& dir) {
    return "s3://" + bucket + "/" + std::filesystem::path(dir).filename().string();
  };
  // A bare S3Backend at `url`, its bucket created if missing.
  auto open_s3 = [](const std::string& url) -> std::unique_ptr<S3Backend> {
    auto options = S3Options::FromEnvironment();
    EXPECT_TRUE(options.ok()) << options.status().ToString();
    if (!options.ok()) return nullptr;
    auto b = S3Backend::Open(url, *std::move(options));
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    if (!b.ok()) return nullptr;
    Status created = (*b)->CreateBucket();
    EXPECT_TRUE(created.ok()) << created.ToString();
    return std::move(b).value();
  };
  all.push_back({"S3", [url_for, open_s3](const std::string& dir) -> std::unique_ptr<Backend> {
                   return open_s3(url_for(dir));
                 }});
  // Multipart forced for anything above 5 MiB, in 5 MiB parts.
  all.push_back({"S3Multipart", [url_for](const std::string& dir) -> std::unique_ptr<Backend> {
                   auto options = S3Options::FromEnvironment();
                   EXPECT_TRUE(options.ok()) << options.status().ToString();
                   if (!options.ok()) return nullptr;
                   options->multipart_threshold = S3Options::kMinPartSize;
                   options->part_size = S3Options::kMinPartSize;
                   auto b = S3Backend::Open(url_for(dir), *std::move(options));
                   EXPECT_TRUE(b.ok()) << b.status().ToString();
                   if (!b.ok()) return nullptr;
                   EXPECT_TRUE((*b)->CreateBucket().ok());
                   return std::move(b).value();
                 }});
  all.push_back({"S3ThroughOpenBackend",
                 [url_for, open_s3](const std::string& dir) -> std::unique_ptr<Backend> {
                   if (open_s3(url_for(dir)) == nullptr) return nullptr;
                   auto b = OpenBackend(url_for(dir), /*create=*/true);
                   EXPECT_TRUE(b.ok()) << b.status().ToString();
                   return b.ok() ? std::move(b).value() : nullptr;
                 }});
  return all;
}

Buffer Pattern(size_t size, uint32_t seed) {
  Buffer b(size);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& byte : b) {
    x = x * 1664525u + 1013904223u;
    byte = std::byte(x >> 24);
  }
  return b;
}

class BackendConformanceTest : public ::testing::TestWithParam<BackendFactory> {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cairn-conf-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    backend_ = GetParam().make(dir_);
    ASSERT_NE(backend_, nullptr);
  }
  void TearDown() override {
    backend_.reset();
    std::filesystem::remove_all(dir_);
  }

  void PutOk(std::string_view key, ByteSpan data) {
    Status s = backend_->Put(key, data);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  Buffer GetOk(std::string_view key) {
    auto r = backend_->Get(key);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Buffer();
  }
  std::set<std::string> ListKeys(std::string_view prefix) {
    std::set<std::string> keys;
    Status s = backend_->List(prefix, [&](const ObjectInfo& info) {
      EXPECT_TRUE(keys.insert(info.key).second) << "listed twice: " << info.key;
      return Status::OK();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return keys;
  }

  std::string dir_;
  std::unique_ptr<Backend> backend_;
};

TEST_P(BackendConformanceTest, RoundTripSizes) {
  for (size_t size : {size_t{0}, size_t{1}, size_t{5} << 20}) {
    std::string key = "data/obj-" + std::to_string(size);
    Buffer data = Pattern(size, static_cast<uint32_t>(size));
    PutOk(key, data);
    EXPECT_EQ(GetOk(key), data) << key;
    auto info = backend_->Stat(key);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->size, size);
    EXPECT_EQ(info->key, key);
  }
}

// Large enough for a multipart upload where one is configured (S3Multipart:
// three parts, the last one short).
TEST_P(BackendConformanceTest, LargeObjectRoundTrip) {
  const Buffer data = Pattern((11 << 20) + 12345, 7);
  PutOk("packs/big", data);
  EXPECT_EQ(GetOk("packs/big"), data);
  auto info = backend_->Stat("packs/big");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->size, data.size());
  // A range across the boundary of the first two 5 MiB parts.
  auto range = backend_->GetRange("packs/big", (5 << 20) - 100, 200);
  ASSERT_TRUE(range.ok()) << range.status().ToString();
  EXPECT_EQ(*range, Buffer(data.begin() + (5 << 20) - 100, data.begin() + (5 << 20) + 100));
  // Replacing it with a small object works too.
  PutOk("packs/big", AsBytes("small"));
  EXPECT_EQ(AsStringView(GetOk("packs/big")), "small");
}

TEST_P(BackendConformanceTest, PutWithSha256) {
  const Buffer data = Pattern(100000, 3);
  Status s = backend_->PutWithSha256("packs/ab/known", data, Sha256(data));
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(GetOk("packs/ab/known"), data);
  if (GetParam().name.starts_with("S3")) {
    // The server checks the payload hash it is given: bytes that do not
    // match are refused, never stored.
    Digest wrong = Sha256(data);
    wrong[0] ^= std::byte{1};
    s = backend_->PutWithSha256("packs/ab/damaged", data, wrong);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
    EXPECT_NE(s.message().find("XAmzContentSHA256Mismatch"), std::string::npos) << s.ToString();
    EXPECT_EQ(backend_->Stat("packs/ab/damaged").status().code(), StatusCode::kNotFound);
  }
}

TEST_P(BackendConformanceTest, PutIfAbsentCreatesOnce) {
  Status first = backend_->PutIfAbsent("locks/exclusive", AsBytes("first"));
  ASSERT_TRUE(first.ok()) << first.ToString();
  Status second = backend_->PutIfAbsent("locks/exclusive", AsBytes("second"));
  EXPECT_EQ(second.code(), StatusCode::kAlreadyExists) << second.ToString();
  EXPECT_EQ(AsStringView(GetOk("locks/exclusive")), "first");
  EXPECT_EQ(ListKeys("locks/"), std::set<std::string>{"locks/exclusive"});
  ASSERT_TRUE(backend_->Remove("locks/exclusive").ok());
  Status again = backend_->PutIfAbsent("locks/exclusive", AsBytes("third"));
  EXPECT_TRUE(again.ok()) << again.ToString();
  EXPECT_EQ(AsStringView(GetOk("locks/exclusive")), "third");
  EXPECT_EQ(backend_->PutIfAbsent("a//b", AsBytes("x")).code(), StatusCode::kInvalidArgument);
}

TEST_P(BackendConformanceTest, PutIfAbsentRaceHasOneWinner) {
  constexpr int kThreads = 8;
  for (int round = 0; round < 5; ++round) {
    const std::string key = "locks/race-" + std::to_string(round);
    std::atomic<int> won{0}, lost{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        Status s = backend_->PutIfAbsent(key, AsBytes("writer " + std::to_string(t)));
        if (s.ok()) {
          ++won;
        } else {
          EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
          ++lost;
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(won.load(), 1) << key;
    EXPECT_EQ(lost.load(), kThreads - 1) << key;
  }
}

TEST_P(BackendConformanceTest, OverwriteReplaces) {
  PutOk("config", AsBytes("first version, longer"));
  PutOk("config", AsBytes("second"));
  EXPECT_EQ(AsStringView(GetOk("config")), "second");
  EXPECT_EQ(backend_->Stat("config")->size, 6u);
  EXPECT_EQ(ListKeys(""), std::set<std::string>{"config"});
}

TEST_P(BackendConformanceTest, GetRange) {
  PutOk("packs/ab/abcd", AsBytes("0123456789"));
  auto range = [&](uint64_t off, uint64_t len) {
    auto r = backend_->GetRange("packs/ab/abcd", off, len);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::string(AsStringView(*r)) : "<error>";
  };
  EXPECT_EQ(range(3, 4), "3456");         // middle
  EXPECT_EQ(range(0, 10), "0123456789");  // whole
  EXPECT_EQ(range(7, 100), "789");        // runs past the end: fewer bytes
  EXPECT_EQ(range(10, 5), "");            // at the end
  EXPECT_EQ(range(50, 5), "");            // beyond the end
  EXPECT_EQ(range(4, 0), "");             // empty range
  EXPECT_EQ(range(2, UINT64_MAX), "23456789");
  EXPECT_EQ(backend_->GetRange("packs/ab/none", 0, 1).status().code(), StatusCode::kNotFound);
}

TEST_P(BackendConformanceTest, ListByPrefix) {
  for (const char* key : {"config", "keys/k1", "packs/3f/3f01", "packs/3f/3f02", "packs/a0/a011",
                          "snapshots/snap-1", "snapshots/snap-10", "snapshots/snap-2",
                          "snapshotsx/other"}) {
    PutOk(key, AsBytes(key));
  }
  using Keys = std::set<std::string>;
  EXPECT_EQ(ListKeys("").size(), 9u);
  EXPECT_EQ(ListKeys("packs/"), (Keys{"packs/3f/3f01", "packs/3f/3f02", "packs/a0/a011"}));
  EXPECT_EQ(ListKeys("packs/3f/"), (Keys{"packs/3f/3f01", "packs/3f/3f02"}));
  EXPECT_EQ(ListKeys("packs/3f/3f02"), (Keys{"packs/3f/3f02"}));
  EXPECT_EQ(ListKeys("packs/3"), (Keys{"packs/3f/3f01", "packs/3f/3f02"}));
  EXPECT_EQ(ListKeys("snapshots/snap-1"), (Keys{"snapshots/snap-1", "snapshots/snap-10"}));
  EXPECT_EQ(ListKeys("snapshots/"), (Keys{"snapshots/snap-1", "snapshots/snap-10", "snapshots/snap-2"}));
  EXPECT_EQ(ListKeys("snapshots"),
            (Keys{"snapshots/snap-1", "snapshots/snap-10", "snapshots/snap-2", "snapshotsx/other"}));
  EXPECT_EQ(ListKeys("c"), (Keys{"config"}));
  EXPECT_EQ(ListKeys("locks/"), Keys{});
  EXPECT_EQ(ListKeys("packs/ff/"), Keys{});
  EXPECT_EQ(ListKeys("zzz"), Keys{});
}

TEST_P(BackendConformanceTest, ListReportsSizeAndStopsOnError) {
  PutOk("index/a", AsBytes("12345"));
  PutOk("index/b", AsBytes("1"));
  Status s = backend_->List("index/", [](const ObjectInfo& info) {
    EXPECT_EQ(info.size, info.key == "index/a" ? 5u : 1u);
    return Status::OK();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  int calls = 0;
  s = backend_->List("index/", [&](const ObjectInfo&) {
    ++calls;
    return AbortedError("stop here");
  });
  EXPECT_EQ(s.code(), StatusCode::kAborted);
  EXPECT_EQ(s.message(), "stop here");
  EXPECT_EQ(calls, 1);
}

TEST_P(BackendConformanceTest, RemoveIsIdempotent) {
  PutOk("locks/l1", AsBytes("x"));
  EXPECT_TRUE(backend_->Remove("locks/l1").ok());
  EXPECT_TRUE(backend_->Remove("locks/l1").ok());
  EXPECT_TRUE(backend_->Remove("never/there").ok());
  EXPECT_EQ(backend_->Get("locks/l1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ListKeys("locks/"), std::set<std::string>{});
}

TEST_P(BackendConformanceTest, MissingIsNotFound) {
  EXPECT_EQ(backend_->Get("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(backend_->Get("no/such/dir/obj").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(backend_->Stat("nope").status().code(), StatusCode::kNotFound);
  PutOk("file", AsBytes("x"));
  // A "directory" on the path that is really an object.
  EXPECT_EQ(backend_->Get("file/below").status().code(), StatusCode::kNotFound);
  // A "directory" that only holds objects is not itself an object.
  PutOk("dir/obj", AsBytes("x"));
  EXPECT_EQ(backend_->Get("dir").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(backend_->Stat("dir").status().code(), StatusCode::kNotFound);
}

TEST_P(BackendConformanceTest, InvalidKeysRejected) {
  for (const char* key : {"", "/abs", "a//b", "a/", "./a", "a/./b", "../escape", "a/.."}) {
    SCOPED_TRACE(key);
    EXPECT_EQ(backend_->Put(key, AsBytes("x")).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(backend_->Get(key).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(backend_->GetRange(key, 0, 1).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(backend_->Stat(key).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(backend_->Remove(key).code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(ListKeys(""), std::set<std::string>{});
}

TEST_P(BackendConformanceTest, ConcurrentPutsAllLand) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Threads share directories, so directory creation races too.
        std::string key = "packs/" + std::to_string(i % 5) + "/t" + std::to_string(t) + "-" +
                          std::to_string(i);
        Status s = backend_->Put(key, Pattern(1000 + i, t * 1000 + i));
        EXPECT_TRUE(s.ok()) << s.ToString();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ListKeys("packs/").size(), size_t{kThreads * kPerThread});
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      std::string key = "packs/" + std::to_string(i % 5) + "/t" + std::to_string(t) + "-" +
                        std::to_string(i);
      EXPECT_EQ(GetOk(key), Pattern(1000 + i, t * 1000 + i)) << key;
    }
  }
}

TEST_P(BackendConformanceTest, ConcurrentOverwritesStayWhole) {
  // Readers see one whole version or another, never a mix (Put is atomic).
  const Buffer a(64 << 10, std::byte{'a'});
  const Buffer b(32 << 10, std::byte{'b'});
  PutOk("config", a);
  std::thread writer([&] {
    for (int i = 0; i < 50; ++i) EXPECT_TRUE(backend_->Put("config", i % 2 ? a : b).ok());
  });
  for (int i = 0; i < 200; ++i) {
    Buffer got = GetOk("config");
    EXPECT_TRUE(got == a || got == b) << "torn read of " << got.size() << " bytes";
  }
  writer.join();
}

INSTANTIATE_TEST_SUITE_P(AllBackends, BackendConformanceTest, ::testing::ValuesIn(Backends()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace cairn::storage
