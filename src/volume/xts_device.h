// XtsDevice: a BlockDevice that stores another BlockDevice's bytes encrypted
// with AES-256-XTS, one 4096-byte sector at a time, the sector number as the
// tweak (core/crypto.h XtsCipher).
//
// A sector whose stored bytes are all zero reads as zeros: holes in a sparse
// file, trimmed ranges and WriteZeroes (done on the inner device) cost no
// encryption, and a never-written volume reads as zeros. This reveals which
// sectors were never written or were zeroed, and nothing about the others (a
// real ciphertext is all-zero with probability 2^-32768). Extents are the
// inner device's.
//
// Unaligned reads read whole sectors; unaligned writes read, decrypt, patch,
// encrypt and write the first and last sectors.
//
// Thread-safety: as BlockDevice, with one precondition: the caller keeps two
// writes that touch the same sector from running at once (a read-modify-write
// of a partial sector could otherwise lose the other write). Volume holds a
// block lock around every write.
#ifndef CAIRN_VOLUME_XTS_DEVICE_H_
#define CAIRN_VOLUME_XTS_DEVICE_H_

#include <memory>

#include "core/crypto.h"
#include "volume/block_device.h"

namespace cairn::volume {

class XtsDevice final : public BlockDevice {
 public:
  static constexpr uint64_t kSector = 4096;

  // `inner` is not owned and must outlive this device; its size must be a
  // multiple of kSector. REQUIRES: key.size() == XtsCipher::kKeySize.
  XtsDevice(BlockDevice* inner, ByteSpan key);

  uint64_t Size() const override { return inner_->Size(); }
  Capabilities caps() const override;
  Geometry geometry() const override;
  std::string Describe() const override { return inner_->Describe(); }

  Status Read(uint64_t offset, MutableByteSpan out) override;
  Status Write(uint64_t offset, ByteSpan data, bool fua) override;
  Status Flush() override { return inner_->Flush(); }
  Status Trim(uint64_t offset, uint64_t length) override;
  Status WriteZeroes(uint64_t offset, uint64_t length, bool may_trim, bool fua,
                     bool fast_only) override;
  Result<std::vector<DeviceExtent>> Extents(uint64_t offset, uint64_t length) override {
    return inner_->Extents(offset, length);
  }

 private:
  // Decrypts `buf`, which holds the stored bytes of whole sectors starting
  // at sector `first`, in place; all-zero sectors stay zero.
  void DecryptInPlace(uint64_t first, MutableByteSpan buf) const;
  // Reads whole sectors [first_sector, first_sector + buf.size() / kSector).
  Status ReadSectors(uint64_t first_sector, MutableByteSpan buf);

  BlockDevice* const inner_;
  const XtsCipher cipher_;
};

}  // namespace cairn::volume

#endif  // CAIRN_VOLUME_XTS_DEVICE_H_
