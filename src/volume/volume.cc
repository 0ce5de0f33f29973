// Volume lifecycle: create, open, close, remove, resize, limits.
#include "volume/volume.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "core/crypto.h"
#include "core/log.h"
#include "volume/file_util.h"
#include "volume/hydration_state.h"
#include "volume/volume_internal.h"
#include "volume/volume_meta.h"

namespace cairn::volume {
namespace {

constexpr uint32_t kMinBlockSize = 4096;
constexpr uint32_t kMaxBlockSize = 4 << 20;

// Takes DIR/lock; kAborted when another process (or another open in this
// one) holds it.
Result<int> LockDir(const std::string& dir) {
  const std::string path = dir + "/" + std::string(kLockFile);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoToStatus(errno, "opening lock file " + path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return AbortedError(fmt::format(
          "the volume in {} is open in another process or by another open (lock {} is held); "
          "stop that first",
          dir, path));
    }
    return ErrnoToStatus(err, "locking " + path);
  }
  return fd;
}

Result<std::vector<std::string>> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return ErrnoToStatus(errno, "listing " + dir);
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  ::closedir(d);
  return names;
}

// Deletes every file in DIR/views (views do not survive a stop).
Result<size_t> ClearViews(const std::string& views_dir) {
  if (!PathExists(views_dir)) return size_t{0};
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(views_dir));
  for (const std::string& n : names) RETURN_IF_ERROR(RemoveFileIfExists(views_dir + "/" + n));
  return names.size();
}

}  // namespace

Status Volume::Impl::ClosedError() const {
  return FailedPreconditionError(fmt::format("volume {} is closed", id.str()));
}

Status Volume::Impl::PersistMeta() {
  VolumeMeta meta{info, wrapped_key};
  return WriteFileAtomic(Path(kMetaFile), AsBytes(EncodeVolumeMeta(meta)), /*sync=*/true);
}

Status Volume::Impl::SaveCbt(bool sync) {
  std::lock_guard save(cbt_save_mu);
  Buffer encoded;
  {
    std::lock_guard lock(cbt_mu);
    cbt_dirty.store(false);
    ChangeMap merged(live->device_size(), block_size);
    merged.MergeFrom(*live);
    ChangeMap::State state = live_state;
    for (const Epoch& e : pending) {
      merged.MergeFrom(*e.bits);
      if (!e.state.known && state.known) state = e.state;
    }
    encoded = merged.Encode(state);
  }
  Status s = WriteFileAtomic(Path(kCbtFile), encoded, sync);
  if (!s.ok()) cbt_dirty.store(true);
  return s.WithContext(fmt::format("saving the changed-block bitmap of {}", id.str()));
}

Volume::Volume(VolumeId id, std::string dir, std::shared_ptr<Impl> impl)
    : id_(std::move(id)), dir_(std::move(dir)), impl_(std::move(impl)) {}

Volume::~Volume() {
  Status s = Close();
  if (!s.ok()) LogWarning(s.ToString());
}

