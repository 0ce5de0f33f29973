// Progress: reports how far a long operation is.
//
// Modes: kNone (silent), kBar (a one-line bar redrawn on stderr: bytes done
// of total, rate, ETA; for terminals), kJsonLines (a JSON object per second on
// stderr: {"type":"progress","op":...,"bytes_done":...,"bytes_total":...,
// "rate":...,"eta_seconds":...}). A background thread draws at most 5 times a
// second; Add() is cheap and thread-safe. Finish() (or the destructor) draws
// the final state and stops the thread.
#ifndef CAIRN_CORE_PROGRESS_H_
#define CAIRN_CORE_PROGRESS_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace cairn {

class Progress {
 public:
  enum class Mode { kNone, kBar, kJsonLines };

  Progress(Mode mode, std::string operation, uint64_t total_bytes);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void Add(uint64_t bytes) { done_.fetch_add(bytes, std::memory_order_relaxed); }
  uint64_t done() const { return done_.load(std::memory_order_relaxed); }
  void Finish();

 private:
  void Run();
  void Draw(bool final);

  const Mode mode_;
  const std::string operation_;
  const uint64_t total_;
  const std::chrono::steady_clock::time_point start_;
  std::atomic<uint64_t> done_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace cairn

#endif  // CAIRN_CORE_PROGRESS_H_
