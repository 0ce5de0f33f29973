#include "volume/file_device.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace cairn::volume {
namespace {

constexpr uint64_t kZeroBufferSize = 1 << 20;

bool Unsupported(int err) { return err == EOPNOTSUPP || err == ENOSYS || err == EINVAL; }

}  // namespace

Result<std::unique_ptr<FileDevice>> FileDevice::Open(const std::string& path, bool read_only) {
  return Open(path, Options{.read_only = read_only});
}

Result<std::unique_ptr<FileDevice>> FileDevice::Open(const std::string& path, Options options) {
  int flags = (options.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
  bool created = false;
  int fd = -1;
  if (options.create && !options.read_only) {
    fd = ::open(path.c_str(), flags | O_CREAT | O_EXCL, 0600);
    if (fd >= 0) created = true;
    if (fd < 0 && errno != EEXIST) {
      return ErrnoToStatus(errno, fmt::format("creating device file {}", path));
    }
  }
  if (fd < 0) fd = ::open(path.c_str(), flags);
  if (fd < 0) {
    return ErrnoToStatus(errno, fmt::format("opening device file {}", path));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Status s = ErrnoToStatus(errno, fmt::format("stat of {}", path));
    ::close(fd);
    return s;
  }
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
    ::close(fd);
    return InvalidArgumentError(fmt::format(
        "{} is neither a regular file nor a block device; give a disk image or /dev node", path));
  }
  const bool is_block = S_ISBLK(st.st_mode);
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (created && options.create_size > 0) {
    if (::ftruncate(fd, static_cast<off_t>(options.create_size)) != 0) {
      Status s = ErrnoToStatus(
          errno, fmt::format("sizing new device file {} to {} bytes", path, options.create_size));
      ::close(fd);
      ::unlink(path.c_str());
      return s;
    }
    size = options.create_size;
  }
  if (is_block) {
    off_t end = ::lseek(fd, 0, SEEK_END);
    if (end < 0) {
      Status s = ErrnoToStatus(errno, fmt::format("reading the size of block device {}", path));
      ::close(fd);
      return s;
    }
    size = static_cast<uint64_t>(end);
  }
  return std::unique_ptr<FileDevice>(new FileDevice(path, fd, size, options.read_only, is_block));
}

FileDevice::FileDevice(std::string path, int fd, uint64_t size, bool read_only,
                       bool is_block_device)
    : path_(std::move(path)),
      fd_(fd),
      read_only_(read_only),
      is_block_device_(is_block_device),
      size_(size) {}

FileDevice::~FileDevice() { ::close(fd_); }

Capabilities FileDevice::caps() const {
  Capabilities c;
  c.writable = !read_only_;
  c.flush = !read_only_;
  c.fua = !read_only_;
  c.trim = !read_only_;
  c.write_zeroes = !read_only_;
  c.fast_zero = !read_only_;
  c.extents = !is_block_device_;
  c.multi_conn = true;
  return c;
}

Geometry FileDevice::geometry() const { return Geometry{.minimum = 1, .preferred = 4096}; }

Status FileDevice::Read(uint64_t offset, MutableByteSpan out) {
  if (offset > Size() || out.size() > Size() - offset) {  // message built only on failure
    return CheckRange(offset, out.size(), Size(), "read of " + path_);
  }
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n =
        ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, fmt::format("reading {} at offset {}", path_, offset + done));
    }
    if (n == 0) {
      return IoError(
          fmt::format("reading {} at offset {}: unexpected end of file (was the file "
                      "truncated while in use?)",
                      path_, offset + done));
    }
    done += static_cast<size_t>(n);
  }
  return Status::OK();
}

Status FileDevice::Write(uint64_t offset, ByteSpan data, bool fua) {
  if (read_only_) return PermissionDeniedError(fmt::format("{}: device is read-only", path_));
  if (offset > Size() || data.size() > Size() - offset) {
    return CheckRange(offset, data.size(), Size(), "write to " + path_);
  }
  size_t done = 0;
  while (done < data.size()) {
    struct iovec iov {
      const_cast<std::byte*>(data.data() + done), data.size() - done
    };
    ssize_t n = ::pwritev2(fd_, &iov, 1, static_cast<off_t>(offset + done), fua ? RWF_DSYNC : 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, fmt::format("writing {} at offset {}", path_, offset + done));
    }
    done += static_cast<size_t>(n);
  }
  return Status::OK();
}

Status FileDevice::Flush() {
  if (read_only_) return Status::OK();
  if (::fdatasync(fd_) != 0) {
    return ErrnoToStatus(errno, fmt::format("flushing {} (fdatasync)", path_));
  }
  return Status::OK();
}

Status FileDevice::SyncIfFua(bool fua, uint64_t offset, uint64_t length) {
  if (!fua) return Status::OK();
  if (::fdatasync(fd_) != 0) {
    return ErrnoToStatus(
        errno, fmt::format("syncing {} after zeroing offset {} length {}", path_, offset, length));
  }
  return Status::OK();
}

Status FileDevice::Trim(uint64_t offset, uint64_t length) {
  if (read_only_) return PermissionDeniedError(fmt::format("{}: device is read-only", path_));
  RETURN_IF_ERROR(CheckRange(offset, length, Size(), "trim of " + path_));
  if (length == 0 || !punch_ok_.load(std::memory_order_relaxed)) return Status::OK();
  if (::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                  static_cast<off_t>(length)) != 0) {
    if (Unsupported(errno)) {
      punch_ok_.store(false, std::memory_order_relaxed);
      return Status::OK();  // trim is advisory
    }
    return ErrnoToStatus(
        errno, fmt::format("punching a hole in {} at offset {} length {}", path_, offset, length));
  }
  return Status::OK();
}

