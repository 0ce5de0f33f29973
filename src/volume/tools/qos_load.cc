// cairn_qos_load: drives a volume in-process at full speed from several
// threads for a while and prints the rate it got next to the limit its type
// promises. Used by bench/qos_bench.sh; not installed.
//
//   cairn_qos_load DIR TYPE IOPS THROUGHPUT_MIBPS BLOCK_BYTES THREADS SECONDS read|write
//
// DIR must not exist (a 1 GiB volume is made there and removed afterwards).
// IOPS / THROUGHPUT 0 = the type's default. Output, one line:
//   type=gp3 bs=4096 rw=write ops_per_s=3001.2 limit_ops=3000 mib_per_s=11.7 limit_mib=125
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "volume/volume.h"

using namespace cairn;
using namespace cairn::volume;

int main(int argc, char** argv) {
  if (argc != 9) {
    std::fprintf(stderr,
                 "usage: %s DIR TYPE IOPS THROUGHPUT_MIBPS BLOCK_BYTES THREADS SECONDS "
                 "read|write\n",
                 argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  Result<VolumeType> type = ParseVolumeType(argv[2]);
  if (!type.ok()) {
    std::fprintf(stderr, "%s\n", type.status().ToString().c_str());
    return 2;
  }
  const QosConfig qos{*type, static_cast<uint32_t>(std::atoi(argv[3])),
                      static_cast<uint32_t>(std::atoi(argv[4]))};
  const uint64_t bs = std::strtoull(argv[5], nullptr, 10);
  const int threads = std::atoi(argv[6]);
  const double seconds = std::atof(argv[7]);
  const bool write = std::string(argv[8]) == "write";
  constexpr uint64_t kSize = uint64_t{1} << 30;

  auto vol = Volume::Create(dir, {.size = kSize, .qos = qos});
  if (!vol.ok()) {
    std::fprintf(stderr, "%s\n", vol.status().ToString().c_str());
    return 1;
  }
  Volume& v = **vol;
  const QosLimits limits = LimitsFor(v.info().qos, kSize);
  // Fill the first 256 MiB so reads hit data, not holes.
  Buffer fill(4 << 20, std::byte{0x5a});
  if (!write) {
    v.SetQos({VolumeType::kStandard, 0, 0}).IgnoreError();
    for (uint64_t off = 0; off < (256 << 20); off += fill.size())
      v.Write(off, fill, false).IgnoreError();
    v.SetQos(qos).IgnoreError();
  }
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  // Completed I/Os (not just admitted ones): what a client would measure.
  std::atomic<uint64_t> done_ios{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      Buffer buf(bs, std::byte(t + 1));
      uint64_t x = 88172645463325252ull + t;
      const uint64_t slots = (256 << 20) / bs;
      while (!stop.load(std::memory_order_relaxed)) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        const uint64_t off = (x % slots) * bs;
        Status s = write ? v.Write(off, buf, false) : v.Read(off, buf);
        if (!s.ok()) errors++;
        done_ios.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  // Half a second of warm-up: the buckets start full (a 0.1 s burst), which
  // is not the sustained rate being measured.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const uint64_t base = done_ios.load();
  const auto measured_from = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const uint64_t ios = done_ios.load() - base;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - measured_from).count();
  stop = true;
  for (auto& th : pool) th.join();
  // Operations as the type counts them (volume_type.h: 256 KiB or 1 MiB units).
  const double ops = double(ios * CountedOps(limits, bs)) / elapsed;
  const double mib = double(ios * bs) / elapsed / (1 << 20);
  const double peak =
      limits.burst_bytes_per_sec > 0 ? limits.burst_bytes_per_sec : limits.bytes_per_sec;
  std::printf(
      "type=%s bs=%llu rw=%s threads=%d seconds=%.1f ops_per_s=%.1f limit_ops=%.0f "
      "mib_per_s=%.2f limit_mib=%.1f errors=%d\n",
      argv[2], static_cast<unsigned long long>(bs), write ? "write" : "read", threads, elapsed, ops,
      limits.unlimited ? 0.0 : limits.iops, mib, limits.unlimited ? 0.0 : peak / (1 << 20),
      errors.load());
  Status s = v.Close();
  vol->reset();
  if (s.ok()) s = Volume::Remove(dir);
  if (!s.ok()) std::fprintf(stderr, "%s\n", s.ToString().c_str());
  return errors.load() == 0 && s.ok() ? 0 : 1;
}