Result<std::unique_ptr<Volume>> Volume::Create(const std::string& dir, const CreateOptions& options,
                                               const OpenOptions& open) {
  if (options.size == 0 || options.size % kSectorSize != 0) {
    return InvalidArgumentError(fmt::format(
        "--size: {} bytes is not a positive multiple of {} bytes", options.size, kSectorSize));
  }
  if (options.block_size < kMinBlockSize || options.block_size > kMaxBlockSize ||
      !std::has_single_bit(options.block_size)) {
    return InvalidArgumentError(
        fmt::format("volume block size {} is not a power of two from {} to {}", options.block_size,
                    kMinBlockSize, kMaxBlockSize));
  }
  ASSIGN_OR_RETURN(QosConfig qos, ValidateQos(options.qos));
  if (options.encrypted && open.daemon_key.size() != kDaemonKeySize) {
    return FailedPreconditionError(fmt::format(
        "--encrypted needs the daemon key ({} bytes) to wrap the volume key; {} bytes were given",
        kDaemonKeySize, open.daemon_key.size()));
  }
  const VolumeId id = options.id.empty() ? VolumeId::Generate() : options.id;

  if (::mkdir(dir.c_str(), 0700) != 0) {
    if (errno != EEXIST) return ErrnoToStatus(errno, "creating volume directory " + dir);
    if (PathExists(dir + "/" + std::string(kMetaFile))) {
      return AlreadyExistsError(fmt::format("{} already holds a volume", dir));
    }
    ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dir));
    if (!names.empty()) {
      return FailedPreconditionError(
          fmt::format("volume directory {} is not empty ({} entries, e.g. {}); remove it first",
                      dir, names.size(), names.front()));
    }
  }
  VolumeMeta meta;
  meta.info.id = id;
  meta.info.size = options.size;
  meta.info.qos = qos;
  meta.info.encrypted = options.encrypted;
  meta.info.block_size = options.block_size;
  meta.info.created_unix = options.created_unix != 0
                               ? options.created_unix
                               : std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count();
  if (options.encrypted) {
    Buffer key(XtsCipher::kKeySize);
    do {
      RandomBytes(key);
    } while (std::memcmp(key.data(), key.data() + 32, 32) == 0);
    meta.wrapped_key = WrapVolumeKey(open.daemon_key, id, key);
  }
  {
    ASSIGN_OR_RETURN(auto file, FileDevice::Open(dir + "/" + std::string(kDataFile),
                                                 {.create = true, .create_size = options.size}));
    if (file->Size() != options.size) {
      return FailedPreconditionError(fmt::format(
          "{}/{} already exists with another size; remove the directory first", dir, kDataFile));
    }
    RETURN_IF_ERROR(file->Flush());
  }
  ChangeMap empty(options.size, options.block_size);
  RETURN_IF_ERROR(
      WriteFileAtomic(dir + "/" + std::string(kCbtFile), empty.Encode({}), /*sync=*/true));
  // volume.json last: a directory without it is not a volume.
  RETURN_IF_ERROR(WriteFileAtomic(dir + "/" + std::string(kMetaFile),
                                  AsBytes(EncodeVolumeMeta(meta)), /*sync=*/true));
  RETURN_IF_ERROR(
      WriteFileAtomic(dir + "/" + std::string(kCleanFile), AsBytes("clean\n"), /*sync=*/true));
  const size_t slash = dir.rfind('/');
  if (slash != std::string::npos && slash > 0) RETURN_IF_ERROR(SyncDir(dir.substr(0, slash)));
  return Open(dir, open);
}

