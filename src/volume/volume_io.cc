// The volume's I/O path: QoS, gate, block locks, copy-on-write into frozen
// views, the data file, changed-block marks.
#include <fmt/format.h>

#include <algorithm>

#include "volume/volume.h"
#include "volume/volume_internal.h"

namespace cairn::volume {
namespace {

// Runs a mutation of [offset, offset + length) with everything around it.
// `op` changes the data file.
template <typename Op>
Status Mutate(Volume::Impl& m, uint64_t offset, uint64_t length, Op op) {
  GateGuard gate(m.gate, /*write=*/true);
  if (!gate.ok()) return m.ClosedError();
  if (length == 0) return Status::OK();
  const uint64_t first = offset / m.block_size;
  const uint64_t last = (offset + length - 1) / m.block_size;
  BlockLocks::Guard lock = m.locks.Lock(first, last, /*exclusive=*/true);
  // Views first: the old content must be copied before the filler may count
  // the range as overwritten.
  if (!m.views.empty()) RETURN_IF_ERROR(m.CopyOnWrite(first, last));
  if (BlockFiller* f = m.filler.load(std::memory_order_acquire)) {
    RETURN_IF_ERROR(f->Prepare(offset, length, /*overwrite=*/true));
  }
  RETURN_IF_ERROR(op());
  if (m.live->Mark(offset, length)) m.cbt_dirty.store(true, std::memory_order_relaxed);
  return Status::OK();
}

// CheckRange, building the message only when the range is wrong.
Status InRange(uint64_t offset, uint64_t length, uint64_t size, const char* what,
               const VolumeId& id) {
  if (offset <= size && length <= size - offset) return Status::OK();
  return CheckRange(offset, length, size, fmt::format("{} {}", what, id.str()));
}

// Adds context only to errors (the common OK path builds no string).
Status Ctx(Status s, const char* what, const VolumeId& id) {
  if (s.ok()) return s;
  return s.WithContext(fmt::format("{} {}", what, id.str()));
}

}  // namespace

Status Volume::Impl::CopyOnWrite(uint64_t first_block, uint64_t last_block) {
  Buffer buf;
  std::vector<VolumeView::State*> need;
  for (uint64_t b = first_block; b <= last_block; ++b) {
    need.clear();
    uint64_t len = 0;
    const uint64_t off = b * block_size;
    for (const auto& v : views) {
      if (off < v->size && !v->IsPreserved(b)) {
        need.push_back(v.get());
        len = std::max<uint64_t>(len, std::min<uint64_t>(block_size, v->size - off));
      }
    }
    if (need.empty()) continue;
    if (BlockFiller* f = filler.load(std::memory_order_acquire)) {
      RETURN_IF_ERROR(f->Prepare(off, len, /*overwrite=*/false));
    }
    buf.resize(len);
    // Stored bytes (ciphertext when encrypted): the store uses the same key
    // and offsets, so no decrypt/encrypt round trip.
    RETURN_IF_ERROR(
        raw->Read(off, buf).WithContext(fmt::format("copy-on-write of {} block {}", id.str(), b)));
    for (VolumeView::State* v : need) {
      ByteSpan part = ByteSpan(buf).first(std::min<uint64_t>(block_size, v->size - off));
      if (!IsAllZero(part)) {
        RETURN_IF_ERROR(v->store_raw->Write(off, part, /*fua=*/false)
                            .WithContext(fmt::format("copy-on-write of {} block {} into view {}",
                                                     id.str(), b, v->sequence)));
      }
      v->SetPreserved(b);
    }
  }
  return Status::OK();
}

Status Volume::Read(uint64_t offset, MutableByteSpan out) {
  Impl& m = *impl_;
  RETURN_IF_ERROR(InRange(offset, out.size(), Size(), "read from", id_));
  m.qos->Admit(QosLimiter::Op::kRead, out.size());
  GateGuard gate(m.gate, /*write=*/false);
  if (!gate.ok()) return m.ClosedError();
  if (out.empty()) return Status::OK();
  if (BlockFiller* f = m.filler.load(std::memory_order_acquire)) {
    RETURN_IF_ERROR(f->Prepare(offset, out.size(), /*overwrite=*/false));
  }
  return Ctx(m.data->Read(offset, out), "reading", id_);
}

Status Volume::Write(uint64_t offset, ByteSpan data, bool fua) {
  Impl& m = *impl_;
  RETURN_IF_ERROR(InRange(offset, data.size(), Size(), "write to", id_));
  m.qos->Admit(QosLimiter::Op::kWrite, data.size());
  return Ctx(Mutate(m, offset, data.size(), [&] { return m.data->Write(offset, data, fua); }),
             "writing", id_);
}

Status Volume::Trim(uint64_t offset, uint64_t length) {
  Impl& m = *impl_;
  RETURN_IF_ERROR(InRange(offset, length, Size(), "trim of", id_));
  m.qos->Admit(QosLimiter::Op::kTrim, length);
  return Ctx(Mutate(m, offset, length, [&] { return m.data->Trim(offset, length); }), "trimming",
             id_);
}

Status Volume::WriteZeroes(uint64_t offset, uint64_t length, bool may_trim, bool fua,
                           bool fast_only) {
  Impl& m = *impl_;
  RETURN_IF_ERROR(InRange(offset, length, Size(), "write zeroes to", id_));
  m.qos->Admit(QosLimiter::Op::kZero, length);
  return Ctx(Mutate(m, offset, length,
                    [&] { return m.data->WriteZeroes(offset, length, may_trim, fua, fast_only); }),
             "writing zeroes to", id_);
}

Status Volume::Flush() {
  Impl& m = *impl_;
  GateGuard gate(m.gate, /*write=*/false);
  if (!gate.ok()) return m.ClosedError();
  RETURN_IF_ERROR(Ctx(m.data->Flush(), "flushing", id_));
  if (m.cbt_dirty.load()) RETURN_IF_ERROR(m.SaveCbt(/*sync=*/false));
  return Status::OK();
}

Result<std::vector<DeviceExtent>> Volume::Extents(uint64_t offset, uint64_t length) {
  Impl& m = *impl_;
  RETURN_IF_ERROR(InRange(offset, length, Size(), "extents of", id_));
  GateGuard gate(m.gate, /*write=*/false);
  if (!gate.ok()) return m.ClosedError();
  if (m.filler.load(std::memory_order_acquire) != nullptr) {
    // Blocks not yet local are holes in the data file but not in the
    // volume: say "data" for all until the filler can tell.
    return std::vector<DeviceExtent>{{offset, length, false, false}};
  }
  return m.data->Extents(offset, length);
}

Status Volume::FillLocal(uint64_t offset, ByteSpan data) {
  Impl& m = *impl_;
  RETURN_IF_ERROR(InRange(offset, data.size(), Size(), "fill of", id_));
  GateGuard gate(m.gate, /*write=*/false);
  if (!gate.ok()) return m.ClosedError();
  return Ctx(m.data->Write(offset, data, /*fua=*/false), "filling", id_);
}

}  // namespace cairn::volume
