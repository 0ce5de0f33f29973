// The libarchive adapter (see archive_writer.h).
#include "fs/archive_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <random>

#include "core/log.h"

namespace cairn::fs {

Result<ArchiveFormat> ParseArchiveFormat(std::string_view name) {
  if (name == "tar") return ArchiveFormat::kTar;
  if (name == "tar.gz" || name == "tgz") return ArchiveFormat::kTarGz;
  if (name == "tar.zst" || name == "tzst") return ArchiveFormat::kTarZst;
  return InvalidArgumentError(fmt::format(
      "--format {}: unknown archive format (use tar, tar.gz or tar.zst)", EscapeName(name)));
}

std::string_view ArchiveFormatName(ArchiveFormat format) {
  switch (format) {
    case ArchiveFormat::kTar:
      return "tar";
    case ArchiveFormat::kTarGz:
      return "tar.gz";
    case ArchiveFormat::kTarZst:
      return "tar.zst";
  }
  return "tar";
}

ArchiveFormat FormatFromFileName(std::string_view file_name, ArchiveFormat fallback) {
  if (file_name.ends_with(".tar.gz") || file_name.ends_with(".tgz")) return ArchiveFormat::kTarGz;
  if (file_name.ends_with(".tar.zst") || file_name.ends_with(".tzst")) {
    return ArchiveFormat::kTarZst;
  }
  if (file_name.ends_with(".tar")) return ArchiveFormat::kTar;
  return fallback;
}

std::string EscapeName(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  return out;
}

Result<std::string> SafeArchivePath(std::span<const std::string> components) {
  if (components.empty())
    return InvalidArgumentError("an archive name needs at least one component");
  std::string path;
  for (const std::string& c : components) {
    const char* why = nullptr;
    if (c.empty()) {
      why = "is empty";
    } else if (c == "." || c == "..") {
      why = "is a relative directory reference";
    } else if (c.find('/') != std::string::npos) {
      why = "contains '/'";
    } else if (c.find('\0') != std::string::npos) {
      why = "contains a NUL byte";
    }
    if (why != nullptr) {
      return InvalidArgumentError(fmt::format("name \"{}\" {} (after \"{}\"): not archived",
                                              EscapeName(c), why, EscapeName(path)));
    }
    if (!path.empty()) path += '/';
    path += c;
  }
  return path;
}

struct ArchiveWriter::Impl {
  struct archive* a = nullptr;
  int fd = -1;
  bool own_fd = false;     // a temporary file (else stdout)
  std::string path;        // the final path ("-" for stdout)
  std::string temp_path;   // "" for stdout
  uint64_t out_bytes = 0;  // bytes handed to fd
  Status write_error;      // the errno of a failed write(2), for a better message

  ~Impl() {
    if (a != nullptr) {
      archive_write_fail(a);  // no end-of-archive marker on a writer never closed
      archive_write_free(a);
    }
    if (own_fd && fd >= 0) ::close(fd);
    if (!temp_path.empty()) ::unlink(temp_path.c_str());
  }

