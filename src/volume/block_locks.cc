#include "volume/block_locks.h"

#include <algorithm>

namespace cairn::volume {

BlockLocks::BlockLocks(size_t stripes)
    : count_(stripes), stripes_(std::make_unique<std::shared_mutex[]>(stripes)) {}

BlockLocks::Guard BlockLocks::Lock(uint64_t first, uint64_t last, bool exclusive) {
  std::vector<uint32_t> idx;
  if (last - first + 1 >= count_) {
    idx.resize(count_);
    for (size_t i = 0; i < count_; ++i) idx[i] = static_cast<uint32_t>(i);
  } else {
    idx.reserve(last - first + 1);
    for (uint64_t b = first; b <= last; ++b) idx.push_back(static_cast<uint32_t>(b % count_));
    std::sort(idx.begin(), idx.end());
  }
  for (uint32_t i : idx) {
    if (exclusive) {
      stripes_[i].lock();
    } else {
      stripes_[i].lock_shared();
    }
  }
  return Guard(this, std::move(idx), exclusive);
}

BlockLocks::Guard::Guard(BlockLocks* locks, std::vector<uint32_t> stripes, bool exclusive)
    : locks_(locks), stripes_(std::move(stripes)), exclusive_(exclusive) {}

BlockLocks::Guard::Guard(Guard&& other) noexcept
    : locks_(other.locks_), stripes_(std::move(other.stripes_)), exclusive_(other.exclusive_) {
  other.locks_ = nullptr;
}

BlockLocks::Guard::~Guard() {
  if (locks_ == nullptr) return;
  for (auto it = stripes_.rbegin(); it != stripes_.rend(); ++it) {
    if (exclusive_) {
      locks_->stripes_[*it].unlock();
    } else {
      locks_->stripes_[*it].unlock_shared();
    }
  }
}

}  // namespace cairn::volume
