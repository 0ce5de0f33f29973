#include "repo/chunk.h"

#include <fmt/format.h>

#include <cstring>

#include "core/compress.h"
#include "repo/config.h"

namespace cairn::repo {

namespace {

constexpr std::byte kFlagRaw{0x00};
constexpr std::byte kFlagZstd{0x01};

// Builds flag | payload into `out` (which must be empty or hold a prefix the
// caller keeps).
void BuildPayload(ByteSpan plaintext, int level, Buffer& out) {
  const size_t base = out.size();
  if (level > 0 && !plaintext.empty()) {
    out.push_back(kFlagZstd);
    ZstdCompressTo(plaintext, level, out);
    const uint64_t compressed = out.size() - base - 1;
    // Raw unless zstd saves at least 1/32: keep zstd iff 32*c <= 31*n.
    if (32 * compressed <= 31 * uint64_t{plaintext.size()}) return;
    out.resize(base);
  }
  out.push_back(kFlagRaw);
  Append(out, plaintext);
}

// Room for flag | zstd frame without reallocation (above ZSTD_compressBound).
size_t PayloadCapacity(size_t n) { return 1 + n + n / 128 + 1024; }

}  // namespace

Buffer EncodeChunk(const RepoCipher& cipher, ByteSpan plaintext, int compression_level) {
  if (!cipher.encrypted()) {
    // Seal appends the checksum to flag | payload: build both in one buffer.
    Buffer out;
    out.reserve(PayloadCapacity(plaintext.size()) + cipher.overhead());
    BuildPayload(plaintext, compression_level, out);
    Append(out, Sha256(out));
    return out;
  }
  // AES-GCM cannot work in place here: reuse a per-thread scratch buffer for
  // flag | payload, then seal into the result (one allocation per chunk).
  thread_local Buffer scratch;
  scratch.clear();
  scratch.reserve(PayloadCapacity(plaintext.size()));
  BuildPayload(plaintext, compression_level, scratch);
  Buffer out;
  out.reserve(scratch.size() + cipher.overhead());
  cipher.SealTo(scratch, out);
  if (scratch.capacity() > 4 * size_t{kMaxBlockSize}) Buffer().swap(scratch);
  return out;
}

Result<Buffer> DecodeChunk(const RepoCipher& cipher, const ChunkId& id, ByteSpan blob,
                           uint32_t raw_length) {
  if (raw_length > kMaxBlockSize) {
    return CorruptionError(fmt::format("chunk {}: raw length {} exceeds the largest block size",
                                       id.ShortHex(), raw_length));
  }
  Result<Buffer> opened = cipher.Open(blob);
  if (!opened.ok()) {
    return opened.status().WithContext(fmt::format("chunk {}", id.ShortHex()));
  }
  Buffer payload = std::move(opened).value();
  if (payload.empty()) {
    return CorruptionError(fmt::format("chunk {}: empty payload (no flag byte)", id.ShortHex()));
  }
  Buffer plain;
  if (payload[0] == kFlagRaw) {
    if (payload.size() - 1 != raw_length) {
      return CorruptionError(
          fmt::format("chunk {}: length mismatch: raw payload of {} bytes, "
                      "index says {}",
                      id.ShortHex(), payload.size() - 1, raw_length));
    }
    payload.erase(payload.begin());
    plain = std::move(payload);
  } else if (payload[0] == kFlagZstd) {
    Result<Buffer> d = ZstdDecompress(ByteSpan(payload).subspan(1), raw_length);
    if (!d.ok()) {
      return d.status().WithContext(fmt::format("chunk {}: decompression failed", id.ShortHex()));
    }
    plain = std::move(d).value();
  } else {
    return CorruptionError(fmt::format("chunk {}: unknown flag byte 0x{:02x}", id.ShortHex(),
                                       std::to_integer<unsigned>(payload[0])));
  }
  if (cipher.ComputeChunkId(plain) != id) {
    return CorruptionError(fmt::format("chunk {}: chunk id mismatch (content hashes to {})",
                                       id.ShortHex(), cipher.ComputeChunkId(plain).ShortHex()));
  }
  return plain;
}

}  // namespace cairn::repo