  std::string Error(std::string_view what) const {
    if (!write_error.ok()) return fmt::format("{}: {}", what, write_error.message());
    const char* msg = archive_error_string(a);
    return fmt::format("{}: {}", what, msg != nullptr ? msg : "libarchive error");
  }
};

namespace {

la_ssize_t WriteCallback(struct archive*, void* client, const void* buffer, size_t length) {
  auto* impl = static_cast<ArchiveWriter::Impl*>(client);
  const char* p = static_cast<const char*>(buffer);
  size_t left = length;
  while (left > 0) {
    ssize_t n = ::write(impl->fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      impl->write_error = ErrnoToStatus(
          errno, fmt::format("writing {}", impl->own_fd ? impl->temp_path : "to stdout"));
      return -1;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  impl->out_bytes += length;
  return static_cast<la_ssize_t>(length);
}

// Splits nanoseconds since the epoch into seconds and 0 <= nsec < 1e9.
std::pair<int64_t, long> SplitNs(int64_t ns) {
  int64_t sec = ns / 1'000'000'000;
  int64_t rem = ns % 1'000'000'000;
  if (rem < 0) {
    sec -= 1;
    rem += 1'000'000'000;
  }
  return {sec, static_cast<long>(rem)};
}

Result<int> CreateTempBeside(const std::string& path, std::string& temp_path) {
  std::random_device rd;
  for (int attempt = 0; attempt < 20; ++attempt) {
    temp_path = fmt::format("{}.cairn-tmp-{:08x}", path, rd());
    int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) return fd;
    if (errno != EEXIST) {
      Status s = ErrnoToStatus(errno, "creating " + temp_path);
      temp_path.clear();
      return s.WithContext("writing archive " + path);
    }
  }
  temp_path.clear();
  return AlreadyExistsError("writing archive " + path + ": no free temporary name beside it");
}

}  // namespace

ArchiveWriter::ArchiveWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ArchiveWriter::~ArchiveWriter() = default;

uint64_t ArchiveWriter::archive_bytes() const { return impl_->out_bytes; }

Result<std::unique_ptr<ArchiveWriter>> ArchiveWriter::Create(const std::string& path,
                                                             ArchiveFormat format) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  if (path == "-") {
    impl->fd = STDOUT_FILENO;
  } else {
    ASSIGN_OR_RETURN(impl->fd, CreateTempBeside(path, impl->temp_path));
    impl->own_fd = true;
  }
  impl->a = archive_write_new();
  if (impl->a == nullptr) return ResourceExhaustedError("archive_write_new: out of memory");
  struct archive* a = impl->a;
  auto check = [&](int r, std::string_view what) -> Status {
    if (r == ARCHIVE_OK) return Status::OK();
    return InternalError(impl->Error(fmt::format("setting up archive {}: {}", path, what)));
  };
  RETURN_IF_ERROR(check(archive_write_set_format_pax(a), "pax format"));
  // SCHILY.xattr.* only: GNU tar warns about every LIBARCHIVE.xattr.* record,
  // and libarchive reads SCHILY ones too.
  RETURN_IF_ERROR(
      check(archive_write_set_format_option(a, "pax", "xattrheader", "SCHILY"), "xattrheader"));
  switch (format) {
    case ArchiveFormat::kTar:
      break;
    case ArchiveFormat::kTarGz:
      RETURN_IF_ERROR(check(archive_write_add_filter_gzip(a), "gzip filter"));
      break;
    case ArchiveFormat::kTarZst:
      RETURN_IF_ERROR(check(archive_write_add_filter_zstd(a), "zstd filter"));
      break;
  }
  if (format != ArchiveFormat::kTar) {
    // A compressed stream is not padded to a whole tar block.
    RETURN_IF_ERROR(check(archive_write_set_bytes_in_last_block(a, 1), "block padding"));
  }
  if (archive_write_open2(a, impl.get(), nullptr, WriteCallback, nullptr, nullptr) != ARCHIVE_OK) {
    return IoError(impl->Error("opening archive " + path));
  }
  return std::unique_ptr<ArchiveWriter>(new ArchiveWriter(std::move(impl)));
}

Status ArchiveWriter::WriteHeader(const ArchiveEntry& e) {
  if (closed_) return InternalError("archive " + impl_->path + ": written after Close()");
  if (file_open_) {
    return InternalError(fmt::format("archive {}: entry \"{}\" added while \"{}\" is open",
                                     impl_->path, EscapeName(e.path), EscapeName(file_path_)));
  }
  if (e.path.empty() || e.path.front() == '/') {
    return InternalError(
        fmt::format("archive entry name \"{}\" is not relative", EscapeName(e.path)));
  }
  if ((e.mode & S_IFMT) == S_IFSOCK) {
    return InvalidArgumentError(
        fmt::format("\"{}\" is a socket: tar cannot hold it", EscapeName(e.path)));
  }
  struct archive_entry* entry = archive_entry_new();
  if (entry == nullptr) return ResourceExhaustedError("archive_entry_new: out of memory");
  std::unique_ptr<struct archive_entry, void (*)(struct archive_entry*)> guard(entry,
                                                                               archive_entry_free);
  archive_entry_copy_pathname(entry, e.path.c_str());
  archive_entry_set_mode(entry, e.mode);
  archive_entry_set_uid(entry, e.uid);
  archive_entry_set_gid(entry, e.gid);
  auto [as, an] = SplitNs(e.atime_ns);
  auto [ms, mn] = SplitNs(e.mtime_ns);
  auto [cs, cn] = SplitNs(e.ctime_ns);
  archive_entry_set_atime(entry, as, an);
  archive_entry_set_mtime(entry, ms, mn);
  archive_entry_set_ctime(entry, cs, cn);
  const uint32_t type = e.mode & S_IFMT;
  if (!e.hardlink_target.empty()) {
    archive_entry_copy_hardlink(entry, e.hardlink_target.c_str());
    archive_entry_set_size(entry, 0);
  } else {
    archive_entry_set_size(entry, type == S_IFREG ? static_cast<la_int64_t>(e.size) : 0);
  }
  if (type == S_IFLNK) archive_entry_copy_symlink(entry, e.symlink_target.c_str());
  if (type == S_IFCHR || type == S_IFBLK) {
    archive_entry_set_rdevmajor(entry, e.rdev_major);
    archive_entry_set_rdevminor(entry, e.rdev_minor);
  }
  for (const auto& [name, value] : e.xattrs) {
    archive_entry_xattr_add_entry(entry, name.c_str(), value.data(), value.size());
  }
  if (type == S_IFREG && e.hardlink_target.empty() && e.sparse) {
    // The map must end at the size: a file ending in a hole gets a last,
    // empty range there (GNU tar then extends the file to its size).
    for (const auto& [offset, length] : e.data_ranges) {
      archive_entry_sparse_add_entry(entry, static_cast<la_int64_t>(offset),
                                     static_cast<la_int64_t>(length));
    }
    if (e.data_ranges.empty() && e.size > 0) {
      // All holes: the last byte is stored as data (a zero), since
      // libarchive 3.6 reads a map without data as an empty file.
      archive_entry_sparse_add_entry(entry, static_cast<la_int64_t>(e.size - 1), 1);
    } else if (!e.data_ranges.empty() &&
               e.data_ranges.back().first + e.data_ranges.back().second < e.size) {
      archive_entry_sparse_add_entry(entry, static_cast<la_int64_t>(e.size), 0);
    }
  }
  int r = archive_write_header(impl_->a, entry);
  if (r == ARCHIVE_WARN) {
    const char* msg = archive_error_string(impl_->a);
    LogWarning(fmt::format("archive entry \"{}\": {}", EscapeName(e.path),
                           EscapeName(msg != nullptr ? msg : "libarchive warning")));
  } else if (r != ARCHIVE_OK) {
    return IoError(impl_->Error(
        fmt::format("writing the header of \"{}\" to {}", EscapeName(e.path), impl_->path)));
  }
  ++entries_;
  return Status::OK();
}

Status ArchiveWriter::Add(const ArchiveEntry& e) {
  if ((e.mode & S_IFMT) == S_IFREG && e.hardlink_target.empty() && e.size > 0) {
    return InvalidArgumentError(
        fmt::format("\"{}\" is a regular file of {} bytes: write it with BeginFile",
                    EscapeName(e.path), e.size));
  }
  return WriteHeader(e);
}

Status ArchiveWriter::BeginFile(const ArchiveEntry& e) {
  if ((e.mode & S_IFMT) != S_IFREG || !e.hardlink_target.empty()) {
    return InvalidArgumentError(
        fmt::format("\"{}\" is not a regular file: use Add", EscapeName(e.path)));
  }
  uint64_t stored = e.size;
  if (e.sparse) {
    stored = 0;
    uint64_t end = 0;
    for (const auto& [offset, length] : e.data_ranges) {
      if (length == 0 || offset < end || offset > e.size || length > e.size - offset) {
        return InvalidArgumentError(fmt::format(
            "\"{}\": data range {}+{} is empty, out of order or outside its size of {} bytes",
            EscapeName(e.path), offset, length, e.size));
      }
      end = offset + length;
      stored += length;
    }
  }
  RETURN_IF_ERROR(WriteHeader(e));
  file_open_ = true;
  file_path_ = e.path;
  file_size_ = stored;
  file_written_ = 0;
  file_sparse_ = e.sparse;
  file_logical_size_ = e.size;
  ranges_ = e.sparse ? e.data_ranges : std::vector<std::pair<uint64_t, uint64_t>>{};
  range_ = 0;
  logical_ = 0;
  return Status::OK();
}

Status ArchiveWriter::SkipHole(uint64_t length) {
  static const Buffer* zeros = new Buffer(1 << 20);
  while (length > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(length, zeros->size()));
    // libarchive's pax writer stores nothing for bytes inside a hole of the
    // map; a call must not cross from a hole into data (it would misplace
    // the data in libarchive 3.6), so holes and data go in separate calls.
    la_ssize_t w = archive_write_data(impl_->a, zeros->data(), n);
    if (w != static_cast<la_ssize_t>(n)) {
      return IoError(impl_->Error(
          fmt::format("skipping a hole of \"{}\" in {}", EscapeName(file_path_), impl_->path)));
    }
    length -= n;
    logical_ += n;
  }
  return Status::OK();
}

