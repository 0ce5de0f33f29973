#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>

namespace cairn {
namespace {

TEST(ThreadPoolTest, SizeAndDefault) {
  EXPECT_GE(ThreadPool::DefaultThreads(), 1u);
  ThreadPool three(3);
  EXPECT_EQ(three.size(), 3u);
  ThreadPool dflt(0);
  EXPECT_EQ(dflt.size(), ThreadPool::DefaultThreads());
}

TEST(ThreadPoolTest, RunsEveryTaskWithWaitGroup) {
  ThreadPool pool(4, 2);  // small queue: Submit must block, not drop
  WaitGroup wg;
  std::atomic<int> sum{0};
  for (int i = 1; i <= 1000; ++i) {
    wg.Add();
    pool.Submit([&, i] {
      sum += i;
      wg.Done();
    });
  }
  wg.Wait();
  EXPECT_EQ(sum.load(), 500500);
}

TEST(ThreadPoolTest, DestructorFinishesQueuedTasks) {
  std::atomic<int> ran{0};
  {
    ThreadPool pool(2, 100);
    for (int i = 0; i < 100; ++i) {
      pool.Submit([&] {
        std::this_thread::sleep_for(std::chrono::microseconds(100));
        ++ran;
      });
    }
  }
  EXPECT_EQ(ran.load(), 100);
}

TEST(ThreadPoolTest, UsesSeveralThreads) {
  ThreadPool pool(4);
  WaitGroup wg;
  std::mutex mu;
  std::set<std::thread::id> ids;
  std::atomic<int> arrived{0};
  wg.Add(4);
  for (int i = 0; i < 4; ++i) {
    pool.Submit([&] {
      ++arrived;
      // Each task waits until all four run at once: proves 4 workers.
      while (arrived.load() < 4) std::this_thread::yield();
      {
        std::lock_guard lock(mu);
        ids.insert(std::this_thread::get_id());
      }
      wg.Done();
    });
  }
  wg.Wait();
  EXPECT_EQ(ids.size(), 4u);
}

TEST(WaitGroupTest, WaitReturnsAtZero) {
  WaitGroup wg;
  wg.Wait();  // zero: returns at once
  wg.Add(2);
  std::atomic<bool> released{false};
  std::thread waiter([&] {
    wg.Wait();
    released = true;
  });
  wg.Done();
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_FALSE(released.load());
  wg.Done();
  waiter.join();
  EXPECT_TRUE(released.load());
}

}  // namespace
}  // namespace cairn
