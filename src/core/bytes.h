// Byte buffers and little-endian encoding helpers.
//
// Buffers are std::vector<std::byte>; views are std::span. The Put*/Get*
// helpers encode fixed-width little-endian integers, as every binary cairn
// format does (docs/format.md).
#ifndef CAIRN_CORE_BYTES_H_
#define CAIRN_CORE_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cairn {

using Buffer = std::vector<std::byte>;
using ByteSpan = std::span<const std::byte>;
using MutableByteSpan = std::span<std::byte>;

inline ByteSpan AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
inline std::string_view AsStringView(ByteSpan b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline Buffer ToBuffer(std::string_view s) {
  ByteSpan b = AsBytes(s);
  return Buffer(b.begin(), b.end());
}
inline void Append(Buffer& out, ByteSpan b) { out.insert(out.end(), b.begin(), b.end()); }

inline void PutU32LE(Buffer& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(std::byte((v >> (8 * i)) & 0xff));
}
inline void PutU64LE(Buffer& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(std::byte((v >> (8 * i)) & 0xff));
}
// REQUIRES: b.size() >= 4 (resp. 8).
inline uint32_t GetU32LE(ByteSpan b) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | std::to_integer<uint32_t>(b[i]);
  return v;
}
inline uint64_t GetU64LE(ByteSpan b) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | std::to_integer<uint64_t>(b[i]);
  return v;
}

// True when every byte of `b` is zero. Fast (word-at-a-time).
bool IsAllZero(ByteSpan b);

}  // namespace cairn

#endif  // CAIRN_CORE_BYTES_H_
