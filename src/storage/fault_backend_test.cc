#include "storage/fault_backend.h"

#include <algorithm>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "storage/memory_backend.h"

namespace cairn::storage {
namespace {

class FaultBackendTest : public ::testing::Test {
 protected:
  std::shared_ptr<MemoryBackend> memory_ = std::make_shared<MemoryBackend>();
  FaultInjectingBackend faulty_{memory_, /*seed=*/42};
};

TEST_F(FaultBackendTest, NthCallFailsOnce) {
  faulty_.AddRule(FaultRule::Nth(Op::kPut, 3, UnavailableError("injected 503")));
  std::vector<StatusCode> codes;
  for (int i = 0; i < 5; ++i) codes.push_back(faulty_.Put("k" + std::to_string(i), AsBytes("x")).code());
  EXPECT_EQ(codes, (std::vector<StatusCode>{StatusCode::kOk, StatusCode::kOk, StatusCode::kUnavailable,
                                            StatusCode::kOk, StatusCode::kOk}));
  EXPECT_EQ(memory_->object_count(), 4u);  // the failed Put never arrived
  EXPECT_FALSE(memory_->Stat("k2").ok());
  EXPECT_EQ(faulty_.calls(Op::kPut), 5u);
  EXPECT_EQ(faulty_.injected_faults(), 1u);
}

TEST_F(FaultBackendTest, PrefixNarrowsRuleAndOtherOpsPass) {
  FaultRule rule = FaultRule::Always(Op::kGet, IoError("disk on fire"));
  rule.key_prefix = "packs/";
  faulty_.AddRule(rule);
  ASSERT_TRUE(faulty_.Put("packs/p1", AsBytes("x")).ok());
  ASSERT_TRUE(faulty_.Put("index/i1", AsBytes("x")).ok());
  EXPECT_EQ(faulty_.Get("packs/p1").status().message(), "disk on fire");
  EXPECT_EQ(faulty_.Get("packs/p1").status().code(), StatusCode::kIoError);
  EXPECT_TRUE(faulty_.Get("index/i1").ok());
  EXPECT_TRUE(faulty_.GetRange("packs/p1", 0, 1).ok());  // a different op kind
  EXPECT_TRUE(faulty_.Stat("packs/p1").ok());
  EXPECT_EQ(faulty_.calls(Op::kGet), 3u);
  faulty_.ClearRules();
  EXPECT_TRUE(faulty_.Get("packs/p1").ok());
}

TEST_F(FaultBackendTest, AfterCallAppliesThenFails) {
  FaultRule rule = FaultRule::Nth(Op::kPut, 1, UnavailableError("reply lost"));
  rule.after_call = true;
  faulty_.AddRule(rule);
  EXPECT_EQ(faulty_.Put("config", AsBytes("x")).code(), StatusCode::kUnavailable);
  EXPECT_TRUE(memory_->Stat("config").ok());  // it landed anyway
}

TEST_F(FaultBackendTest, RandomFractionIsRoughlyRightAndSeeded) {
  auto run = [](uint64_t seed) {
    auto memory = std::make_shared<MemoryBackend>();
    FaultInjectingBackend faulty(memory, seed);
    faulty.AddRule(FaultRule::Random(Op::kPut, 0.3, IoError("flaky")));
    std::vector<bool> failed;
    for (int i = 0; i < 2000; ++i) failed.push_back(!faulty.Put("k", AsBytes("x")).ok());
    return failed;
  };
  std::vector<bool> a = run(7);
  size_t failures = std::count(a.begin(), a.end(), true);
  EXPECT_GT(failures, 500u);  // expected 600, sd ~20
  EXPECT_LT(failures, 700u);
  EXPECT_EQ(run(7), a);       // same seed, same faults
  EXPECT_NE(run(8), a);
}

TEST_F(FaultBackendTest, RemoveAndListFaults) {
  faulty_.AddRule(FaultRule::Always(Op::kList, UnavailableError("list timeout")));
  faulty_.AddRule(FaultRule::Nth(Op::kRemove, 1, PermissionDeniedError("no")));
  Status s = faulty_.List("", [](const ObjectInfo&) { return Status::OK(); });
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(faulty_.Remove("x").code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(faulty_.Remove("x").ok());
  EXPECT_EQ(faulty_.Describe(), "memory");
}

}  // namespace
}  // namespace cairn::storage
