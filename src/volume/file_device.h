// FileDevice: a BlockDevice over a plain file (or a block device node).
//
// Reads and writes are pread/pwrite at the same offsets; FUA writes use
// pwritev2(RWF_DSYNC); Flush() is fdatasync. Trim punches a hole
// (FALLOC_FL_PUNCH_HOLE); WriteZeroes uses FALLOC_FL_ZERO_RANGE (or a punched
// hole when trimming is allowed) and falls back to writing zero buffers where
// the file system cannot. Extents come from lseek(SEEK_DATA / SEEK_HOLE), so
// a sparse file reports its holes.
//
// The device size is the file's size at Open(); Grow() extends it (the new
// range reads as zeros). Writes never extend the file beyond Size().
//
// Thread-safety: every method may be called from many threads at once; each
// call is one or a few positioned syscalls on a shared descriptor, so no
// lock is held. CAN_MULTI_CONN holds: all callers share the kernel's page
// cache, and fdatasync makes every returned write durable.
#ifndef CAIRN_VOLUME_FILE_DEVICE_H_
#define CAIRN_VOLUME_FILE_DEVICE_H_

#include <atomic>
#include <memory>
#include <string>

#include "volume/block_device.h"

namespace cairn::volume {

class FileDevice : public BlockDevice {
 public:
  struct Options {
    bool read_only = false;
    // Create the file (sparse, `create_size` bytes) if it does not exist; an
    // existing file is opened as it is (its size wins).
    bool create = false;
    uint64_t create_size = 0;
  };

  // Opens `path`. Errors: kNotFound (no such file and !create),
  // kPermissionDenied, kInvalidArgument (a directory), kIoError.
  static Result<std::unique_ptr<FileDevice>> Open(const std::string& path, Options options);
  // Same as Open(path, {.read_only = read_only}).
  static Result<std::unique_ptr<FileDevice>> Open(const std::string& path, bool read_only = false);

  ~FileDevice() override;
  FileDevice(const FileDevice&) = delete;
  FileDevice& operator=(const FileDevice&) = delete;

  uint64_t Size() const override { return size_.load(std::memory_order_acquire); }
  Capabilities caps() const override;
  Geometry geometry() const override;
  std::string Describe() const override { return path_; }

  Status Read(uint64_t offset, MutableByteSpan out) override;
  Status Write(uint64_t offset, ByteSpan data, bool fua) override;
  Status Flush() override;
  Status Trim(uint64_t offset, uint64_t length) override;
  Status WriteZeroes(uint64_t offset, uint64_t length, bool may_trim, bool fua,
                     bool fast_only) override;
  Result<std::vector<DeviceExtent>> Extents(uint64_t offset, uint64_t length) override;

  // Extends a regular file to `new_size` bytes (sparse). Shrinking is
  // kInvalidArgument; a block device node cannot grow (kFailedPrecondition).
  Status Grow(uint64_t new_size);

  // At most this many extents are returned by one Extents() call.
  static constexpr size_t kMaxExtentsPerCall = 1024;

 private:
  FileDevice(std::string path, int fd, uint64_t size, bool read_only, bool is_block_device);

  Status WriteZeroBuffers(uint64_t offset, uint64_t length);
  Status SyncIfFua(bool fua, uint64_t offset, uint64_t length);

  const std::string path_;
  const int fd_;
  const bool read_only_;
  const bool is_block_device_;
  std::atomic<uint64_t> size_;
  // Cleared the first time the file system answers EOPNOTSUPP, so later
  // calls skip straight to the fallback.
  std::atomic<bool> punch_ok_{true};
  std::atomic<bool> zero_range_ok_{true};
  std::atomic<bool> seek_data_ok_{true};
};

}  // namespace cairn::volume

#endif  // CAIRN_VOLUME_FILE_DEVICE_H_
