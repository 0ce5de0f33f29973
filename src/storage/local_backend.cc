#include "storage/local_backend.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <random>
#include <utility>

#include <fmt/format.h>

namespace cairn::storage {
namespace {

constexpr mode_t kFileMode = 0600;  // repositories hold key material
constexpr mode_t kDirMode = 0700;

// Owns a file descriptor; closes it on destruction.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  bool valid() const { return fd_ >= 0; }
  int get() const { return fd_; }
  // Closes now and returns close(2)'s errno (it may report a failed
  // write-back), or 0.
  int Close() { return ::close(std::exchange(fd_, -1)) == 0 ? 0 : errno; }

 private:
  int fd_;
};

// Temporary files are ".<name>.<16 hex>.tmp"; keys may not look like that.
bool IsTempName(std::string_view name) {
  return name.size() > 5 && name.front() == '.' && name.ends_with(".tmp");
}

std::string_view LastSegment(std::string_view key) {
  size_t slash = key.rfind('/');
  return slash == std::string_view::npos ? key : key.substr(slash + 1);
}

Status CheckKey(std::string_view key) {
  RETURN_IF_ERROR(ValidateKey(key));
  if (IsTempName(LastSegment(key))) {
    return InvalidArgumentError(fmt::format(
        "invalid object key '{}': names starting with '.' and ending in '.tmp' "
        "are reserved for temporary files",
        key));
  }
  return Status::OK();
}

std::string RandomSuffix() {
  thread_local std::mt19937_64 rng = [] {
    std::random_device rd;
    return std::mt19937_64((uint64_t{rd()} << 32) | rd());
  }();
  return fmt::format("{:016x}", rng());
}

// A missing object can show up as ENOENT or, when a "directory" on the key's
// path is a file, as ENOTDIR.
int NormalizeMissing(int err) { return err == ENOTDIR ? ENOENT : err; }

std::chrono::system_clock::time_point MTime(const struct stat& st) {
  auto since_epoch = std::chrono::seconds(st.st_mtim.tv_sec) +
                     std::chrono::nanoseconds(st.st_mtim.tv_nsec);
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch));
}

int WriteAll(int fd, ByteSpan data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data = data.subspan(static_cast<size_t>(n));
  }
  return 0;
}

// Makes a directory's entries (a rename, an unlink, a mkdir) durable.
int SyncDir(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return errno;
  if (::fsync(fd.get()) != 0) return errno;
  return fd.Close();
}

// Reads [offset, offset+length) of `path`, clamped to the file's end; the
// whole file when `length` is UINT64_MAX and `offset` is 0.
Result<Buffer> ReadFileRange(const std::string& path, uint64_t offset, uint64_t length) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoToStatus(NormalizeMissing(errno), "reading " + path);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoToStatus(errno, "reading " + path);
  if (!S_ISREG(st.st_mode)) return NotFoundError("reading " + path + ": not an object (not a regular file)");
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (offset >= size) return Buffer();
  Buffer out(static_cast<size_t>(std::min(length, size - offset)));
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd.get(), out.data() + done, out.size() - done,
                        static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, "reading " + path);
    }
    if (n == 0) break;  // the file ends before fstat said it would
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

std::string Absolute(const std::string& root) {
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(root, ec);
  std::string path = (ec ? std::filesystem::path(root) : abs).lexically_normal().string();
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

}  // namespace

Result<std::unique_ptr<LocalBackend>> LocalBackend::Open(std::string root) {
  if (root.empty()) return InvalidArgumentError("empty repository path");
  std::string path = Absolute(root);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return NotFoundError(fmt::format("repository directory {} does not exist", path));
    }
    return ErrnoToStatus(errno, "opening repository directory " + path);
  }
  if (!S_ISDIR(st.st_mode)) {
    return FailedPreconditionError(fmt::format("repository path {} is not a directory", path));
  }
  return std::unique_ptr<LocalBackend>(new LocalBackend(std::move(path)));
}

Result<std::unique_ptr<LocalBackend>> LocalBackend::Create(std::string root) {
  if (root.empty()) return InvalidArgumentError("empty repository path");
  std::string path = Absolute(root);
  // mkdir -p, one component at a time; an existing file at the end is left
  // for Open to report.
  for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    std::string dir = path.substr(0, slash);
    std::string parent = dir.substr(0, std::max<size_t>(dir.rfind('/'), 1));
    if (::mkdir(dir.c_str(), kDirMode) == 0) {
      if (int err = SyncDir(parent)) return ErrnoToStatus(err, "syncing directory " + parent);
    } else if (errno != EEXIST) {
      return ErrnoToStatus(errno, "creating repository directory " + dir);
    }
    if (slash == std::string::npos) break;
  }
  return Open(std::move(path));
}

