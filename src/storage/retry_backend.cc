#include "storage/retry_backend.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <thread>
#include <utility>

#include "core/log.h"

namespace cairn::storage {

using std::chrono::milliseconds;

namespace {

// Full jitter from a per-thread generator, for RetryCall without its own.
milliseconds DefaultJitter(milliseconds cap) {
  if (cap.count() <= 0) return milliseconds(0);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return milliseconds(std::uniform_int_distribution<int64_t>(0, cap.count())(rng));
}

}  // namespace

Status RetryCall(const RetryPolicy &policy, std::string_view what,
                 const std::function<Status()> &attempt, std::atomic<uint64_t> *retries,
                 const std::function<milliseconds(milliseconds)> &jitter) {
  const auto start = std::chrono::steady_clock::now();
  const int max_attempts = std::max(policy.max_attempts, 1);
  for (int n = 1;; ++n) {
    Status s = attempt();
    if (s.ok() || s.code() != StatusCode::kUnavailable) return s;
    const auto elapsed =
        std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
    // Cap of the n-th backoff: initial * 2^(n-1), without overflowing.
    milliseconds cap = policy.max_backoff;
    if (n - 1 < 30) cap = std::min(cap, policy.initial_backoff * (int64_t{1} << (n - 1)));
    milliseconds wait = jitter ? jitter(cap) : DefaultJitter(cap);
    if (n >= max_attempts || elapsed + wait > policy.max_total) {
      return Status(s.code(),
                    fmt::format("gave up after {} attempt{} in {:.1f}s: {}", n, n == 1 ? "" : "s",
                                elapsed.count() / 1000.0, s.message()));
    }
    if (retries != nullptr) retries->fetch_add(1, std::memory_order_relaxed);
    if (policy.counter) policy.counter->fetch_add(1, std::memory_order_relaxed);
    LogInfo(fmt::format("retrying {} in {} ms (attempt {} of {}): {}", what, wait.count(), n + 1,
                        max_attempts, s.message()));
    if (policy.sleep) {
      policy.sleep(wait);
    } else {
      std::this_thread::sleep_for(wait);
    }
  }
}

RetryingBackend::RetryingBackend(std::unique_ptr<Backend> target, RetryPolicy policy)
    : target_(std::move(target)),
      policy_(std::move(policy)),
      rng_(policy_.seed != 0 ? policy_.seed : std::random_device{}()) {}

milliseconds RetryingBackend::Jitter(milliseconds cap) {
  if (cap.count() <= 0) return milliseconds(0);
  std::lock_guard lock(rng_mu_);
  std::uniform_int_distribution<int64_t> dist(0, cap.count());
  return milliseconds(dist(rng_));
}

Status RetryingBackend::Run(std::string_view what, const std::function<Status()> &attempt) {
  return RetryCall(policy_, what, attempt, &retries_,
                   [this](milliseconds cap) { return Jitter(cap); });
}

Status RetryingBackend::Put(std::string_view key, ByteSpan data) {
  return Run(fmt::format("put {}", key), [&] { return target_->Put(key, data); });
}

Status RetryingBackend::PutWithSha256(std::string_view key, ByteSpan data,
                                      const Digest& sha256) {
  return Run(fmt::format("put {}", key), [&] { return target_->PutWithSha256(key, data, sha256); });
}

Status RetryingBackend::PutIfAbsent(std::string_view key, ByteSpan data) {
  return Run(fmt::format("put-if-absent {}", key), [&] { return target_->PutIfAbsent(key, data); });
}

Result<Buffer> RetryingBackend::Get(std::string_view key) {
  Result<Buffer> out = InternalError("unreached");
  Status s = Run(fmt::format("get {}", key), [&] {
    out = target_->Get(key);
    return out.status();
  });
  if (!s.ok()) return s;
  return out;
}

Result<Buffer> RetryingBackend::GetRange(std::string_view key, uint64_t offset, uint64_t length) {
  Result<Buffer> out = InternalError("unreached");
  Status s = Run(fmt::format("get {} bytes {}+{}", key, offset, length), [&] {
    out = target_->GetRange(key, offset, length);
    return out.status();
  });
  if (!s.ok()) return s;
  return out;
}

Result<ObjectInfo> RetryingBackend::Stat(std::string_view key) {
  Result<ObjectInfo> out = InternalError("unreached");
  Status s = Run(fmt::format("stat {}", key), [&] {
    out = target_->Stat(key);
    return out.status();
  });
  if (!s.ok()) return s;
  return out;
}

Status RetryingBackend::List(std::string_view prefix,
                             const std::function<Status(const ObjectInfo &)> &fn) {
  std::set<std::string, std::less<>> delivered;
  bool fn_failed = false;
  Status fn_status;
  Status s = Run(fmt::format("list {}", prefix.empty() ? "(all)" : prefix), [&]() -> Status {
    Status st = target_->List(prefix, [&](const ObjectInfo &info) -> Status {
      if (delivered.contains(info.key)) return Status::OK();
      delivered.insert(info.key);
      Status r = fn(info);
      if (!r.ok()) {
        fn_failed = true;
        fn_status = r;
      }
      return r;
    });
    // fn's own error ends the listing as is, whatever its code.
    if (fn_failed) return Status::OK();
    return st;
  });
  if (fn_failed) return fn_status;
  return s;
}

Status RetryingBackend::Remove(std::string_view key) {
  return Run(fmt::format("remove {}", key), [&] { return target_->Remove(key); });
}

}  // namespace cairn::storage
