#include "storage/retry_backend.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "storage/fault_backend.h"
#include "storage/memory_backend.h"

namespace cairn::storage {
namespace {

using std::chrono::milliseconds;

struct Fixture {
  std::shared_ptr<MemoryBackend> memory = std::make_shared<MemoryBackend>();
  FaultInjectingBackend *faults = nullptr;  // owned by `retrying`
  std::vector<milliseconds> sleeps;
  std::unique_ptr<RetryingBackend> retrying;

  explicit Fixture(int max_attempts = 5, milliseconds max_total = milliseconds(60'000)) {
    auto f = std::make_unique<FaultInjectingBackend>(memory);
    faults = f.get();
    RetryPolicy policy;
    policy.max_attempts = max_attempts;
    policy.initial_backoff = milliseconds(100);
    policy.max_backoff = milliseconds(1000);
    policy.max_total = max_total;
    policy.seed = 42;
    policy.sleep = [this](milliseconds d) { sleeps.push_back(d); };
    retrying = std::make_unique<RetryingBackend>(std::move(f), std::move(policy));
  }
};

TEST(RetryingBackendTest, RetriesUnavailableUntilSuccess) {
  Fixture fx;
  fx.faults->AddRule(FaultRule::Nth(Op::kPut, 1, UnavailableError("503 SlowDown")));
  fx.faults->AddRule(FaultRule::Nth(Op::kPut, 2, UnavailableError("reset")));
  EXPECT_TRUE(fx.retrying->Put("a", AsBytes("x")).ok());
  EXPECT_EQ(fx.retrying->retries(), 2u);
  EXPECT_EQ(fx.faults->calls(Op::kPut), 3u);
  ASSERT_EQ(fx.sleeps.size(), 2u);
  // Full jitter: within [0, initial * 2^(n-1)].
  EXPECT_LE(fx.sleeps[0], milliseconds(100));
  EXPECT_LE(fx.sleeps[1], milliseconds(200));
  auto got = fx.retrying->Get("a");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(AsStringView(*got), "x");
}

TEST(RetryingBackendTest, GivesUpAfterMaxAttempts) {
  Fixture fx(/*max_attempts=*/4);
  fx.faults->AddRule(FaultRule::Always(Op::kGet, UnavailableError("HTTP 500")));
  auto r = fx.retrying->Get("a");
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().message().rfind("gave up after 4 attempts in ", 0), 0u)
      << r.status().message();
  EXPECT_NE(r.status().message().find("HTTP 500"), std::string::npos);
  EXPECT_EQ(fx.faults->calls(Op::kGet), 4u);
  EXPECT_EQ(fx.retrying->retries(), 3u);
  for (size_t i = 0; i < fx.sleeps.size(); ++i) {
    EXPECT_LE(fx.sleeps[i], std::min(milliseconds(1000), milliseconds(100 << i)));
  }
}

TEST(RetryingBackendTest, GivesUpWhenTotalTimeWouldPass) {
  Fixture fx(/*max_attempts=*/100, /*max_total=*/milliseconds(0));
  fx.faults->AddRule(FaultRule::Always(Op::kStat, UnavailableError("timeout")));
  // A zero budget allows no wait longer than 0 ms; jitter may pick 0, so a
  // few retries can happen, but never 100.
  EXPECT_EQ(fx.retrying->Stat("a").status().code(), StatusCode::kUnavailable);
  EXPECT_LT(fx.faults->calls(Op::kStat), 100u);
}

TEST(RetryingBackendTest, DoesNotRetryOtherCodes) {
  Fixture fx;
  for (Status s : {PermissionDeniedError("403"), NotFoundError("404"), InvalidArgumentError("400"),
                   CorruptionError("bad")}) {
    fx.faults->ClearRules();
    fx.faults->AddRule(FaultRule::Always(Op::kRemove, s));
    EXPECT_EQ(fx.retrying->Remove("k").code(), s.code());
  }
  EXPECT_EQ(fx.faults->calls(Op::kRemove), 4u);
  EXPECT_EQ(fx.retrying->retries(), 0u);
  EXPECT_TRUE(fx.sleeps.empty());
}

// A listing that fails half-way is repeated, but fn sees each key once.
class FlakyListBackend : public MemoryBackend {
 public:
  Status List(std::string_view prefix,
              const std::function<Status(const ObjectInfo &)> &fn) override {
    int n = 0;
    bool fail = ++lists_ == 1;
    return MemoryBackend::List(prefix, [&](const ObjectInfo &info) -> Status {
      if (fail && ++n > 2) return UnavailableError("connection reset");
      return fn(info);
    });
  }
  int lists_ = 0;
};

TEST(RetryingBackendTest, ListRetriedWithoutDuplicates) {
  auto flaky = std::make_unique<FlakyListBackend>();
  for (const char *k : {"a", "b", "c", "d", "e"}) ASSERT_TRUE(flaky->Put(k, AsBytes(k)).ok());
  FlakyListBackend *raw = flaky.get();
  RetryPolicy policy;
  policy.sleep = [](milliseconds) {};
  RetryingBackend retrying(std::move(flaky), policy);
  std::multiset<std::string> seen;
  Status s = retrying.List("", [&](const ObjectInfo &info) {
    seen.insert(info.key);
    return Status::OK();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(seen, (std::multiset<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(raw->lists_, 2);
  EXPECT_EQ(retrying.retries(), 1u);
}

TEST(RetryingBackendTest, ListCallbackErrorIsNotRetried) {
  Fixture fx;
  ASSERT_TRUE(fx.retrying->Put("a", AsBytes("x")).ok());
  int calls = 0;
  Status s = fx.retrying->List("", [&](const ObjectInfo &) {
    ++calls;
    return UnavailableError("from fn");
  });
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "from fn");
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(fx.retrying->retries(), 0u);
}

}  // namespace
}  // namespace cairn::storage