Result<std::unique_ptr<Volume>> Volume::Open(const std::string& dir, const OpenOptions& open) {
  const std::string meta_path = dir + "/" + std::string(kMetaFile);
  if (!PathExists(meta_path)) {
    return NotFoundError(fmt::format("no volume in {} ({} is missing)", dir, meta_path));
  }
  ASSIGN_OR_RETURN(int lock_fd, LockDir(dir));
  auto impl = std::make_shared<Impl>();
  impl->lock_fd = lock_fd;  // closed by Close() from here on
  impl->dir = dir;
  auto fail = [&](Status s) {
    ::close(lock_fd);
    return s;
  };

  Result<Buffer> meta_bytes = ReadWholeFile(meta_path);
  if (!meta_bytes.ok()) return fail(meta_bytes.status());
  Result<VolumeMeta> meta = DecodeVolumeMeta(AsStringView(*meta_bytes), meta_path);
  if (!meta.ok()) return fail(meta.status());
  impl->id = meta->info.id;
  impl->info = meta->info;
  impl->wrapped_key = meta->wrapped_key;
  impl->block_size = meta->info.block_size;
  impl->encrypted = meta->info.encrypted;
  const std::string& vol = impl->id.str();
  if (impl->encrypted) {
    Result<Buffer> key = UnwrapVolumeKey(open.daemon_key, impl->id, meta->wrapped_key);
    if (!key.ok()) return fail(key.status());
    impl->volume_key = std::move(*key);
  }

  Result<std::unique_ptr<FileDevice>> raw = FileDevice::Open(impl->Path(kDataFile));
  if (!raw.ok()) return fail(raw.status().WithContext("opening the data file of " + vol));
  impl->raw = std::move(*raw);
  const uint64_t size = meta->info.size;
  if (impl->raw->Size() < size) {
    // An interrupted Resize: volume.json is written first, so grow to it.
    Status s = impl->raw->Grow(size);
    if (!s.ok()) return fail(s.WithContext("finishing the resize of " + vol));
  } else if (impl->raw->Size() > size) {
    return fail(CorruptionError(
        fmt::format("data file {} of {} holds {} bytes, more than the volume's {} in volume.json",
                    impl->Path(kDataFile), vol, impl->raw->Size(), size)));
  }
  impl->size.store(size);
  if (impl->encrypted) {
    impl->xts = std::make_unique<XtsDevice>(impl->raw.get(), impl->volume_key);
    impl->data = impl->xts.get();
  } else {
    impl->data = impl->raw.get();
  }

  // Changed-block bitmap: trusted only after a clean close.
  const std::string clean_path = impl->Path(kCleanFile);
  const bool clean = PathExists(clean_path);
  std::string untrusted;
  if (clean) {
    Result<Buffer> bytes = ReadWholeFile(impl->Path(kCbtFile));
    Result<ChangeMap::Decoded> decoded = bytes.ok()
                                             ? ChangeMap::Decode(*bytes, impl->Path(kCbtFile))
                                             : Result<ChangeMap::Decoded>(bytes.status());
    if (!decoded.ok()) {
      untrusted = decoded.status().message();
    } else if (decoded->map->block_size() != impl->block_size ||
               decoded->map->device_size() > size) {
      untrusted = fmt::format("changed-block bitmap {} does not match the volume's geometry",
                              impl->Path(kCbtFile));
    } else {
      impl->live = std::move(decoded->map);
      impl->live->Resize(size);
      impl->live_state = decoded->state;
    }
  } else {
    untrusted = fmt::format(
        "{} was not shut down cleanly (no clean-shutdown marker {} at open), so writes just "
        "before the stop may be missing from its changed-block bitmap",
        vol, clean_path);
  }
  if (!untrusted.empty()) {
    impl->live = std::make_unique<ChangeMap>(size, impl->block_size);
    impl->live_state = {false, untrusted + "; changed extents unknown: read everything"};
    impl->cbt_dirty.store(true);
    LogWarning(fmt::format("{}: changed-block bitmap not trusted: {}", vol, untrusted));
  }
  // From now on the volume counts as open: a crash must not find the marker.
  Status s = RemoveFileIfExists(clean_path);
  if (s.ok()) s = SyncDir(dir);
  if (!s.ok()) return fail(s.WithContext("opening " + vol));
  Result<size_t> dropped = ClearViews(impl->Path(kViewsDir));
  if (!dropped.ok()) return fail(dropped.status().WithContext("opening " + vol));
  if (*dropped > 0) {
    LogWarning(
        fmt::format("{}: {} snapshot view(s) from before the stop were lost (views do not "
                    "survive a restart)",
                    vol, *dropped));
  }
  impl->qos = std::make_unique<QosLimiter>(LimitsFor(meta->info.qos, size), open.clock);
  VolumeId id = impl->id;
  return std::unique_ptr<Volume>(new Volume(std::move(id), dir, std::move(impl)));
}

Status Volume::Close() {
  Impl& m = *impl_;
  std::lock_guard views_lock(m.views_mu);
  if (m.closed) return Status::OK();
  m.gate.Shutdown();
  for (const auto& v : m.views) m.DropView(v);
  m.views.clear();
  // Unreleased views count as not completed: their epochs stay pending and
  // SaveCbt merges them, so the next snapshot reads their blocks.
  Status s = m.data->Flush();
  if (s.ok()) s = m.SaveCbt(/*sync=*/true);
  if (s.ok()) s = WriteFileAtomic(m.Path(kCleanFile), AsBytes("clean\n"), /*sync=*/true);
  m.closed = true;
  m.xts.reset();
  m.raw.reset();
  m.data = nullptr;
  ::close(m.lock_fd);
  m.lock_fd = -1;
  return s.WithContext("closing " + m.id.str());
}

