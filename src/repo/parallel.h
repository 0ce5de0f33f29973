// ParallelFor: runs fn(0..n-1) on up to `max_threads` plain threads, joined
// before it returns. Internal to repo/ (loading many small objects).
#ifndef CAIRN_REPO_PARALLEL_H_
#define CAIRN_REPO_PARALLEL_H_

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace cairn::repo {

// `fn` must be safe to call from several threads at once and must not throw.
template <typename Fn>
void ParallelFor(size_t n, size_t max_threads, const Fn& fn) {
  const size_t threads = std::min(n, std::max<size_t>(1, max_threads));
  if (threads <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  workers.reserve(threads);
  for (size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (size_t i = next++; i < n; i = next++) fn(i);
    });
  }
  for (std::thread& w : workers) w.join();
}

// Threads for reading many small objects: I/O bound, so more than cores.
inline constexpr size_t kMetadataReadThreads = 16;

}  // namespace cairn::repo

#endif  // CAIRN_REPO_PARALLEL_H_
