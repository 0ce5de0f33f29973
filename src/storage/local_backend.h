// LocalBackend: a Backend that keeps each object as one file under a root
// directory. Key "packs/3f/3f2a…" is the file <root>/packs/3f/3f2a….
//
// Put is atomic and durable: the bytes go to a temporary file in the target's
// directory (".<name>.<16 hex>.tmp"), which is written fully, fsync'ed and
// renamed over the target; then the directory is fsync'ed. Directories are
// created on demand (and their parents fsync'ed). A crash can leave temporary
// files behind; List never reports them, and keys whose last segment looks
// like one (starts with '.' and ends with ".tmp") are rejected as invalid.
//
// Errors name the full path: "writing /repo/packs/3f/3f2a…: No space left on
// device" (kResourceExhausted). A missing object is kNotFound; EACCES/EROFS
// are kPermissionDenied (see ErrnoToStatus).
//
// Thread-safety: every method may be called from many threads at once. The
// only shared state is the cache of directories known to exist, guarded by a
// mutex. Several processes may share one root: the file system's rename is
// the only synchronisation Put relies on.
#ifndef CAIRN_STORAGE_LOCAL_BACKEND_H_
#define CAIRN_STORAGE_LOCAL_BACKEND_H_

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "storage/backend.h"

namespace cairn::storage {

class LocalBackend : public Backend {
 public:
  // Opens an existing repository directory. kNotFound ("repository directory
  // /x does not exist") if it is missing, kFailedPrecondition if `root` is not
  // a directory. A relative `root` is made absolute against the current
  // working directory, once, here.
  static Result<std::unique_ptr<LocalBackend>> Open(std::string root);

  // Like Open, but creates `root` and its parents first (mkdir -p). OK if the
  // directory already exists.
  static Result<std::unique_ptr<LocalBackend>> Create(std::string root);

  LocalBackend(const LocalBackend&) = delete;
  LocalBackend& operator=(const LocalBackend&) = delete;

  Status Put(std::string_view key, ByteSpan data) override;
  // Like Put, but the temporary file is link()ed to the target, which fails
  // (kAlreadyExists) when the target exists.
  Status PutIfAbsent(std::string_view key, ByteSpan data) override;
  Result<Buffer> Get(std::string_view key) override;
  Result<Buffer> GetRange(std::string_view key, uint64_t offset,
                          uint64_t length) override;
  Result<ObjectInfo> Stat(std::string_view key) override;
  // Walks only the directories `prefix` can match: "packs/" walks
  // <root>/packs, "snapshots/snap-1" walks <root>/snapshots and filters.
  // A missing directory is an empty listing. kInvalidArgument if the
  // directory part of `prefix` is not a valid key (e.g. "../").
  Status List(std::string_view prefix,
              const std::function<Status(const ObjectInfo&)>& fn) override;
  Status Remove(std::string_view key) override;
  // The absolute root path, e.g. "/srv/backup".
  std::string Describe() const override { return root_; }
  // Temporary files (".<name>.<hex>.tmp") of Puts a crash interrupted.
  Result<size_t> RemoveStaleTemporaries(std::chrono::seconds older_than) override;

  const std::string& root() const { return root_; }

 private:
  explicit LocalBackend(std::string root) : root_(std::move(root)) {}

  std::string PathOf(std::string_view key) const;
  // Creates <root>/<rel_dir> and its missing parents (rel_dir may be "").
  Status EnsureDir(const std::string& rel_dir);
  void ForgetDirs();
  // One attempt of Put. kNotFound means the target directory vanished
  // (removed behind our back) and the caller may retry once.
  // `exclusive`: fail with kAlreadyExists instead of replacing.
  Status PutOnce(std::string_view key, ByteSpan data, bool exclusive);
  Status Walk(const std::string& rel_dir, std::string_view prefix,
              const std::function<Status(const ObjectInfo&)>& fn);

  const std::string root_;  // absolute, no trailing '/' (unless it is "/")

  std::mutex dirs_mu_;
  std::set<std::string, std::less<>> known_dirs_;  // GUARDED_BY(dirs_mu_)
};

}  // namespace cairn::storage

#endif  // CAIRN_STORAGE_LOCAL_BACKEND_H_
