#include "repo/cipher.h"

#include <cstring>

namespace cairn::repo {

MasterKey MasterKey::Generate() {
  MasterKey key;
  RandomBytes(key.encryption_key);
  RandomBytes(key.id_key);
  return key;
}

RepoCipher RepoCipher::Encrypted(const MasterKey& key) {
  RepoCipher c;
  c.key_ = key;
  c.aead_.emplace(key.encryption_key);
  return c;
}

RepoCipher RepoCipher::Unencrypted() { return RepoCipher(); }

ChunkId RepoCipher::ComputeChunkId(ByteSpan plaintext) const {
  ChunkId id;
  id.bytes = encrypted() ? HmacSha256(key_.id_key, plaintext) : Sha256(plaintext);
  return id;
}

void RepoCipher::SealTo(ByteSpan plaintext, Buffer& out) const {
  if (aead_) {
    aead_->SealTo(plaintext, out);
    return;
  }
  // Unencrypted: P | SHA-256(P).
  out.reserve(out.size() + plaintext.size() + kChecksumSize);
  Append(out, plaintext);
  Append(out, Sha256(plaintext));
}

Buffer RepoCipher::Seal(ByteSpan plaintext) const {
  Buffer out;
  out.reserve(plaintext.size() + overhead());
  SealTo(plaintext, out);
  return out;
}

Result<Buffer> RepoCipher::Open(ByteSpan sealed) const {
  if (aead_) return aead_->Open(sealed);
  if (sealed.size() < kChecksumSize) {
    return CorruptionError("checksum failed: sealed message of " + std::to_string(sealed.size()) +
                           " bytes is shorter than 32");
  }
  ByteSpan plain = sealed.first(sealed.size() - kChecksumSize);
  Digest d = Sha256(plain);
  if (std::memcmp(d.data(), sealed.last(kChecksumSize).data(), kChecksumSize) != 0) {
    return CorruptionError("checksum failed: SHA-256 mismatch (" + std::to_string(sealed.size()) +
                           " bytes sealed)");
  }
  return Buffer(plain.begin(), plain.end());
}

}  // namespace cairn::repo
