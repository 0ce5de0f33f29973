// FaultInjectingBackend: wraps another Backend and makes chosen calls fail,
// the storage layer's one fault-injection seam (like LevelDB's
// FaultInjectionTestEnv or nbdkit's error filter). Tests use it to check
// that retries, error messages and crash ordering in repo/ hold.
//
// A FaultRule picks calls by operation kind and key prefix and fails them:
//   FaultRule::Nth(Op::kPut, 3, s)      the 3rd matching Put fails with s
//   FaultRule::Always(Op::kGet, s)      every matching Get fails
//   FaultRule::Random(Op::kPut, 0.1, s) each matching Put fails with
//                                        probability 0.1 (seeded RNG, so a
//                                        test is reproducible)
// PutWithSha256 and PutIfAbsent count and fail as a Put (Op::kPut).
// `key_prefix` narrows a rule to keys starting with it (for List: to list
// prefixes starting with it). A failing call normally does not reach the
// wrapped backend; with `after_call` it does, and the failure is reported
// afterwards (a Put that landed but whose reply was lost). The returned
// Status is the rule's, unchanged. Rules are checked in the order added; the
// first that fires wins, and every matching rule counts the call. Random
// rules share one RNG, so a seed reproduces a run only when the calls come
// in the same order (one thread).
//
// Ownership: the wrapper shares ownership of the wrapped backend
// (std::shared_ptr), so a test can keep its own handle, e.g. to a
// MemoryBackend it wants to Corrupt().
//
// Thread-safety: every method may be called from many threads at once.
// Rules, counters and the RNG sit under one mutex that is never held while
// the wrapped backend runs; AddRule/ClearRules may be called at any time.
#ifndef CAIRN_STORAGE_FAULT_BACKEND_H_
#define CAIRN_STORAGE_FAULT_BACKEND_H_

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "storage/backend.h"

namespace cairn::storage {

enum class Op { kPut, kGet, kGetRange, kStat, kList, kRemove };
inline constexpr size_t kOpCount = 6;

struct FaultRule {
  Op op = Op::kPut;
  std::string key_prefix;     // "" matches every key
  uint64_t nth = 0;           // > 0: fail only the nth matching call (1-based)
  double probability = 1.0;   // nth == 0: fail each matching call with this
                              // probability; 1.0 means every call
  bool after_call = false;    // forward the call, then report the failure
  Status status = IoError("injected fault");  // REQUIRES: not OK

  static FaultRule Nth(Op op, uint64_t n, Status status);
  static FaultRule Always(Op op, Status status);
  static FaultRule Random(Op op, double probability, Status status);
};

class FaultInjectingBackend : public Backend {
 public:
  // REQUIRES: target != nullptr.
  explicit FaultInjectingBackend(std::shared_ptr<Backend> target, uint64_t seed = 1);

  void AddRule(FaultRule rule);
  void ClearRules();

  // Calls of `op` made through this wrapper so far, failed ones included.
  uint64_t calls(Op op) const;
  // Calls failed by a rule so far.
  uint64_t injected_faults() const;

  Status Put(std::string_view key, ByteSpan data) override;
  Status PutWithSha256(std::string_view key, ByteSpan data, const Digest& sha256) override;
  Status PutIfAbsent(std::string_view key, ByteSpan data) override;
  Result<Buffer> Get(std::string_view key) override;
  Result<Buffer> GetRange(std::string_view key, uint64_t offset,
                          uint64_t length) override;
  Result<ObjectInfo> Stat(std::string_view key) override;
  Status List(std::string_view prefix,
              const std::function<Status(const ObjectInfo&)>& fn) override;
  Status Remove(std::string_view key) override;
  // The wrapped backend's description.
  std::string Describe() const override { return target_->Describe(); }
  Result<size_t> RemoveStaleTemporaries(std::chrono::seconds older_than) override {
    return target_->RemoveStaleTemporaries(older_than);
  }

 private:
  struct ActiveRule {
    FaultRule rule;
    uint64_t matched = 0;  // matching calls seen since the rule was added
  };
  struct Decision {
    std::optional<Status> fault;  // the Status to report, if the call fails
    bool after_call = false;
  };

  // Counts the call and decides whether it fails.
  Decision Check(Op op, std::string_view key);

  const std::shared_ptr<Backend> target_;

  mutable std::mutex mu_;
  std::vector<ActiveRule> rules_;           // GUARDED_BY(mu_)
  std::array<uint64_t, kOpCount> calls_{};  // GUARDED_BY(mu_)
  uint64_t injected_ = 0;                   // GUARDED_BY(mu_)
  std::mt19937_64 rng_;                     // GUARDED_BY(mu_)
};

}  // namespace cairn::storage

#endif  // CAIRN_STORAGE_FAULT_BACKEND_H_
