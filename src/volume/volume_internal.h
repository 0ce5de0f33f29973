// The insides of a Volume and of its views, shared by volume.cc (lifecycle),
// volume_io.cc (the I/O path), volume_freeze.cc (views and changed-block
// tracking) and volume_view.cc (reading a view). Not for use outside volume/.
//
// Locks, in the order they may be taken:
//   Impl::views_mu -> OpGate (held writes) -> Impl::cbt_mu
//   VolumeView::State::mu (shared, a view read) -> BlockLocks (shared)
//   OpGate (entered, an I/O) -> BlockLocks (exclusive, a write)
//   OpGate (entered, a Flush) -> Impl::cbt_save_mu -> Impl::cbt_mu
#ifndef CAIRN_VOLUME_VOLUME_INTERNAL_H_
#define CAIRN_VOLUME_VOLUME_INTERNAL_H_

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "volume/block_locks.h"
#include "volume/change_map.h"
#include "volume/file_device.h"
#include "volume/op_gate.h"
#include "volume/qos.h"
#include "volume/volume.h"
#include "volume/xts_device.h"

namespace cairn::volume {

// File names inside a volume directory.
inline constexpr std::string_view kMetaFile = "volume.json";
inline constexpr std::string_view kDataFile = "data";
inline constexpr std::string_view kCbtFile = "cbt";
inline constexpr std::string_view kCleanFile = "clean";
inline constexpr std::string_view kLockFile = "lock";
inline constexpr std::string_view kViewsDir = "views";

struct VolumeView::State {
  // Shared for the duration of a view operation; exclusive to detach.
  std::shared_mutex mu;
  Volume::Impl* volume = nullptr;  // guarded by mu; null once released
  // Keeps the volume's insides alive for a Release() racing with Close()
  // and the Volume's destruction.
  std::weak_ptr<Volume::Impl> owner;

  uint64_t sequence = 0;
  uint64_t size = 0;
  uint32_t block_size = 0;
  std::string store_path;
  std::unique_ptr<FileDevice> store_raw;  // the copy-on-write store (sparse)
  std::unique_ptr<XtsDevice> store_xts;   // when the volume is encrypted
  BlockDevice* store = nullptr;           // store_xts or store_raw
  // Bit b set once block b's content at the instant is in the store (a
  // block that was all zeros is marked without writing: the store reads
  // zeros there). Set with release order after the store write.
  std::unique_ptr<std::atomic<uint64_t>[]> preserved;

  bool IsPreserved(uint64_t block) const {
    return (preserved[block / 64].load(std::memory_order_acquire) >> (block % 64)) & 1;
  }
  void SetPreserved(uint64_t block) {
    preserved[block / 64].fetch_or(uint64_t{1} << (block % 64), std::memory_order_release);
  }
  uint64_t block_count() const { return (size + block_size - 1) / block_size; }
};

struct Volume::Impl {
  std::string dir;
  VolumeId id;
  uint32_t block_size = 0;
  bool encrypted = false;
  Buffer volume_key;  // XTS key when encrypted

  std::mutex meta_mu;
  VolumeInfo info;     // guarded by meta_mu (persisted in volume.json)
  Buffer wrapped_key;  // guarded by meta_mu

  std::atomic<uint64_t> size{0};
  std::unique_ptr<FileDevice> raw;  // DIR/data
  std::unique_ptr<XtsDevice> xts;   // over raw when encrypted
  BlockDevice* data = nullptr;      // xts or raw
  int lock_fd = -1;

  std::unique_ptr<QosLimiter> qos;
  OpGate gate;
  BlockLocks locks;
  // The hydration hook. I/O loads `filler` once per call; SetFiller may
  // change it at any time, so every filler ever set is kept alive in
  // `fillers` until the volume is destroyed (a call that loaded the old
  // pointer still reaches a live object).
  std::atomic<BlockFiller*> filler{nullptr};
  std::mutex filler_mu;
  std::vector<std::shared_ptr<BlockFiller>> fillers;  // guarded by filler_mu

  // Views and their life; see the lock order above.
  std::mutex views_mu;
  bool closed = false;  // guarded by views_mu
  // Changed only with views_mu held and writes held at the gate, so an I/O
  // inside the gate may read it without a lock.
  std::vector<std::shared_ptr<VolumeView::State>> views;
  uint64_t next_sequence = 1;  // guarded by views_mu

  // Changed-block tracking. `live` is swapped only with writes held at the
  // gate (and cbt_mu), so a write inside the gate marks it without a lock.
  struct Epoch {
    uint64_t sequence = 0;  // the view whose instant ends this epoch
    std::unique_ptr<ChangeMap> bits;
    ChangeMap::State state;
  };
  std::mutex cbt_mu;
  std::unique_ptr<ChangeMap> live;
  ChangeMap::State live_state;  // guarded by cbt_mu
  std::deque<Epoch> pending;    // guarded by cbt_mu; oldest first
  std::atomic<bool> cbt_dirty{false};
  // One SaveCbt at a time: saves share the temporary file `cbt.tmp`, so two
  // concurrent ones (FLUSH on two NBD connections) would interleave their
  // bytes in it, or one would find it renamed away and fail the FLUSH.
  std::mutex cbt_save_mu;

  std::string Path(std::string_view name) const { return dir + "/" + std::string(name); }
  Status ClosedError() const;

  // volume.cc
  Status PersistMeta();  // REQUIRES: meta_mu held
  // The bitmap as saved: all pending epochs and the live one, merged.
  Status SaveCbt(bool sync);

  // volume_io.cc: copies block `block`'s current content into every view
  // that has not preserved it. REQUIRES: the block's lock held exclusively,
  // inside the gate as a writer.
  Status CopyOnWrite(uint64_t first_block, uint64_t last_block);
  // volume_freeze.cc: detaches `state` (its reads fail afterwards) and
  // deletes its store. REQUIRES: views_mu held, writes held at the gate or
  // the gate shut.
  void DropView(const std::shared_ptr<VolumeView::State>& state);
};

}  // namespace cairn::volume

#endif  // CAIRN_VOLUME_VOLUME_INTERNAL_H_
