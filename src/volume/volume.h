// Volume: a live, EBS-style block volume kept in one directory.
//
// A Volume is a BlockDevice (block_device.h) over a sparse data file whose
// size is fixed at Create() and grows only by Resize(). On top of the file it
// adds, in this order on every I/O:
//
//   QoS (qos.h) -> write gate -> copy-on-write into frozen views -> data file
//   (AES-256-XTS per 4096-byte sector when encrypted) -> changed-block bitmap
//
// Directory layout (docs/volumes.md):
//   DIR/volume.json   id, size, type and limits, wrapped key (atomic replace)
//   DIR/data          the volume's bytes (sparse; ciphertext when encrypted)
//   DIR/cbt           changed-block bitmap, saved on Flush and Close
//   DIR/clean         present only while the volume is closed cleanly
//   DIR/views/N.cow   copy-on-write store of frozen view N
//   DIR/lock          flock()ed while open: one process per volume
//
// Point-in-time views. Freeze() (or FreezeGroup() for several volumes at one
// instant) returns a read-only VolumeView of the volume at that instant while
// the volume keeps serving: the first write after the instant to a block
// (granularity: `block_size`) copies the old block into the view's store
// first. Freeze briefly holds new writes and waits for those in flight; it
// does not wait for reads or for QoS.
//
// Changed-block tracking. The volume keeps a bitmap of the blocks written
// since the last view released with completed=true ("the last completed
// snapshot"); a view reports it (VolumeView::Changed()). After an unclean
// stop (no DIR/clean at Open) the bitmap is not trusted: views report
// "unknown" with the reason until a view frozen after that is completed.
// A new volume starts with a clean, trusted bitmap (a volume made from a
// snapshot is incremental against that snapshot).
//
// Durability: a write is durable once Flush() returns or at once with fua
// (fdatasync / RWF_DSYNC of the data file). Views do NOT survive the
// process: Close() and a crash both lose unreleased views (their blocks stay
// marked in the bitmap, so nothing is skipped by the next snapshot). The
// reason is cost: making a view crash-safe needs a sync of its store before
// every first overwrite of a block after a freeze.
//
// Thread-safety: every method may be called from many threads at once,
// except that Close() and the destructor must not race with other calls on
// the same Volume. Views may be read and released from any thread, also
// while the volume closes: Close() releases the views left (completed=false),
// their later calls fail with kFailedPrecondition, and Release() on them is a
// harmless no-op, even after the Volume is gone.
#ifndef CAIRN_VOLUME_VOLUME_H_
#define CAIRN_VOLUME_VOLUME_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "volume/block_device.h"
#include "volume/qos.h"
#include "volume/volume_id.h"
#include "volume/volume_type.h"

namespace cairn::volume {

// Encryption sector and the alignment every volume size must have.
inline constexpr uint64_t kSectorSize = 4096;
// Size of the daemon key that wraps volume keys (AES-256-GCM).
inline constexpr size_t kDaemonKeySize = 32;

struct CreateOptions {
  VolumeId id;        // empty: a new random id
  uint64_t size = 0;  // bytes; > 0 and a multiple of kSectorSize
  QosConfig qos;      // validated with ValidateQos()
  bool encrypted = false;
  // Changed-block and copy-on-write granularity: a power of two from 4 KiB
  // to 4 MiB. The caller maps it to repository blocks.
  uint32_t block_size = 64 << 10;
  int64_t created_unix = 0;  // 0: now
};

struct OpenOptions {
  // The key that wraps volume keys: kDaemonKeySize bytes. Required by
  // Create(encrypted) and by Open() of an encrypted volume.
  ByteSpan daemon_key;
  // QoS time source; null: real time.
  std::shared_ptr<Clock> clock;
};

// What a volume is (persisted in DIR/volume.json).
struct VolumeInfo {
  VolumeId id;
  uint64_t size = 0;
  QosConfig qos;
  bool encrypted = false;
  uint32_t block_size = 0;
  int64_t created_unix = 0;
};

// Changed blocks of a view relative to the last completed snapshot.
struct ChangedExtents {
  bool known = false;
  // When !known: why, for the user ("vol-… was not closed cleanly; changed
  // extents unknown: read everything").
  std::string unknown_reason;
  uint32_t block_size = 0;
  // Byte ranges, sorted, merged, aligned to block_size (the last one clipped
  // to the view's size). Meaningful only when known.
  struct Range {
    uint64_t offset = 0;
    uint64_t length = 0;
    friend bool operator==(const Range&, const Range&) = default;
  };
  std::vector<Range> ranges;
  uint64_t changed_bytes() const;
};

// Hook for volumes whose content is not all in the data file yet (issue 5:
// lazy hydration from a BlockSource). Left unset, every block is local.
class BlockFiller {
 public:
  virtual ~BlockFiller() = default;
  // Called before the engine reads [offset, offset + length) of the data
  // file (a read, a partial write, a copy-on-write) and before a write that
  // covers the range (`overwrite` = true: nothing needs fetching, the blocks
  // become local by the write). On return OK the data file holds the
  // volume's content for the range; a fetch writes it with
  // Volume::FillLocal(). Called from many threads, possibly for overlapping
  // ranges at once; for writes and copy-on-write, with the engine's
  // exclusive lock on the range's blocks held.
  virtual Status Prepare(uint64_t offset, uint64_t length, bool overwrite) = 0;
};

class VolumeView;

class Volume final : public BlockDevice {
 public:
  // Creates DIR (it must not exist, or be empty) with a sparse data file of
  // options.size bytes, and opens it. Errors: kInvalidArgument (size, block
  // size, QoS flags: named), kAlreadyExists (DIR holds a volume),
  // kFailedPrecondition (encrypted without a daemon key of 32 bytes), I/O.
  static Result<std::unique_ptr<Volume>> Create(const std::string& dir,
                                                const CreateOptions& options,
                                                const OpenOptions& open = {});
  // Opens the volume in DIR. Errors: kNotFound (no volume there),
  // kAborted (another process has it open), kUnauthenticated (wrong daemon
  // key), kFailedPrecondition (encrypted and no key given), kCorruption
  // (volume.json unreadable or data file of the wrong size).
  static Result<std::unique_ptr<Volume>> Open(const std::string& dir, const OpenOptions& open = {});
  // Removes a closed volume's directory and files. kAborted if it is open.
  static Status Remove(const std::string& dir);