Status Volume::Remove(const std::string& dir) {
  ASSIGN_OR_RETURN(int lock_fd, LockDir(dir));
  Status s;
  for (std::string_view name : {kMetaFile, kDataFile, kCbtFile, kCleanFile, kHydrationFile}) {
    if (s.ok()) s = RemoveFileIfExists(dir + "/" + std::string(name));
    if (s.ok()) s = RemoveFileIfExists(dir + "/" + std::string(name) + ".tmp");
  }
  if (s.ok()) {
    Result<size_t> n = ClearViews(dir + "/" + std::string(kViewsDir));
    if (!n.ok()) s = n.status();
  }
  if (s.ok() && PathExists(dir + "/" + std::string(kViewsDir)) &&
      ::rmdir((dir + "/" + std::string(kViewsDir)).c_str()) != 0) {
    s = ErrnoToStatus(errno, "removing " + dir + "/views");
  }
  if (s.ok()) s = RemoveFileIfExists(dir + "/" + std::string(kLockFile));
  ::close(lock_fd);
  if (s.ok() && ::rmdir(dir.c_str()) != 0) {
    s = errno == ENOTEMPTY
            ? FailedPreconditionError(fmt::format(
                  "{} holds files that are not part of a volume; the volume's own files were "
                  "removed, the rest was left alone",
                  dir))
            : ErrnoToStatus(errno, "removing " + dir);
  }
  return s.WithContext("removing the volume in " + dir);
}

VolumeInfo Volume::info() const {
  std::lock_guard lock(impl_->meta_mu);
  return impl_->info;
}

Status Volume::Resize(uint64_t new_size) {
  Impl& m = *impl_;
  if (new_size == 0 || new_size % kSectorSize != 0) {
    return InvalidArgumentError(fmt::format(
        "--size: {} bytes is not a positive multiple of {} bytes", new_size, kSectorSize));
  }
  const uint64_t old = m.size.load();
  if (new_size < old) {
    return InvalidArgumentError(
        fmt::format("--size: volumes only grow; {} bytes is smaller than the current size {} of {}",
                    new_size, old, m.id.str()));
  }
  if (new_size == old) return Status::OK();
  if (!m.gate.HoldWrites()) return m.ClosedError();
  Status s;
  {
    std::lock_guard lock(m.meta_mu);
    m.info.size = new_size;
    s = m.PersistMeta();  // first: Open() finishes a grow volume.json asks for
    if (!s.ok()) m.info.size = old;
  }
  if (s.ok()) s = m.raw->Grow(new_size);
  if (s.ok()) {
    m.size.store(new_size);
    {
      std::lock_guard lock(m.cbt_mu);
      m.live->Resize(new_size);
    }
    m.cbt_dirty.store(true);
    m.qos->SetLimits(LimitsFor(info().qos, new_size));
  }
  m.gate.ReleaseWrites();
  return s.WithContext(fmt::format("growing {} to {} bytes", m.id.str(), new_size));
}

Status Volume::SetQos(const QosConfig& requested) {
  Impl& m = *impl_;
  ASSIGN_OR_RETURN(QosConfig qos, ValidateQos(requested));
  std::lock_guard lock(m.meta_mu);
  const QosConfig old = m.info.qos;
  m.info.qos = qos;
  Status s = m.PersistMeta();
  if (!s.ok()) {
    m.info.qos = old;
    return s.WithContext("changing the limits of " + m.id.str());
  }
  m.qos->SetLimits(LimitsFor(qos, m.size.load()));
  return Status::OK();
}

QosLimiter::Stats Volume::qos_stats() const { return impl_->qos->stats(); }

void Volume::SetFiller(std::shared_ptr<BlockFiller> filler) {
  std::lock_guard lock(impl_->filler_mu);
  BlockFiller* raw = filler.get();
  if (filler) impl_->fillers.push_back(std::move(filler));
  impl_->filler.store(raw, std::memory_order_release);
}

uint64_t Volume::Size() const { return impl_->size.load(std::memory_order_acquire); }

Capabilities Volume::caps() const {
  return Capabilities{.writable = true,
                      .flush = true,
                      .fua = true,
                      .trim = true,
                      .write_zeroes = true,
                      .fast_zero = true,
                      .extents = true,
                      .multi_conn = true};
}

Geometry Volume::geometry() const { return Geometry{.minimum = 1, .preferred = 4096}; }

}  // namespace cairn::volume
