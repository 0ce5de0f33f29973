// OpenFileSource: a regular file (sparse-aware via SEEK_DATA/SEEK_HOLE) or a
// block device (size via BLKGETSIZE64), read with pread.
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <memory>

#include <fmt/format.h>

#include "repo/source.h"

namespace cairn::repo {
namespace {

class FileSource : public Source {
 public:
  FileSource(int fd, std::string name, uint64_t size, bool is_device)
      : fd_(fd), name_(std::move(name)), size_(size), is_device_(is_device) {}
  ~FileSource() override { ::close(fd_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  uint64_t size() const override { return size_; }
  std::string name() const override { return name_; }

  Status ReadAt(uint64_t offset, MutableByteSpan out) override {
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::pread(fd_, out.data() + done, out.size() - done,
                          static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoToStatus(errno, fmt::format("reading {} at offset {}", name_, offset + done));
      }
      if (n == 0) {
        return IoError(fmt::format("reading {} at offset {}: unexpected end of file "
                                   "(the source shrank while being read?)",
                                   name_, offset + done));
      }
      done += static_cast<size_t>(n);
    }
    return Status::OK();
  }

  Result<std::vector<Extent>> DataExtents() override {
    std::vector<Extent> whole;
    if (size_ > 0) whole.push_back({0, size_});
    if (is_device_) return whole;
    std::vector<Extent> out;
    off_t pos = 0;
    const off_t end = static_cast<off_t>(size_);
    while (pos < end) {
      off_t data = ::lseek(fd_, pos, SEEK_DATA);
      if (data < 0) {
        if (errno == ENXIO) break;  // no data after pos
        if (errno == EINVAL || errno == EOPNOTSUPP) return whole;  // not supported
        return ErrnoToStatus(errno, fmt::format("finding data in {} after offset {}", name_, pos));
      }
      if (data >= end) break;
      off_t hole = ::lseek(fd_, data, SEEK_HOLE);
      if (hole < 0) {
        return ErrnoToStatus(errno, fmt::format("finding holes in {} after offset {}", name_, data));
      }
      if (hole > end) hole = end;
      out.push_back({static_cast<uint64_t>(data), static_cast<uint64_t>(hole - data)});
      pos = hole;
    }
    return out;
  }

 private:
  const int fd_;
  const std::string name_;
  const uint64_t size_;
  const bool is_device_;
};

}  // namespace

Result<std::unique_ptr<Source>> OpenFileSource(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, "opening " + path);
  auto fail = [fd](Status s) {
    ::close(fd);
    return s;
  };
  struct stat st;
  if (::fstat(fd, &st) != 0) return fail(ErrnoToStatus(errno, "stat " + path));

  uint64_t size = 0;
  std::string name;
  bool is_device = false;
  if (S_ISREG(st.st_mode)) {
    size = static_cast<uint64_t>(st.st_size);
    char* real = ::realpath(path.c_str(), nullptr);
    if (real == nullptr) return fail(ErrnoToStatus(errno, "resolving " + path));
    name = real;
    std::free(real);
  } else if (S_ISBLK(st.st_mode)) {
    is_device = true;
    if (::ioctl(fd, BLKGETSIZE64, &size) != 0) {
      return fail(ErrnoToStatus(errno, "getting the size of block device " + path));
    }
    if (!path.empty() && path[0] == '/') {
      name = path;  // keep /dev/disk/by-id/... names as the user gave them
    } else {
      char* real = ::realpath(path.c_str(), nullptr);
      if (real == nullptr) return fail(ErrnoToStatus(errno, "resolving " + path));
      name = real;
      std::free(real);
    }
  } else {
    return fail(InvalidArgumentError(path + " is neither a regular file nor a block device"));
  }
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return std::unique_ptr<Source>(std::make_unique<FileSource>(fd, std::move(name), size, is_device));
}

}  // namespace cairn::repo
