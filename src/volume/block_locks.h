// BlockLocks: reader/writer locks over ranges of blocks, striped.
//
// Block b maps to stripe b % stripes; a range locks each of its stripes in
// increasing stripe order (all stripes when the range is at least as long),
// so two range locks never deadlock. Writes to a volume hold their blocks
// exclusively (copy-on-write and read-modify-write of encrypted sectors
// happen under it); reads of a frozen view hold not-yet-copied blocks
// shared. Unrelated blocks that share a stripe wait for each other, which
// costs a little concurrency and no correctness.
//
// Thread-safety: thread-safe. A Guard is used by one thread.
#ifndef CAIRN_VOLUME_BLOCK_LOCKS_H_
#define CAIRN_VOLUME_BLOCK_LOCKS_H_

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <vector>

namespace cairn::volume {

class BlockLocks {
 public:
  explicit BlockLocks(size_t stripes = 1024);

  class Guard {
   public:
    Guard(Guard&& other) noexcept;
    Guard& operator=(Guard&&) = delete;
    Guard(const Guard&) = delete;
    ~Guard();

   private:
    friend class BlockLocks;
    Guard(BlockLocks* locks, std::vector<uint32_t> stripes, bool exclusive);
    BlockLocks* locks_;
    std::vector<uint32_t> stripes_;
    bool exclusive_;
  };

  // Locks blocks [first, last] (inclusive).
  Guard Lock(uint64_t first, uint64_t last, bool exclusive);

 private:
  const size_t count_;
  std::unique_ptr<std::shared_mutex[]> stripes_;
};

}  // namespace cairn::volume

#endif  // CAIRN_VOLUME_BLOCK_LOCKS_H_
