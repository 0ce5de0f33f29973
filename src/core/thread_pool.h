// ThreadPool: a fixed set of worker threads running submitted tasks in FIFO
// order, with a bounded task queue (Submit blocks when it is full).
//
// Thread-safe. The destructor finishes every task already submitted, then
// joins the workers; no thread outlives the pool. Tasks must not throw.
#ifndef CAIRN_CORE_THREAD_POOL_H_
#define CAIRN_CORE_THREAD_POOL_H_

#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

#include "core/bounded_queue.h"

namespace cairn {

class ThreadPool {
 public:
  // threads == 0 means DefaultThreads().
  explicit ThreadPool(size_t threads, size_t queue_capacity = 256);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void Submit(std::function<void()> task);
  size_t size() const { return workers_.size(); }

  // std::thread::hardware_concurrency(), at least 1.
  static size_t DefaultThreads();

 private:
  BoundedQueue<std::function<void()>> tasks_;
  std::vector<std::thread> workers_;
};

// WaitGroup: counts outstanding work; Wait() blocks until it reaches zero.
class WaitGroup {
 public:
  void Add(size_t n = 1);
  void Done();
  void Wait();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  size_t count_ = 0;  // guarded by mu_
};

}  // namespace cairn

#endif  // CAIRN_CORE_THREAD_POOL_H_
