// ChangeMap: one bit per block of a device, set when the block is written
// (changed-block tracking), and its file format.
//
// Thread-safety: Mark, Test, MergeFrom and Ranges may run concurrently
// (atomic words; a Mark that returned is seen by a later Ranges). Resize,
// Encode and moves need the caller to exclude concurrent Marks.
//
// File (DIR/cbt), little-endian:
//   "CAIRNCBT" | u32 version = 1 | u32 block_size | u64 device_size |
//   u8 known | u32 reason length | reason (UTF-8) | u64 word count |
//   words (u64 each; bit i of word w is block 64w + i) | SHA-256 of all before
// A file that is short, has another magic or version, or fails its hash is
// reported as damaged (the caller then treats the bits as unknown).
#ifndef CAIRN_VOLUME_CHANGE_MAP_H_
#define CAIRN_VOLUME_CHANGE_MAP_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "volume/volume.h"

namespace cairn::volume {

class ChangeMap {
 public:
  // REQUIRES: block_size is a power of two.
  ChangeMap(uint64_t device_size, uint32_t block_size);

  uint64_t device_size() const { return size_; }
  uint32_t block_size() const { return block_size_; }
  uint64_t block_count() const { return blocks_; }

  // Sets the bits of every block overlapping [offset, offset + length)
  // (clipped to the device). Returns true when at least one bit was newly set.
  bool Mark(uint64_t offset, uint64_t length);
  bool Test(uint64_t block) const;
  // ORs `other` (same block size, not larger) into this map.
  void MergeFrom(const ChangeMap& other);
  // Grows to `new_size` bytes; new blocks are clear.
  void Resize(uint64_t new_size);
  // Set bits as merged byte ranges, clipped to min(limit, device_size()).
  std::vector<ChangedExtents::Range> Ranges(uint64_t limit) const;
  uint64_t CountSet() const;

  // The persisted form.
  struct State {
    bool known = true;
    std::string reason;  // why !known
  };
  Buffer Encode(const State& state) const;
  struct Decoded {
    std::unique_ptr<ChangeMap> map;
    State state;
  };
  // kCorruption ("changed-block bitmap <what> is damaged: ...").
  static Result<Decoded> Decode(ByteSpan file, std::string_view what);

 private:
  uint64_t size_;
  uint32_t block_size_;
  uint64_t blocks_;
  size_t words_;
  std::unique_ptr<std::atomic<uint64_t>[]> bits_;
};

}  // namespace cairn::volume

#endif  // CAIRN_VOLUME_CHANGE_MAP_H_
