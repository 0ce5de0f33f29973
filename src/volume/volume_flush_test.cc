// Flushes from many threads at once (NBD FLUSH on several connections, as
// qemu-io does on every close): each must succeed. Saving the changed-block
// bitmap goes through one temporary file, so concurrent saves used to fail
// one FLUSH with "renaming …/cbt.tmp: No such file" (tests/e2e/volume_kill.sh
// saw it as a qemu-io writer failing before the kill).
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "volume/test_util.h"
#include "volume/volume.h"

namespace cairn::volume {
namespace {

using testing::Pattern;
using testing::TempDir;

TEST(VolumeFlushTest, ConcurrentFlushesAllSucceedAndTheBitmapSurvives) {
  TempDir tmp;
  const std::string dir = tmp.Sub("vol");
  constexpr uint64_t kBlock = 64 << 10;
  constexpr int kThreads = 4;
  constexpr int kRounds = 150;
  CreateOptions o;
  o.size = kThreads * kRounds * kBlock;
  o.qos.type = VolumeType::kStandard;
  auto created = Volume::Create(dir, o, {});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  std::unique_ptr<Volume> v = std::move(created).value();

  std::atomic<int> failures{0};
  std::string first_error;
  std::mutex error_mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        const uint64_t offset = (uint64_t(i) * kThreads + t) * kBlock;
        Status s = v->Write(offset, Pattern(4096, t * 1000 + i), /*fua=*/false);
        if (s.ok()) s = v->Flush();
        if (!s.ok()) {
          failures.fetch_add(1);
          std::lock_guard lock(error_mu);
          if (first_error.empty()) first_error = s.ToString();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0) << "first: " << first_error;

  // Every written block is in the bitmap a view reports.
  auto view = v->Freeze();
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  auto changed = (*view)->Changed();
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  ASSERT_TRUE(changed->known) << changed->unknown_reason;
  EXPECT_EQ(changed->changed_bytes(), o.size);
  CAIRN_ASSERT_OK((*view)->Release(/*completed=*/false));
  CAIRN_ASSERT_OK(v->Close());
}

}  // namespace
}  // namespace cairn::volume
