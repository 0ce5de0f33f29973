#include "core/thread_pool.h"

#include <cstdio>
#include <cstdlib>

namespace cairn {

ThreadPool::ThreadPool(size_t threads, size_t queue_capacity) : tasks_(queue_capacity) {
  if (threads == 0) threads = DefaultThreads();
  workers_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) {
    workers_.emplace_back([this] {
      while (std::optional<std::function<void()>> task = tasks_.Pop()) (*task)();
    });
  }
}

ThreadPool::~ThreadPool() {
  tasks_.Close();  // workers drain what is queued, then Pop returns nullopt
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::Submit(std::function<void()> task) {
  if (!tasks_.Push(std::move(task))) {
    std::fprintf(stderr, "cairn: fatal: ThreadPool::Submit after shutdown\n");
    std::abort();
  }
}

size_t ThreadPool::DefaultThreads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

void WaitGroup::Add(size_t n) {
  std::lock_guard lock(mu_);
  count_ += n;
}

void WaitGroup::Done() {
  std::lock_guard lock(mu_);
  if (count_ == 0) {
    std::fprintf(stderr, "cairn: fatal: WaitGroup::Done without Add\n");
    std::abort();
  }
  if (--count_ == 0) cv_.notify_all();
}

void WaitGroup::Wait() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return count_ == 0; });
}

}  // namespace cairn
