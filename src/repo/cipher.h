// RepoCipher: a repository's master key in use — chunk ids, Seal and Open
// (docs/format.md "Sealing", "Chunks"). An unencrypted repository's cipher
// uses plain SHA-256 ids and Seal(P) = P | SHA-256(P), so Open detects a
// changed byte in either mode.
//
// Thread-safe: immutable after construction.
#ifndef CAIRN_REPO_CIPHER_H_
#define CAIRN_REPO_CIPHER_H_

#include <memory>
#include <optional>

#include "core/bytes.h"
#include "core/crypto.h"
#include "core/status.h"
#include "repo/ids.h"

namespace cairn::repo {

struct MasterKey {
  std::array<std::byte, 32> encryption_key{};
  std::array<std::byte, 32> id_key{};
  static MasterKey Generate();
};

class RepoCipher {
 public:
  static RepoCipher Encrypted(const MasterKey& key);
  static RepoCipher Unencrypted();

  bool encrypted() const { return aead_.has_value(); }
  ChunkId ComputeChunkId(ByteSpan plaintext) const;
  void SealTo(ByteSpan plaintext, Buffer& out) const;
  Buffer Seal(ByteSpan plaintext) const;
  // kCorruption when authentication fails (or, unencrypted, the checksum
  // does not match).
  Result<Buffer> Open(ByteSpan sealed) const;
  // Bytes Seal adds: AES-GCM nonce + tag, or the SHA-256 checksum.
  static constexpr size_t kChecksumSize = 32;
  size_t overhead() const { return encrypted() ? Aead::kOverhead : kChecksumSize; }
  // The key, for wrapping into key files. REQUIRES: encrypted().
  const MasterKey& master_key() const { return key_; }

 private:
  std::optional<Aead> aead_;
  MasterKey key_;
};

}  // namespace cairn::repo

#endif  // CAIRN_REPO_CIPHER_H_