Status ArchiveWriter::Write(ByteSpan data) {
  if (!file_open_) return InternalError("archive " + impl_->path + ": Write without BeginFile");
  if (data.size() > file_size_ - file_written_) {
    return IoError(fmt::format("\"{}\": more data than its size of {} bytes",
                               EscapeName(file_path_), file_size_));
  }
  while (!data.empty()) {
    size_t want = data.size();
    if (file_sparse_) {  // at most to the end of the current range
      const auto [offset, length] = ranges_[range_];
      if (logical_ < offset) RETURN_IF_ERROR(SkipHole(offset - logical_));
      want = static_cast<size_t>(std::min<uint64_t>(want, offset + length - logical_));
    }
    la_ssize_t n = archive_write_data(impl_->a, data.data(), want);
    if (n <= 0) {
      return IoError(impl_->Error(
          fmt::format("writing the data of \"{}\" to {}", EscapeName(file_path_), impl_->path)));
    }
    data = data.subspan(static_cast<size_t>(n));
    file_written_ += static_cast<uint64_t>(n);
    bytes_ += static_cast<uint64_t>(n);
    if (file_sparse_) {
      logical_ += static_cast<uint64_t>(n);
      if (logical_ == ranges_[range_].first + ranges_[range_].second) ++range_;
    }
  }
  return Status::OK();
}