Status FileDevice::WriteZeroes(uint64_t offset, uint64_t length, bool may_trim, bool fua,
                               bool fast_only) {
  if (read_only_) return PermissionDeniedError(fmt::format("{}: device is read-only", path_));
  RETURN_IF_ERROR(CheckRange(offset, length, Size(), "write zeroes to " + path_));
  if (length == 0) return Status::OK();
  const off_t off = static_cast<off_t>(offset);
  const off_t len = static_cast<off_t>(length);
  auto try_fallocate = [&](int mode, std::atomic<bool>& ok_flag, bool* done) -> Status {
    *done = false;
    if (!ok_flag.load(std::memory_order_relaxed)) return Status::OK();
    if (::fallocate(fd_, mode, off, len) == 0) {
      *done = true;
      return Status::OK();
    }
    if (Unsupported(errno)) {
      ok_flag.store(false, std::memory_order_relaxed);
      return Status::OK();
    }
    return ErrnoToStatus(errno,
                         fmt::format("zeroing {} at offset {} length {}", path_, offset, length));
  };
  bool done = false;
  if (may_trim) {
    RETURN_IF_ERROR(try_fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, punch_ok_, &done));
    if (done) return SyncIfFua(fua, offset, length);
  }
  RETURN_IF_ERROR(try_fallocate(FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, zero_range_ok_, &done));
  if (done) return SyncIfFua(fua, offset, length);
  if (!is_block_device_) {
    // Punch, then allocate again: reads as zeros and stays provisioned.
    RETURN_IF_ERROR(try_fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, punch_ok_, &done));
    if (done) {
      if (::fallocate(fd_, FALLOC_FL_KEEP_SIZE, off, len) != 0 && !Unsupported(errno)) {
        return ErrnoToStatus(
            errno, fmt::format("allocating {} at offset {} length {}", path_, offset, length));
      }
      return SyncIfFua(fua, offset, length);
    }
  }
  if (fast_only) {
    return UnavailableError(fmt::format("{}: fast zero not supported by this file system", path_));
  }
  RETURN_IF_ERROR(WriteZeroBuffers(offset, length));
  return SyncIfFua(fua, offset, length);
}

Status FileDevice::WriteZeroBuffers(uint64_t offset, uint64_t length) {
  static const Buffer zeros(kZeroBufferSize);
  uint64_t done = 0;
  while (done < length) {
    uint64_t n = std::min<uint64_t>(length - done, kZeroBufferSize);
    RETURN_IF_ERROR(Write(offset + done, ByteSpan(zeros.data(), n), false));
    done += n;
  }
  return Status::OK();
}

Result<std::vector<DeviceExtent>> FileDevice::Extents(uint64_t offset, uint64_t length) {
  RETURN_IF_ERROR(CheckRange(offset, length, Size(), "extents of " + path_));
  std::vector<DeviceExtent> out;
  const uint64_t end = offset + length;
  uint64_t pos = offset;
  auto add = [&](uint64_t from, uint64_t to, bool hole) {
    if (to <= from) return;
    if (!out.empty() && out.back().hole == hole && out.back().offset + out.back().length == from) {
      out.back().length += to - from;
      return;
    }
    out.push_back(DeviceExtent{.offset = from, .length = to - from, .hole = hole, .zero = hole});
  };
  while (pos < end && out.size() < kMaxExtentsPerCall) {
    if (is_block_device_ || !seek_data_ok_.load(std::memory_order_relaxed)) {
      add(pos, end, false);
      break;
    }
    off_t data = ::lseek(fd_, static_cast<off_t>(pos), SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) {  // no data at or after pos
        add(pos, end, true);
        break;
      }
      if (Unsupported(errno)) {
        seek_data_ok_.store(false, std::memory_order_relaxed);
        continue;
      }
      return ErrnoToStatus(errno, fmt::format("finding data in {} from offset {}", path_, pos));
    }
    uint64_t d = static_cast<uint64_t>(data);
    if (d > pos) {
      add(pos, std::min(d, end), true);
      pos = std::min(d, end);
      continue;
    }
    off_t hole = ::lseek(fd_, static_cast<off_t>(pos), SEEK_HOLE);
    if (hole < 0) {
      if (errno == ENXIO) {  // the file shrank under us: the rest is zeros
        add(pos, end, true);
        break;
      }
      return ErrnoToStatus(errno, fmt::format("finding holes in {} from offset {}", path_, pos));
    }
    uint64_t h = std::min(static_cast<uint64_t>(hole), end);
    if (h <= pos) h = end;  // defensive: always make progress
    add(pos, h, false);
    pos = h;
  }
  return out;
}

Status FileDevice::Grow(uint64_t new_size) {
  if (read_only_) return PermissionDeniedError(fmt::format("{}: device is read-only", path_));
  if (is_block_device_) {
    return FailedPreconditionError(
        fmt::format("{} is a block device; grow the device itself, then reopen it", path_));
  }
  uint64_t old = Size();
  if (new_size < old) {
    return InvalidArgumentError(fmt::format(
        "{}: cannot shrink from {} to {} bytes; devices only grow", path_, old, new_size));
  }
  if (::ftruncate(fd_, static_cast<off_t>(new_size)) != 0) {
    return ErrnoToStatus(errno, fmt::format("growing {} to {} bytes", path_, new_size));
  }
  size_.store(new_size, std::memory_order_release);
  return Status::OK();
}

}  // namespace cairn::volume