std::string LocalBackend::PathOf(std::string_view key) const {
  std::string path = root_ == "/" ? "" : root_;
  path += '/';
  path += key;
  return path;
}

void LocalBackend::ForgetDirs() {
  std::lock_guard lock(dirs_mu_);
  known_dirs_.clear();
}

Status LocalBackend::EnsureDir(const std::string& rel_dir) {
  if (rel_dir.empty()) return Status::OK();  // the root exists (Open checked)
  {
    std::lock_guard lock(dirs_mu_);
    if (known_dirs_.contains(rel_dir)) return Status::OK();
  }
  for (size_t slash = rel_dir.find('/');; slash = rel_dir.find('/', slash + 1)) {
    std::string part = rel_dir.substr(0, slash);
    bool known;
    {
      std::lock_guard lock(dirs_mu_);
      known = known_dirs_.contains(part);
    }
    if (!known) {
      size_t up = part.rfind('/');
      std::string parent = up == std::string::npos ? root_ : PathOf(part.substr(0, up));
      std::string full = PathOf(part);
      if (::mkdir(full.c_str(), kDirMode) != 0 && errno != EEXIST) {
        return ErrnoToStatus(errno, "creating directory " + full);
      }
      // Sync the parent even when another thread or process made the
      // directory first: it may not have synced it yet.
      if (int err = SyncDir(parent)) return ErrnoToStatus(err, "syncing directory " + parent);
      std::lock_guard lock(dirs_mu_);
      known_dirs_.insert(part);
    }
    if (slash == std::string::npos) break;
  }
  return Status::OK();
}

Status LocalBackend::Put(std::string_view key, ByteSpan data) {
  RETURN_IF_ERROR(CheckKey(key));
  Status s = PutOnce(key, data, /*exclusive=*/false);
  if (s.code() == StatusCode::kNotFound) {
    // A directory we had created was removed behind our back; make it again.
    ForgetDirs();
    s = PutOnce(key, data, /*exclusive=*/false);
  }
  return s;
}

Status LocalBackend::PutIfAbsent(std::string_view key, ByteSpan data) {
  RETURN_IF_ERROR(CheckKey(key));
  Status s = PutOnce(key, data, /*exclusive=*/true);
  if (s.code() == StatusCode::kNotFound) {
    ForgetDirs();
    s = PutOnce(key, data, /*exclusive=*/true);
  }
  return s;
}

Status LocalBackend::PutOnce(std::string_view key, ByteSpan data, bool exclusive) {
  const std::string path = PathOf(key);
  const size_t slash = key.rfind('/');
  const std::string rel_dir(slash == std::string_view::npos ? "" : key.substr(0, slash));
  const std::string dir = rel_dir.empty() ? root_ : PathOf(rel_dir);
  RETURN_IF_ERROR(EnsureDir(rel_dir));

  // Keep the temporary name within NAME_MAX even for long keys.
  const std::string name(LastSegment(key).substr(0, 200));
  std::string tmp;
  int fd_num = -1;
  for (int attempt = 0; fd_num < 0; ++attempt) {
    tmp = fmt::format("{}/.{}.{}.tmp", dir, name, RandomSuffix());
    fd_num = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kFileMode);
    if (fd_num < 0 && !(errno == EEXIST && attempt < 3)) {
      return ErrnoToStatus(errno, "writing " + path);
    }
  }
  Fd fd(fd_num);
  auto fail = [&](int err) {
    ::unlink(tmp.c_str());
    return ErrnoToStatus(err, "writing " + path);
  };
  if (int err = WriteAll(fd.get(), data)) return fail(err);
  if (::fsync(fd.get()) != 0) return fail(errno);
  if (int err = fd.Close()) return fail(err);
  if (exclusive) {
    // link() fails with EEXIST when the target exists: an atomic create.
    if (::link(tmp.c_str(), path.c_str()) != 0) {
      const int err = errno;
      ::unlink(tmp.c_str());
      if (err == EEXIST) return AlreadyExistsError("object " + path + " already exists");
      return ErrnoToStatus(err, "writing " + path);
    }
    ::unlink(tmp.c_str());
  } else if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return fail(errno);
  }
  if (int err = SyncDir(dir)) return ErrnoToStatus(err, "syncing directory " + dir);
  return Status::OK();
}

