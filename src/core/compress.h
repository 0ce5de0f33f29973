// Compression: the one adapter over zstd. Thread-safe (contexts are cached
// per thread).
#ifndef CAIRN_CORE_COMPRESS_H_
#define CAIRN_CORE_COMPRESS_H_

#include "core/bytes.h"
#include "core/status.h"

namespace cairn {

// Compresses `in` at zstd `level` (1..19; 1 is fastest) and appends the zstd
// frame to `out`.
void ZstdCompressTo(ByteSpan in, int level, Buffer& out);

// Decompresses one zstd frame that must expand to exactly `expected_size`
// bytes. kCorruption when the frame is damaged or its size differs.
Result<Buffer> ZstdDecompress(ByteSpan in, size_t expected_size);

}  // namespace cairn

#endif  // CAIRN_CORE_COMPRESS_H_
