// Reading a frozen view: blocks copied since the instant come from the
// view's store, the others from the live data file under a shared block lock
// (so no write can change them while they are read).
#include <fmt/format.h>

#include <algorithm>

#include "volume/volume.h"
#include "volume/volume_internal.h"

namespace cairn::volume {
namespace {

using State = VolumeView::State;

// Longest run read under one lock.
constexpr uint64_t kMaxRunBlocks = 256;

// First block in [b, limit) whose preserved bit differs from `preserved`.
uint64_t RunEnd(const State& s, uint64_t b, uint64_t limit, bool preserved) {
  while (b < limit && s.IsPreserved(b) == preserved) ++b;
  return b;
}

}  // namespace

Capabilities VolumeView::caps() const { return Capabilities{.extents = true, .multi_conn = true}; }

Geometry VolumeView::geometry() const { return Geometry{.minimum = 1, .preferred = 4096}; }

std::string VolumeView::Describe() const {
  return fmt::format("{} view {}", volume_id_.str(), sequence_);
}

Status VolumeView::Read(uint64_t offset, MutableByteSpan out) {
  RETURN_IF_ERROR(CheckRange(offset, out.size(), size_, "read from " + Describe()));
  std::shared_lock lock(state_->mu);
  Volume::Impl* m = state_->volume;
  if (m == nullptr) return FailedPreconditionError(fmt::format("{} was released", Describe()));
  const State& s = *state_;
  const uint64_t bs = s.block_size;
  const uint64_t end = offset + out.size();
  uint64_t pos = offset;
  while (pos < end) {
    const uint64_t b = pos / bs;
    const uint64_t limit = std::min((end + bs - 1) / bs, b + kMaxRunBlocks);
    uint64_t seg_end;
    if (s.IsPreserved(b)) {
      seg_end = std::min(end, RunEnd(s, b, limit, true) * bs);
      RETURN_IF_ERROR(s.store->Read(pos, out.subspan(pos - offset, seg_end - pos))
                          .WithContext("reading " + Describe()));
    } else {
      uint64_t e = RunEnd(s, b, limit, false);
      BlockLocks::Guard guard = m->locks.Lock(b, e - 1, /*exclusive=*/false);
      e = RunEnd(s, b, e, false);  // a writer may have copied some meanwhile
      if (e == b) continue;
      seg_end = std::min(end, e * bs);
      if (BlockFiller* f = m->filler.load(std::memory_order_acquire)) {
        RETURN_IF_ERROR(f->Prepare(pos, seg_end - pos, false));
      }
      RETURN_IF_ERROR(m->data->Read(pos, out.subspan(pos - offset, seg_end - pos))
                          .WithContext("reading " + Describe()));
    }
    pos = seg_end;
  }
  return Status::OK();
}

Result<std::vector<DeviceExtent>> VolumeView::Extents(uint64_t offset, uint64_t length) {
  RETURN_IF_ERROR(CheckRange(offset, length, size_, "extents of " + Describe()));
  if (length == 0) return std::vector<DeviceExtent>{};
  std::shared_lock lock(state_->mu);
  Volume::Impl* m = state_->volume;
  if (m == nullptr) return FailedPreconditionError(fmt::format("{} was released", Describe()));
  const State& s = *state_;
  const uint64_t bs = s.block_size;
  const uint64_t end = offset + length;
  for (;;) {
    const uint64_t b = offset / bs;
    const uint64_t limit = (end + bs - 1) / bs;
    if (s.IsPreserved(b)) {
      const uint64_t seg_end = std::min(end, RunEnd(s, b, limit, true) * bs);
      return s.store->Extents(offset, seg_end - offset);
    }
    uint64_t e = RunEnd(s, b, std::min(limit, b + kMaxRunBlocks), false);
    BlockLocks::Guard guard = m->locks.Lock(b, e - 1, /*exclusive=*/false);
    e = RunEnd(s, b, e, false);
    if (e == b) continue;
    const uint64_t seg_end = std::min(end, e * bs);
    if (m->filler.load(std::memory_order_acquire) != nullptr) {
      return std::vector<DeviceExtent>{{offset, seg_end - offset, false, false}};
    }
    return m->data->Extents(offset, seg_end - offset);
  }
}

Status VolumeView::Write(uint64_t, ByteSpan, bool) {
  return PermissionDeniedError(fmt::format("{}: device is read-only (a frozen view)", Describe()));
}
Status VolumeView::Flush() { return Status::OK(); }
Status VolumeView::Trim(uint64_t, uint64_t) {
  return PermissionDeniedError(fmt::format("{}: device is read-only (a frozen view)", Describe()));
}
Status VolumeView::WriteZeroes(uint64_t, uint64_t, bool, bool, bool) {
  return PermissionDeniedError(fmt::format("{}: device is read-only (a frozen view)", Describe()));
}

}  // namespace cairn::volume
