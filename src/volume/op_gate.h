// OpGate: admits I/O into a volume and lets a "closer" stop it briefly.
//
// Every I/O enters the gate (as a reader or a writer) for its duration.
// HoldWrites() stops new writers and waits for those inside to leave
// (freeze, resize, view release); readers go on. Only one holder at a time;
// a second HoldWrites() waits for the first ReleaseWrites(). Shutdown()
// stops everything for good and waits for every I/O inside; Enter then
// fails. Writers waiting at a held gate are admitted when it is released,
// and a holder is never starved by a stream of new writers.
//
// Thread-safety: all methods are thread-safe.
#ifndef CAIRN_VOLUME_OP_GATE_H_
#define CAIRN_VOLUME_OP_GATE_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace cairn::volume {

class OpGate {
 public:
  // False when the gate was shut down.
  bool Enter(bool write) {
    std::unique_lock lock(mu_);
    if (write) cv_.wait(lock, [&] { return !writes_held_ || shut_; });
    if (shut_) return false;
    (write ? writers_ : readers_)++;
    return true;
  }
  void Exit(bool write) {
    std::lock_guard lock(mu_);
    (write ? writers_ : readers_)--;
    if (writers_ == 0 || (shut_ && readers_ + writers_ == 0)) cv_.notify_all();
  }

  // False when the gate was shut down (nothing is held then).
  bool HoldWrites() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !writes_held_ || shut_; });
    if (shut_) return false;
    writes_held_ = true;
    cv_.wait(lock, [&] { return writers_ == 0; });
    return true;
  }
  void ReleaseWrites() {
    std::lock_guard lock(mu_);
    writes_held_ = false;
    cv_.notify_all();
  }

  // REQUIRES: the caller does not hold writes.
  void Shutdown() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !writes_held_; });
    shut_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return readers_ + writers_ == 0; });
  }
  bool shut() const {
    std::lock_guard lock(mu_);
    return shut_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t readers_ = 0;
  uint64_t writers_ = 0;
  bool writes_held_ = false;
  bool shut_ = false;
};

// Enters on construction; ok() false when the gate is shut.
class GateGuard {
 public:
  GateGuard(OpGate& gate, bool write) : gate_(gate), write_(write), ok_(gate.Enter(write)) {}
  ~GateGuard() {
    if (ok_) gate_.Exit(write_);
  }
  GateGuard(const GateGuard&) = delete;
  GateGuard& operator=(const GateGuard&) = delete;
  bool ok() const { return ok_; }

 private:
  OpGate& gate_;
  const bool write_;
  const bool ok_;
};

}  // namespace cairn::volume

#endif  // CAIRN_VOLUME_OP_GATE_H_
