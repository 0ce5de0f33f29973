#include "volume/qos.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

namespace cairn::volume {
namespace {

class RealClock : public Clock {
 public:
  int64_t NowNanos() override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  void SleepNanos(int64_t nanos) override {
    if (nanos > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(nanos));
  }
};

}  // namespace

std::shared_ptr<Clock> Clock::Real() {
  static std::shared_ptr<Clock> clock = std::make_shared<RealClock>();
  return clock;
}

// ---- TokenBucket ----

TokenBucket::TokenBucket(double rate_per_sec, double capacity, int64_t now_nanos)
    : rate_(rate_per_sec), capacity_(capacity), tokens_(capacity), last_nanos_(now_nanos) {}

void TokenBucket::Refill(int64_t now_nanos) {
  if (now_nanos > last_nanos_) {
    tokens_ =
        std::min(capacity_, tokens_ + rate_ * static_cast<double>(now_nanos - last_nanos_) / 1e9);
    last_nanos_ = now_nanos;
  }
}

int64_t TokenBucket::Reserve(double tokens, int64_t now_nanos) {
  Refill(now_nanos);
  tokens_ -= tokens;
  if (tokens_ >= 0) return 0;
  return static_cast<int64_t>(std::ceil(-tokens_ / rate_ * 1e9));
}

double TokenBucket::Available(int64_t now_nanos) {
  Refill(now_nanos);
  return tokens_;
}

void TokenBucket::SetRate(double rate_per_sec, double capacity, int64_t now_nanos) {
  Refill(now_nanos);
  rate_ = rate_per_sec;
  capacity_ = capacity;
  tokens_ = std::min(tokens_, capacity_);
}

// ---- QosLimiter ----

QosLimiter::QosLimiter(const QosLimits& limits, std::shared_ptr<Clock> clock)
    : clock_(clock ? std::move(clock) : Clock::Real()), limits_(limits) {
  std::lock_guard lock(mu_);
  BuildBuckets(clock_->NowNanos());
}

void QosLimiter::BuildBuckets(int64_t now) {
  if (limits_.unlimited) {
    iops_.reset();
    bytes_.reset();
    peak_.reset();
    return;
  }
  // A sustained-rate bucket holds kBurstWindowSeconds of tokens, and at least
  // one operation (or one I/O unit of bytes) so a lone I/O never waits.
  auto sustained = [&](std::unique_ptr<TokenBucket>& b, double rate, double min_capacity) {
    const double cap = std::max(rate * kBurstWindowSeconds, min_capacity);
    if (b) {
      b->SetRate(rate, cap, now);
    } else {
      b = std::make_unique<TokenBucket>(rate, cap, now);
    }
  };
  sustained(iops_, limits_.iops, 1);
  if (limits_.burst_bytes_per_sec > 0) {
    // Throughput-oriented: the peak bucket caps the rate; the credit bucket
    // refills at the baseline and holds the burst credit.
    sustained(peak_, limits_.burst_bytes_per_sec, static_cast<double>(limits_.io_unit));
    const double cap = std::max(limits_.burst_credit_bytes, static_cast<double>(limits_.io_unit));
    if (bytes_) {
      bytes_->SetRate(limits_.bytes_per_sec, cap, now);
    } else {
      bytes_ = std::make_unique<TokenBucket>(limits_.bytes_per_sec, cap, now);
    }
  } else {
    peak_.reset();
    sustained(bytes_, limits_.bytes_per_sec, static_cast<double>(limits_.io_unit));
  }
}

int64_t QosLimiter::Admit(Op op, uint64_t bytes) {
  int64_t wait = 0;
  {
    std::lock_guard lock(mu_);
    const bool data = op == Op::kRead || op == Op::kWrite;
    const uint64_t ops = data ? CountedOps(limits_, bytes) : 1;
    const uint64_t counted_bytes = data ? bytes : 0;
    stats_.ops += ops;
    stats_.bytes += counted_bytes;
    if (limits_.unlimited) return 0;
    const int64_t now = clock_->NowNanos();
    wait = iops_->Reserve(static_cast<double>(ops), now);
    if (counted_bytes > 0) {
      wait = std::max(wait, bytes_->Reserve(static_cast<double>(counted_bytes), now));
      if (peak_) wait = std::max(wait, peak_->Reserve(static_cast<double>(counted_bytes), now));
    }
    if (wait > 0) {
      stats_.throttled++;
      stats_.waited_nanos += wait;
    }
  }
  if (wait > 0) clock_->SleepNanos(wait);
  return wait;
}

void QosLimiter::SetLimits(const QosLimits& limits) {
  std::lock_guard lock(mu_);
  const bool was_unlimited = limits_.unlimited;
  limits_ = limits;
  if (was_unlimited && !limits.unlimited) {
    iops_.reset();
    bytes_.reset();
    peak_.reset();
  }
  BuildBuckets(clock_->NowNanos());
}

QosLimits QosLimiter::limits() const {
  std::lock_guard lock(mu_);
  return limits_;
}

QosLimiter::Stats QosLimiter::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace cairn::volume