  ~Volume() override;  // Close() if still open (errors are logged)
  Volume(const Volume&) = delete;
  Volume& operator=(const Volume&) = delete;

  // Flushes, releases open views (completed=false), saves the bitmap and
  // marks the volume clean. Later calls fail with kFailedPrecondition
  // ("volume vol-… is closed"). Idempotent.
  Status Close();

  VolumeInfo info() const;
  const VolumeId& id() const { return id_; }
  const std::string& dir() const { return dir_; }

  // Grows the volume to `new_size` (a multiple of kSectorSize); the new range
  // reads as zeros and is not marked changed. Smaller than now:
  // kInvalidArgument ("--size: volumes only grow ..."). Open views keep
  // their size. Persisted before returning.
  Status Resize(uint64_t new_size);
  // Changes type and limits at once (ModifyVolume); persisted. Errors as
  // ValidateQos().
  Status SetQos(const QosConfig& qos);
  QosLimiter::Stats qos_stats() const;

  // A read-only view of the volume at this instant (see the top comment).
  Result<std::shared_ptr<VolumeView>> Freeze();
  // One instant for all `volumes` (distinct, open): writes are held on all
  // of them while the views are made. Views are returned in argument order.
  static Result<std::vector<std::shared_ptr<VolumeView>>> FreezeGroup(
      std::span<Volume* const> volumes);

  // Hydration hook (see BlockFiller); null: every block is local. May be
  // changed (or cleared, when hydration is done) while I/O runs: each I/O
  // uses the filler it saw when it began, and the volume keeps every filler
  // it was given alive until it is destroyed.
  void SetFiller(std::shared_ptr<BlockFiller> filler);
  // Writes bytes the volume logically holds already (hydration): no QoS, no
  // bitmap mark, no copy-on-write, no filler call.
  Status FillLocal(uint64_t offset, ByteSpan data);

  // BlockDevice. Capabilities: writable, flush, fua, trim, write_zeroes,
  // fast_zero, extents, multi_conn.
  uint64_t Size() const override;
  Capabilities caps() const override;
  Geometry geometry() const override;
  std::string Describe() const override { return id_.str(); }
  Status Read(uint64_t offset, MutableByteSpan out) override;
  Status Write(uint64_t offset, ByteSpan data, bool fua) override;
  Status Flush() override;
  Status Trim(uint64_t offset, uint64_t length) override;
  Status WriteZeroes(uint64_t offset, uint64_t length, bool may_trim, bool fua,
                     bool fast_only) override;
  Result<std::vector<DeviceExtent>> Extents(uint64_t offset, uint64_t length) override;

  struct Impl;  // volume.cc; public so views and helpers can name it

 private:
  Volume(VolumeId id, std::string dir, std::shared_ptr<Impl> impl);
  const VolumeId id_;
  const std::string dir_;
  std::shared_ptr<Impl> impl_;  // shared with views' Release()
};

// A volume at one instant: read-only, Size() is the volume's size then.
// Thread-safe. Dropping the last reference releases it (completed=false).
class VolumeView final : public BlockDevice {
 public:
  ~VolumeView() override;

  // Per volume, increasing from 1 (not persisted across restarts).
  uint64_t sequence() const { return sequence_; }
  int64_t frozen_unix_nanos() const { return frozen_unix_nanos_; }
  const VolumeId& volume_id() const { return volume_id_; }

  // Blocks written between the last completed snapshot and this view's
  // instant. Unknown (with a reason) after an unclean stop, or when a newer
  // view of the volume was completed before this one.
  Result<ChangedExtents> Changed() const;

  // Drops the view's store. completed=true: the view's content is now a
  // completed snapshot, so the blocks it covered are cleared from the
  // bitmap (writes after its instant stay marked); false: they stay marked.
  // Later calls on the view fail with kFailedPrecondition. Idempotent: a
  // second call is OK and does nothing.
  Status Release(bool completed);

  // BlockDevice: reads, Extents; every mutating call is kPermissionDenied.
  uint64_t Size() const override { return size_; }
  Capabilities caps() const override;
  Geometry geometry() const override;
  std::string Describe() const override;
  Status Read(uint64_t offset, MutableByteSpan out) override;
  Status Write(uint64_t offset, ByteSpan data, bool fua) override;
  Status Flush() override;
  Status Trim(uint64_t offset, uint64_t length) override;
  Status WriteZeroes(uint64_t offset, uint64_t length, bool may_trim, bool fua,
                     bool fast_only) override;
  Result<std::vector<DeviceExtent>> Extents(uint64_t offset, uint64_t length) override;

  struct State;  // shared with the volume (volume_view.cc)
  VolumeView(std::shared_ptr<State> state, VolumeId volume_id, uint64_t sequence, uint64_t size,
             int64_t frozen_unix_nanos);

 private:
  const std::shared_ptr<State> state_;
  const VolumeId volume_id_;
  const uint64_t sequence_;
  const uint64_t size_;
  const int64_t frozen_unix_nanos_;
};

}  // namespace cairn::volume

#endif  // CAIRN_VOLUME_VOLUME_H_
