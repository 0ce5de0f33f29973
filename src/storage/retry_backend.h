// RetryingBackend: wraps another Backend and retries calls that failed with
// kUnavailable (5xx, 503 SlowDown, throttling, resets, timeouts), the one
// code that says "the same call may succeed". Every other code is returned
// at once: retrying a 403, a 404 or a 400 cannot help.
//
// Backoff is exponential with full jitter (AWS's recommendation): before
// retry n (1-based) it sleeps a uniform random time in
// [0, min(max_backoff, initial_backoff * 2^(n-1))]. A call gives up after
// max_attempts attempts, or earlier when the next sleep would pass
// max_total since its first attempt; it then returns the last error with
// "gave up after N attempts in Xs: " in front. Each attempt is itself
// bounded by the wrapped backend's timeouts, so a call fails in bounded time.
// Each retry is logged with LogInfo (visible with -v) and counted.
//
// PutIfAbsent is retried like Put; a retry that finds the object (its own
// earlier attempt landed but the reply was lost) returns kAlreadyExists, as
// the Backend contract allows.
//
// List is retried without calling `fn` twice for a key: keys delivered by a
// failed attempt are skipped when the listing is repeated. An error returned
// by `fn` itself is never retried.
//
// Thread-safety: every method may be called from many threads at once; the
// counter is atomic and the jitter RNG sits under a mutex.
#ifndef CAIRN_STORAGE_RETRY_BACKEND_H_
#define CAIRN_STORAGE_RETRY_BACKEND_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>

#include "storage/backend.h"

namespace cairn::storage {

struct RetryPolicy {
  int max_attempts = 8;  // first try included; REQUIRES: >= 1
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{10'000};
  std::chrono::milliseconds max_total{120'000};
  // How to wait; tests replace it to run without sleeping.
  std::function<void(std::chrono::milliseconds)> sleep;
  uint64_t seed = 0;  // jitter RNG seed; 0 picks a random one
  // When set, every retry is also counted here (shared by whoever wants a
  // total across backends, e.g. the CLI's "retries: N" summary).
  std::shared_ptr<std::atomic<uint64_t>> counter;
};

// Runs `attempt` under `policy` as RetryingBackend does: retries while it
// returns kUnavailable. `what` names the call in log lines ("put
// packs/3f/3f2a"). `retries` (may be null) is incremented per retry.
// `jitter(cap)` picks each wait in [0, cap]; null means a uniform random
// one. Used by RetryingBackend and by OpenBackend's initial probe.
Status RetryCall(
    const RetryPolicy &policy, std::string_view what, const std::function<Status()> &attempt,
    std::atomic<uint64_t> *retries,
    const std::function<std::chrono::milliseconds(std::chrono::milliseconds)> &jitter = nullptr);

class RetryingBackend : public Backend {
 public:
  // REQUIRES: target != nullptr.
  explicit RetryingBackend(std::unique_ptr<Backend> target, RetryPolicy policy = {});

  RetryingBackend(const RetryingBackend &) = delete;
  RetryingBackend &operator=(const RetryingBackend &) = delete;

  // Retries made so far (attempts beyond the first of each call).
  uint64_t retries() const { return retries_.load(std::memory_order_relaxed); }

  Status Put(std::string_view key, ByteSpan data) override;
  Status PutWithSha256(std::string_view key, ByteSpan data, const Digest& sha256) override;
  Status PutIfAbsent(std::string_view key, ByteSpan data) override;
  Result<Buffer> Get(std::string_view key) override;
  Result<Buffer> GetRange(std::string_view key, uint64_t offset, uint64_t length) override;
  Result<ObjectInfo> Stat(std::string_view key) override;
  Status List(std::string_view prefix,
              const std::function<Status(const ObjectInfo &)> &fn) override;
  Status Remove(std::string_view key) override;
  std::string Describe() const override { return target_->Describe(); }
  Result<size_t> RemoveStaleTemporaries(std::chrono::seconds older_than) override {
    return target_->RemoveStaleTemporaries(older_than);
  }

  Backend &target() { return *target_; }

 private:
  Status Run(std::string_view what, const std::function<Status()> &attempt);
  // A uniform random duration in [0, cap].
  std::chrono::milliseconds Jitter(std::chrono::milliseconds cap);

  const std::unique_ptr<Backend> target_;
  const RetryPolicy policy_;
  std::atomic<uint64_t> retries_{0};

  std::mutex rng_mu_;
  std::mt19937_64 rng_;  // GUARDED_BY(rng_mu_)
};

}  // namespace cairn::storage

#endif  // CAIRN_STORAGE_RETRY_BACKEND_H_
