// OrderedReader (internal to fs/): reads a sequence of device ranges and
// hands their bytes to a sink in order, keeping up to `window` reads in
// flight on a thread pool — the read-ahead behind ExtFilesystem::ReadFile.
// Over a snapshot in S3 each read fetches repository blocks, so the window
// keeps several requests in flight while the sink (an archive, stdout)
// consumes the earlier ones. No libext2fs here.
//
// Memory: at most `window` pieces (each at most kMaxPiece bytes) are held.
// On any error (a read, the piece source, the sink) Run waits for the reads
// in flight, then returns the first error: no read outlives Run.
//
// Thread-safety: one Run at a time per reader; the sink and the piece
// source are called on the calling thread only. The device must be
// thread-safe (every BlockDevice is).
#ifndef CAIRN_FS_ORDERED_READER_H_
#define CAIRN_FS_ORDERED_READER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/bytes.h"
#include "core/status.h"
#include "core/thread_pool.h"
#include "volume/block_device.h"

namespace cairn::fs {

// One read: `length` bytes at `device_offset`, or `length` zeros (zero:
// nothing is read). `file_offset` is for error messages.
struct ReadPiece {
  uint64_t file_offset = 0;
  uint64_t device_offset = 0;
  uint32_t length = 0;
  bool zero = false;
};

class OrderedReader {
 public:
  static constexpr uint32_t kMaxPiece = 1 << 20;

  // `pool` null or `window` 0: pieces are read one at a time by the caller.
  // REQUIRES: `pool` (when set) outlives the reader.
  OrderedReader(std::shared_ptr<volume::BlockDevice> device, ThreadPool* pool, size_t window)
      : device_(std::move(device)), pool_(pool), window_(pool == nullptr ? 0 : window) {}

  // Takes pieces from `next` until it returns nullopt, reads them and hands
  // each piece's bytes to `sink`, in order. `what` names the data in error
  // messages ("file inode 12"): a failed read becomes "<what> at offset X
  // (device offset Y): <the device's error>".
  // REQUIRES: every piece's length is in (0, kMaxPiece].
  Status Run(const std::function<Result<std::optional<ReadPiece>>()>& next,
             const std::function<Status(ByteSpan)>& sink, const std::string& what);

 private:
  Status RunInline(const std::function<Result<std::optional<ReadPiece>>()>& next,
                   const std::function<Status(ByteSpan)>& sink, const std::string& what);

  std::shared_ptr<volume::BlockDevice> device_;
  ThreadPool* pool_;
  size_t window_;
};

}  // namespace cairn::fs

#endif  // CAIRN_FS_ORDERED_READER_H_
