#include "core/compress.h"

#include <fmt/format.h>
#include <zstd.h>

#include <cstdlib>
#include <memory>

namespace cairn {

namespace {

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

ZSTD_CCtx* ThreadCCtx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxDeleter> ctx(ZSTD_createCCtx());
  return ctx.get();
}

ZSTD_DCtx* ThreadDCtx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxDeleter> ctx(ZSTD_createDCtx());
  return ctx.get();
}

}  // namespace

void ZstdCompressTo(ByteSpan in, int level, Buffer& out) {
  const size_t old_size = out.size();
  out.resize(old_size + ZSTD_compressBound(in.size()));
  size_t n = ZSTD_compressCCtx(ThreadCCtx(), out.data() + old_size, out.size() - old_size,
                               in.data(), in.size(), level);
  if (ZSTD_isError(n)) {
    // Only possible on allocation failure or a bug: the bound always fits.
    fmt::print(stderr, "cairn: zstd compression failed: {}\n", ZSTD_getErrorName(n));
    std::abort();
  }
  out.resize(old_size + n);
}

Result<Buffer> ZstdDecompress(ByteSpan in, size_t expected_size) {
  unsigned long long frame_size = ZSTD_getFrameContentSize(in.data(), in.size());
  if (frame_size == ZSTD_CONTENTSIZE_ERROR) {
    return CorruptionError(
        fmt::format("zstd: not a valid frame ({} bytes, expected {} bytes decompressed)", in.size(),
                    expected_size));
  }
  if (frame_size != ZSTD_CONTENTSIZE_UNKNOWN && frame_size != expected_size) {
    return CorruptionError(
        fmt::format("zstd: frame declares {} bytes, expected {}", frame_size, expected_size));
  }
  Buffer out(expected_size);
  size_t n = ZSTD_decompressDCtx(ThreadDCtx(), out.data(), out.size(), in.data(), in.size());
  if (ZSTD_isError(n)) {
    return CorruptionError(
        fmt::format("zstd: {} (frame of {} bytes, expected {} bytes decompressed)",
                    ZSTD_getErrorName(n), in.size(), expected_size));
  }
  if (n != expected_size) {
    return CorruptionError(
        fmt::format("zstd: frame decompressed to {} bytes, expected {}", n, expected_size));
  }
  return out;
}

}  // namespace cairn
