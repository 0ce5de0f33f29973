// BlockDevice and BlockSource: the two interfaces every block consumer in
// cairn sees (DESIGN.md "Layers").
//
// A BlockDevice is a random-access, byte-addressed device of a fixed size: a
// live volume, a volume's frozen snapshot view, a plain file. nbd/ serves any
// BlockDevice; fs/ reads any BlockDevice. A BlockSource is the read-only
// thing a volume hydrates from (a snapshot in a repository, in service/).
//
// Offsets and lengths are in bytes; no alignment is required by the
// interface (an implementation may be faster on aligned I/O, and says its
// preferred granularity in Geometry). Every range must lie inside [0, size):
// an out-of-range request is kInvalidArgument naming offset and length, and
// changes nothing.
//
// Thread-safety: every method may be called from many threads at once
// (several NBD connections, many requests in flight). A write that returned
// is visible to every later read from any thread. Durability: a write is
// durable once Flush() returns OK, or at once when it was made with fua.
#ifndef CAIRN_VOLUME_BLOCK_DEVICE_H_
#define CAIRN_VOLUME_BLOCK_DEVICE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"

namespace cairn::volume {

// What an implementation can do. A device that is !writable answers every
// mutating call with kPermissionDenied ("device is read-only").
struct Capabilities {
  bool writable = false;
  bool flush = false;         // Flush() does something (else it is a no-op OK)
  bool fua = false;           // Write(..., fua=true) is durable on return
  bool trim = false;          // Trim() may free space
  bool write_zeroes = false;  // WriteZeroes() faster than writing a buffer
  bool fast_zero = false;     // WriteZeroes(..., fast_only=true) supported
  bool extents = false;       // Extents() reports real holes (else all data)
  // Several clients may use the device at once and see each other's
  // flushed writes consistently (NBD CAN_MULTI_CONN may be advertised).
  bool multi_conn = false;
};

struct Geometry {
  uint32_t minimum = 1;         // smallest addressable unit
  uint32_t preferred = 4096;    // fastest request granularity
  uint32_t maximum = 32 << 20;  // largest single Read/Write this device takes
};

// One range of a device with its state. Holes read as zeros.
struct DeviceExtent {
  uint64_t offset = 0;
  uint64_t length = 0;
  bool hole = false;  // not allocated (reads as zeros)
  bool zero = false;  // known to read as zeros (a hole is always zero)
};

class BlockDevice {
 public:
  virtual ~BlockDevice() = default;

  virtual uint64_t Size() const = 0;
  virtual Capabilities caps() const = 0;
  virtual Geometry geometry() const { return {}; }
  // For messages: "vol-0a1b2c3d4e5f60718", "/srv/disk.img".
  virtual std::string Describe() const = 0;

  // Fills `out` with the bytes at [offset, offset + out.size()).
  virtual Status Read(uint64_t offset, MutableByteSpan out) = 0;
  // Writes `data` at `offset`; with `fua`, durable before returning.
  virtual Status Write(uint64_t offset, ByteSpan data, bool fua) = 0;
  // Makes every write that returned before this call durable.
  virtual Status Flush() = 0;
  // The range's content becomes unspecified (it may read as zeros or as the
  // old data); space may be freed. Never an error on a device without trim.
  virtual Status Trim(uint64_t offset, uint64_t length) = 0;
  // The range reads as zeros afterwards. `may_trim`: holes may be punched.
  // `fast_only`: return kUnavailable ("fast zero not supported") at once
  // instead of writing zeros slowly (NBD FAST_ZERO).
  virtual Status WriteZeroes(uint64_t offset, uint64_t length, bool may_trim, bool fua,
                             bool fast_only) = 0;
  // The extents covering [offset, offset + length), in order, contiguous,
  // together covering at least the first byte of the range (an
  // implementation may stop early; callers ask again from where it ended).
  // A device without extent information returns one data extent.
  virtual Result<std::vector<DeviceExtent>> Extents(uint64_t offset, uint64_t length) = 0;
};

// Checks [offset, offset + length) against `size`: kInvalidArgument
// "<what>: range offset X length Y is outside the device (size Z)".
Status CheckRange(uint64_t offset, uint64_t length, uint64_t size, std::string_view what);

// The read-only source a volume hydrates from.
class BlockSource {
 public:
  virtual ~BlockSource() = default;
  virtual uint64_t Size() const = 0;
  // The source's natural block (a snapshot's block size); reads of whole
  // aligned blocks are the efficient ones.
  virtual uint32_t BlockSize() const = 0;
  virtual std::string Describe() const = 0;
  // Fills `out` from [offset, offset + out.size()); every byte verified by
  // the source (a damaged block is kCorruption naming block and offset).
  virtual Status Read(uint64_t offset, MutableByteSpan out) = 0;
  // Ranges that may hold data, sorted; the rest is zeros.
  virtual Result<std::vector<DeviceExtent>> DataExtents() = 0;

  // Hands each of the whole blocks [first, first + count) to `sink` once
  // (BlockSize() bytes; the source's last block may be short), verified as
  // Read verifies, in the order the source reads them best. A source that
  // fetches neighbouring blocks with one request (a snapshot: one range of
  // a pack) overrides this; the default reads block by block, ascending. Stops at the first failure (naming the
  // block) or the first error `sink` returns, and returns it; the blocks
  // handed over before stay handed over. Bulk transfer (hydration's
  // background): nothing is cached. REQUIRES: the blocks lie within Size().
  using BlockSink = std::function<Status(uint64_t block, ByteSpan data)>;
  virtual Status ReadBlocks(uint64_t first, uint64_t count, const BlockSink& sink);
};

}  // namespace cairn::volume

#endif  // CAIRN_VOLUME_BLOCK_DEVICE_H_
