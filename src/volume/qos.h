// Token buckets and the per-volume QoS limiter.
//
// TokenBucket is the pure arithmetic, on a caller-supplied clock reading so
// it can be tested without time: tokens refill at `rate` per second up to
// `capacity`; Reserve(n) always succeeds and returns how long the caller
// must wait before its I/O may start. The balance may go negative (an I/O
// larger than the capacity is allowed and paid for by the callers after it),
// so callers are served in reservation order and a large request is never
// starved. Not thread-safe; QosLimiter guards its buckets with a mutex.
//
// QosLimiter holds one volume's buckets (IOPS, bytes/s, and for st1/sc1 a
// peak-rate bucket plus a burst-credit bucket), counts each I/O as
// volume_type.h says, and sleeps the calling thread for as long as the
// buckets require. Limits can be changed at any time (SetLimits); tokens
// already granted stay granted. Thread-safe.
#ifndef CAIRN_VOLUME_QOS_H_
#define CAIRN_VOLUME_QOS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "volume/volume_type.h"

namespace cairn::volume {

// Time source for QoS; tests use a fake one. Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowNanos() = 0;  // monotonic
  virtual void SleepNanos(int64_t nanos) = 0;
  // steady_clock and this_thread::sleep_for.
  static std::shared_ptr<Clock> Real();
};

class TokenBucket {
 public:
  // A full bucket at `now_nanos`. rate > 0, capacity > 0.
  TokenBucket(double rate_per_sec, double capacity, int64_t now_nanos);

  // Takes `tokens` and returns the nanoseconds the caller must wait before
  // its I/O may start (0 when the bucket held enough).
  int64_t Reserve(double tokens, int64_t now_nanos);
  // Tokens on hand at `now_nanos` (negative while in debt).
  double Available(int64_t now_nanos);
  // New rate and capacity from `now_nanos` on; the balance is kept, clipped
  // to the new capacity.
  void SetRate(double rate_per_sec, double capacity, int64_t now_nanos);

  double rate() const { return rate_; }
  double capacity() const { return capacity_; }

 private:
  void Refill(int64_t now_nanos);
  double rate_;
  double capacity_;
  double tokens_;
  int64_t last_nanos_;
};

// How many bucket-seconds of burst a sustained-rate bucket allows after an
// idle period (EBS gp3/io2 have no burst; a small window keeps measured
// rates within 1% over ten seconds).
inline constexpr double kBurstWindowSeconds = 0.1;

class QosLimiter {
 public:
  QosLimiter(const QosLimits& limits, std::shared_ptr<Clock> clock);

  enum class Op { kRead, kWrite, kTrim, kZero };
  // Accounts one I/O of `bytes` bytes and blocks until the buckets allow it.
  // Returns the nanoseconds slept (0 when not throttled).
  int64_t Admit(Op op, uint64_t bytes);

  void SetLimits(const QosLimits& limits);
  QosLimits limits() const;

  struct Stats {
    uint64_t ops = 0;          // counted operations admitted
    uint64_t bytes = 0;        // bytes admitted
    uint64_t throttled = 0;    // I/Os that had to wait
    int64_t waited_nanos = 0;  // total time spent waiting
  };
  Stats stats() const;

 private:
  void BuildBuckets(int64_t now);  // REQUIRES: mu_ held

  const std::shared_ptr<Clock> clock_;
  mutable std::mutex mu_;
  QosLimits limits_;                    // guarded by mu_
  std::unique_ptr<TokenBucket> iops_;   // guarded by mu_; null = unlimited
  std::unique_ptr<TokenBucket> bytes_;  // guarded by mu_
  std::unique_ptr<TokenBucket> peak_;   // guarded by mu_; st1/sc1 only
  Stats stats_;                         // guarded by mu_
};

}  // namespace cairn::volume

#endif  // CAIRN_VOLUME_QOS_H_