Status ArchiveWriter::EndFile() {
  if (!file_open_) return InternalError("archive " + impl_->path + ": EndFile without BeginFile");
  file_open_ = false;
  if (file_written_ != file_size_) {
    return IoError(fmt::format("\"{}\": {} bytes written of its size {}", EscapeName(file_path_),
                               file_written_, file_size_));
  }
  if (file_sparse_ && ranges_.empty() && file_logical_size_ > 0) {
    // All holes: the stored last byte (see WriteHeader).
    RETURN_IF_ERROR(SkipHole(file_logical_size_ - 1 - logical_));
    static const char zero = 0;
    if (archive_write_data(impl_->a, &zero, 1) != 1) {
      return IoError(impl_->Error(
          fmt::format("writing the data of \"{}\" to {}", EscapeName(file_path_), impl_->path)));
    }
    logical_ += 1;
  }
  if (file_sparse_) RETURN_IF_ERROR(SkipHole(file_logical_size_ - logical_));
  if (archive_write_finish_entry(impl_->a) != ARCHIVE_OK) {
    return IoError(
        impl_->Error(fmt::format("finishing \"{}\" in {}", EscapeName(file_path_), impl_->path)));
  }
  return Status::OK();
}

Status ArchiveWriter::Close() {
  if (closed_) return InternalError("archive " + impl_->path + ": closed twice");
  if (file_open_) {
    return InternalError(fmt::format("archive {}: Close() while \"{}\" is open", impl_->path,
                                     EscapeName(file_path_)));
  }
  closed_ = true;
  Impl& im = *impl_;
  int r = archive_write_close(im.a);
  if (r != ARCHIVE_OK) return IoError(im.Error("finishing archive " + im.path));
  archive_write_free(im.a);
  im.a = nullptr;
  if (!im.own_fd) return Status::OK();
  if (::fsync(im.fd) != 0) return ErrnoToStatus(errno, "fsync " + im.temp_path);
  int fd = im.fd;
  im.fd = -1;
  if (::close(fd) != 0) return ErrnoToStatus(errno, "closing " + im.temp_path);
  if (::rename(im.temp_path.c_str(), im.path.c_str()) != 0) {
    return ErrnoToStatus(errno, "renaming " + im.temp_path + " to " + im.path);
  }
  im.temp_path.clear();
  return Status::OK();
}

}  // namespace cairn::fs
