#include "core/bytes.h"

#include <cstdint>
#include <cstring>

namespace cairn {

namespace {

inline uint64_t Load64(const std::byte* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

}  // namespace

bool IsAllZero(ByteSpan b) {
  const std::byte* p = b.data();
  size_t n = b.size();
  // Short inputs: byte loop.
  if (n < 64) {
    for (size_t i = 0; i < n; ++i) {
      if (p[i] != std::byte{0}) return false;
    }
    return true;
  }
  // If the first 16 bytes are zero and every byte equals the one 16 bytes
  // before it, all bytes are zero. memcmp is vectorised by libc (AVX2 on
  // x86-64) and exits at the first non-zero byte.
  if ((Load64(p) | Load64(p + 8)) != 0) return false;
  return std::memcmp(p, p + 16, n - 16) == 0;
}

}  // namespace cairn