Result<Buffer> LocalBackend::Get(std::string_view key) {
  RETURN_IF_ERROR(CheckKey(key));
  return ReadFileRange(PathOf(key), 0, UINT64_MAX);
}

Result<Buffer> LocalBackend::GetRange(std::string_view key, uint64_t offset, uint64_t length) {
  RETURN_IF_ERROR(CheckKey(key));
  return ReadFileRange(PathOf(key), offset, length);
}

Result<ObjectInfo> LocalBackend::Stat(std::string_view key) {
  RETURN_IF_ERROR(CheckKey(key));
  std::string path = PathOf(key);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return ErrnoToStatus(NormalizeMissing(errno), "stat " + path);
  }
  if (!S_ISREG(st.st_mode)) return NotFoundError("stat " + path + ": not an object (not a regular file)");
  return ObjectInfo{std::string(key), static_cast<uint64_t>(st.st_size), MTime(st)};
}

Status LocalBackend::Remove(std::string_view key) {
  RETURN_IF_ERROR(CheckKey(key));
  std::string path = PathOf(key);
  if (::unlink(path.c_str()) != 0) {
    // Absent, or a directory (which is not an object): nothing to remove.
    if (errno == ENOENT || errno == ENOTDIR || errno == EISDIR) return Status::OK();
    return ErrnoToStatus(errno, "removing " + path);
  }
  // Durable removes let repo/ order deletions (index before packs).
  size_t slash = key.rfind('/');
  std::string dir = slash == std::string_view::npos ? root_ : PathOf(key.substr(0, slash));
  if (int err = SyncDir(dir)) return ErrnoToStatus(err, "syncing directory " + dir);
  return Status::OK();
}

Status LocalBackend::List(std::string_view prefix,
                          const std::function<Status(const ObjectInfo&)>& fn) {
  size_t slash = prefix.rfind('/');
  std::string rel_dir(slash == std::string_view::npos ? "" : prefix.substr(0, slash));
  if (!rel_dir.empty() && !ValidateKey(rel_dir).ok()) {
    return InvalidArgumentError(fmt::format("invalid list prefix '{}'", prefix));
  }
  return Walk(rel_dir, prefix, fn);
}

Status LocalBackend::Walk(const std::string& rel_dir, std::string_view prefix,
                          const std::function<Status(const ObjectInfo&)>& fn) {
  const std::string dir = rel_dir.empty() ? root_ : PathOf(rel_dir);
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (d == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::OK();
    return ErrnoToStatus(errno, "listing " + dir);
  }
  while (true) {
    errno = 0;
    const dirent* e = ::readdir(d.get());
    if (e == nullptr) {
      if (errno != 0) return ErrnoToStatus(errno, "listing " + dir);
      return Status::OK();
    }
    std::string_view name = e->d_name;
    if (name == "." || name == ".." || IsTempName(name)) continue;
    std::string key = rel_dir.empty() ? std::string(name) : fmt::format("{}/{}", rel_dir, name);
    struct stat st;
    if (::fstatat(::dirfd(d.get()), e->d_name, &st, 0) != 0) {
      if (errno == ENOENT) continue;  // removed while we list
      return ErrnoToStatus(errno, "listing " + PathOf(key));
    }
    if (S_ISDIR(st.st_mode)) {
      // Descend only where a matching key can live.
      std::string as_dir = key + '/';
      if (as_dir.starts_with(prefix) || prefix.starts_with(as_dir)) {
        RETURN_IF_ERROR(Walk(key, prefix, fn));
      }
    } else if (S_ISREG(st.st_mode) && key.starts_with(prefix)) {
      RETURN_IF_ERROR(fn(ObjectInfo{std::move(key), static_cast<uint64_t>(st.st_size), MTime(st)}));
    }
  }
}

Result<size_t> LocalBackend::RemoveStaleTemporaries(std::chrono::seconds older_than) {
  namespace fs = std::filesystem;
  const auto cutoff = fs::file_time_type::clock::now() - older_than;
  size_t removed = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root_, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file(ec) || !IsTempName(it->path().filename().string())) continue;
    const auto mtime = it->last_write_time(ec);
    if (ec || mtime > cutoff) continue;
    if (::unlink(it->path().c_str()) == 0) ++removed;
  }
  if (ec) return ErrnoToStatus(ec.value(), "listing temporary files under " + root_);
  return removed;
}

}  // namespace cairn::storage
