// Cryptographic primitives: the one adapter over OpenSSL's libcrypto.
//
// SHA-256 (uses SHA-NI where the CPU has it), HMAC-SHA-256, AES-256-GCM,
// scrypt and the OS random generator. Every function is thread-safe; no
// OpenSSL type appears in this header.
#ifndef CAIRN_CORE_CRYPTO_H_
#define CAIRN_CORE_CRYPTO_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>

#include "core/bytes.h"
#include "core/status.h"

namespace cairn {

using Digest = std::array<std::byte, 32>;

Digest Sha256(ByteSpan data);

// Incremental SHA-256. Not thread-safe per instance.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;
  void Update(ByteSpan data);
  // Returns the digest; the hasher must not be used afterwards.
  Digest Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// MD5, for protocols that demand it (S3's Content-MD5 header); never for
// anything that must resist an attacker.
std::array<std::byte, 16> Md5(ByteSpan data);

// REQUIRES: key.size() > 0.
Digest HmacSha256(ByteSpan key, ByteSpan data);

// Fills `out` from the OS CSPRNG. Aborts the process if the generator fails
// (no safe way to continue without randomness).
void RandomBytes(MutableByteSpan out);

struct ScryptParams {
  uint64_t n = 1u << 15;  // CPU/memory cost (power of two)
  uint32_t r = 8;
  uint32_t p = 1;
};

// Derives `out_len` bytes from `passphrase` and `salt` with scrypt.
// kInvalidArgument for parameters OpenSSL rejects.
Result<Buffer> Scrypt(std::string_view passphrase, ByteSpan salt,
                      const ScryptParams& params, size_t out_len);

// AES-256-GCM with a random 96-bit nonce per message.
// Sealed layout: nonce (12) | ciphertext (len of plaintext) | tag (16).
// Thread-safe: Seal/Open are const and keep no state between calls.
class Aead {
 public:
  static constexpr size_t kKeySize = 32;
  static constexpr size_t kNonceSize = 12;
  static constexpr size_t kTagSize = 16;
  static constexpr size_t kOverhead = kNonceSize + kTagSize;

  // REQUIRES: key.size() == kKeySize.
  explicit Aead(ByteSpan key);

  // Appends the sealed form of `plaintext` to `out`.
  void SealTo(ByteSpan plaintext, Buffer& out, ByteSpan aad = {}) const;
  Buffer Seal(ByteSpan plaintext, ByteSpan aad = {}) const;

  // kCorruption ("authentication failed") when the sealed bytes or the aad
  // were changed, or when `sealed` is shorter than kOverhead.
  Result<Buffer> Open(ByteSpan sealed, ByteSpan aad = {}) const;

 private:
  std::array<std::byte, kKeySize> key_;
};

// AES-256-XTS for data at rest in fixed-size sectors (volume data files).
// The key is 64 bytes: two AES-256 keys, which must differ. The tweak of a
// sector is its number as a 16-byte little-endian integer (dm-crypt's
// "plain64"), so equal plaintext in two sectors encrypts differently.
// XTS has no integrity: it hides content, it does not detect tampering.
// Thread-safe: Encrypt/Decrypt are const; each call uses a per-thread
// OpenSSL context copied from the keyed one made at construction.
class XtsCipher {
 public:
  static constexpr size_t kKeySize = 64;

  // REQUIRES: key.size() == kKeySize and key[0..32) != key[32..64).
  explicit XtsCipher(ByteSpan key);
  ~XtsCipher();
  XtsCipher(const XtsCipher&) = delete;
  XtsCipher& operator=(const XtsCipher&) = delete;

  // Transforms `in` into `out` sector by sector; the k-th sector of the span
  // is sector number first_sector + k. `in` and `out` may be the same memory.
  // REQUIRES: in.size() == out.size(), a multiple of sector_size;
  // 16 <= sector_size <= 2^24.
  void Encrypt(uint64_t first_sector, size_t sector_size, ByteSpan in, MutableByteSpan out) const;
  void Decrypt(uint64_t first_sector, size_t sector_size, ByteSpan in, MutableByteSpan out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn

#endif  // CAIRN_CORE_CRYPTO_H_
