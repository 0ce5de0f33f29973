// Chunk blobs (docs/format.md "Chunks"): compress-then-seal and its inverse
// with full verification.
#ifndef CAIRN_REPO_CHUNK_H_
#define CAIRN_REPO_CHUNK_H_

#include "core/bytes.h"
#include "core/status.h"
#include "repo/cipher.h"
#include "repo/ids.h"

namespace cairn::repo {

inline constexpr int kDefaultCompressionLevel = 1;

// Builds the blob for `plaintext`: flag byte + (zstd frame or raw), sealed.
// Stores raw when zstd saves less than 1/32, or when compression_level <= 0.
Buffer EncodeChunk(const RepoCipher& cipher, ByteSpan plaintext,
                   int compression_level = kDefaultCompressionLevel);

// Opens, decompresses and verifies a blob: the result has `raw_length` bytes
// and its chunk id equals `id`. kCorruption otherwise, with a message saying
// which check failed ("authentication failed", "chunk id mismatch", ...);
// callers add the pack and offset as context.
Result<Buffer> DecodeChunk(const RepoCipher& cipher, const ChunkId& id,
                           ByteSpan blob, uint32_t raw_length);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_CHUNK_H_
