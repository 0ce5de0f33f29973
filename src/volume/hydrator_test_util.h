// Test helpers for hydration: an in-memory BlockSource and a fake clock.
#ifndef CAIRN_VOLUME_HYDRATOR_TEST_UTIL_H_
#define CAIRN_VOLUME_HYDRATOR_TEST_UTIL_H_

#include <fmt/format.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "volume/block_device.h"
#include "volume/qos.h"

namespace cairn::volume::testing {

// A BlockSource over a buffer. All-zero blocks are holes (not in
// DataExtents). Blocks in `corrupt` fail with kCorruption like a damaged
// snapshot block. Counts reads per block.
class MemorySource : public BlockSource {
 public:
  MemorySource(Buffer data, uint32_t block_size)
      : data_(std::move(data)), block_size_(block_size) {}

  uint64_t Size() const override { return data_.size(); }
  uint32_t BlockSize() const override { return block_size_; }
  std::string Describe() const override { return "memory source"; }
  Status Read(uint64_t offset, MutableByteSpan out) override {
    if (offset > data_.size() || out.size() > data_.size() - offset) {
      return InvalidArgumentError(
          fmt::format("memory source: read {}+{} out of range", offset, out.size()));
    }
    reads_.fetch_add(1);
    if (out.empty()) return Status::OK();
    const uint64_t first = offset / block_size_;
    const uint64_t last = (offset + out.size() - 1) / block_size_;
    {
      std::lock_guard lock(mu_);
      for (uint64_t b = first; b <= last; ++b) {
        if (corrupt_.count(b)) {
          return CorruptionError(
              fmt::format("memory source: block {} (offset {}) is damaged", b, b * block_size_));
        }
      }
    }
    std::memcpy(out.data(), data_.data() + offset, out.size());
    return Status::OK();
  }
  Result<std::vector<DeviceExtent>> DataExtents() override {
    std::vector<DeviceExtent> out;
    for (uint64_t off = 0; off < data_.size(); off += block_size_) {
      const uint64_t len = std::min<uint64_t>(block_size_, data_.size() - off);
      if (IsAllZero(ByteSpan(data_).subspan(off, len))) continue;
      if (!out.empty() && out.back().offset + out.back().length == off) {
        out.back().length += len;
      } else {
        out.push_back({off, len, false, false});
      }
    }
    return out;
  }

  void Corrupt(uint64_t block) {
    std::lock_guard lock(mu_);
    corrupt_.insert(block);
  }
  void Repair() {
    std::lock_guard lock(mu_);
    corrupt_.clear();
  }
  // Records the length of every run asked for, then reads block by block.
  Status ReadBlocks(uint64_t first, uint64_t count, const BlockSink& sink) override {
    {
      std::lock_guard lock(mu_);
      runs_.push_back(count);
    }
    return BlockSource::ReadBlocks(first, count, sink);
  }
  std::vector<uint64_t> runs() {
    std::lock_guard lock(mu_);
    return runs_;
  }

  uint64_t reads() const { return reads_.load(); }
  const Buffer& data() const { return data_; }

 private:
  const Buffer data_;
  const uint32_t block_size_;
  std::mutex mu_;
  std::set<uint64_t> corrupt_;   // guarded by mu_
  std::vector<uint64_t> runs_;   // guarded by mu_
  std::atomic<uint64_t> reads_{0};
};

// Time that passes only when someone sleeps; counts the sleeping.
class FakeClock : public Clock {
 public:
  int64_t NowNanos() override { return now_.load(); }
  void SleepNanos(int64_t nanos) override {
    now_.fetch_add(nanos);
    slept_.fetch_add(nanos);
  }
  int64_t slept() const { return slept_.load(); }

 private:
  std::atomic<int64_t> now_{1'000'000'000};
  std::atomic<int64_t> slept_{0};
};

}  // namespace cairn::volume::testing

#endif  // CAIRN_VOLUME_HYDRATOR_TEST_UTIL_H_
