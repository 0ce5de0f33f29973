#include "volume/xts_device.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace cairn::volume {
namespace {

std::unique_ptr<std::byte[]> Scratch(size_t n) {
  return std::make_unique_for_overwrite<std::byte[]>(n);
}

}  // namespace

XtsDevice::XtsDevice(BlockDevice* inner, ByteSpan key) : inner_(inner), cipher_(key) {}

Capabilities XtsDevice::caps() const {
  Capabilities c = inner_->caps();
  c.fast_zero = c.fast_zero && c.write_zeroes;
  return c;
}

Geometry XtsDevice::geometry() const {
  Geometry g = inner_->geometry();
  g.minimum = 1;
  g.preferred = std::max<uint32_t>(g.preferred, kSector);
  return g;
}

void XtsDevice::DecryptInPlace(uint64_t first, MutableByteSpan buf) const {
  // Runs of non-zero sectors are decrypted with one call.
  const size_t n = buf.size() / kSector;
  size_t i = 0;
  while (i < n) {
    if (IsAllZero(buf.subspan(i * kSector, kSector))) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < n && !IsAllZero(buf.subspan(j * kSector, kSector))) ++j;
    MutableByteSpan run = buf.subspan(i * kSector, (j - i) * kSector);
    cipher_.Decrypt(first + i, kSector, run, run);
    i = j;
  }
}

Status XtsDevice::ReadSectors(uint64_t first_sector, MutableByteSpan buf) {
  RETURN_IF_ERROR(inner_->Read(first_sector * kSector, buf));
  DecryptInPlace(first_sector, buf);
  return Status::OK();
}

Status XtsDevice::Read(uint64_t offset, MutableByteSpan out) {
  RETURN_IF_ERROR(CheckRange(offset, out.size(), Size(), "read"));
  if (out.empty()) return Status::OK();
  if (offset % kSector == 0 && out.size() % kSector == 0) {
    return ReadSectors(offset / kSector, out);
  }
  const uint64_t first = offset / kSector;
  const uint64_t end = (offset + out.size() + kSector - 1) / kSector;
  const size_t n = (end - first) * kSector;
  auto buf = Scratch(n);
  RETURN_IF_ERROR(ReadSectors(first, {buf.get(), n}));
  std::memcpy(out.data(), buf.get() + (offset - first * kSector), out.size());
  return Status::OK();
}

Status XtsDevice::Write(uint64_t offset, ByteSpan data, bool fua) {
  RETURN_IF_ERROR(CheckRange(offset, data.size(), Size(), "write"));
  if (data.empty()) return Status::OK();
  const uint64_t first = offset / kSector;
  const uint64_t end = (offset + data.size() + kSector - 1) / kSector;
  const size_t n = (end - first) * kSector;
  auto buf = Scratch(n);
  MutableByteSpan plain(buf.get(), n);
  const size_t head = offset - first * kSector;
  const size_t tail_end = head + data.size();  // within buf
  // Partial first / last sectors: start from their current plaintext.
  if (head != 0) RETURN_IF_ERROR(ReadSectors(first, plain.first(kSector)));
  if (tail_end % kSector != 0 && (end - 1 != first || head == 0)) {
    RETURN_IF_ERROR(ReadSectors(end - 1, plain.last(kSector)));
  }
  std::memcpy(buf.get() + head, data.data(), data.size());
  cipher_.Encrypt(first, kSector, plain, plain);
  return inner_->Write(first * kSector, plain, fua);
}

Status XtsDevice::Trim(uint64_t offset, uint64_t length) {
  RETURN_IF_ERROR(CheckRange(offset, length, Size(), "trim"));
  // Only whole sectors: punching part of a sector would garble the rest.
  const uint64_t a = (offset + kSector - 1) / kSector * kSector;
  const uint64_t b = (offset + length) / kSector * kSector;
  if (b <= a) return Status::OK();
  return inner_->Trim(a, b - a);
}

Status XtsDevice::WriteZeroes(uint64_t offset, uint64_t length, bool may_trim, bool fua,
                              bool fast_only) {
  RETURN_IF_ERROR(CheckRange(offset, length, Size(), "write zeroes"));
  if (length == 0) return Status::OK();
  const uint64_t end = offset + length;
  const uint64_t a = (offset + kSector - 1) / kSector * kSector;
  const uint64_t b = end / kSector * kSector;
  if (b <= a) {  // inside one sector, or across one sector boundary
    Buffer zeros(length);
    return Write(offset, zeros, fua);
  }
  if (a > offset) {
    Buffer zeros(a - offset);
    RETURN_IF_ERROR(Write(offset, zeros, fua));
  }
  if (end > b) {
    Buffer zeros(end - b);
    RETURN_IF_ERROR(Write(b, zeros, fua));
  }
  // Stored zeros read as plaintext zeros.
  return inner_->WriteZeroes(a, b - a, may_trim, fua, fast_only);
}

}  // namespace cairn::volume
