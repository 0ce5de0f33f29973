#include "volume/change_map.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "core/crypto.h"

namespace cairn::volume {
namespace {

constexpr std::string_view kMagic = "CAIRNCBT";
constexpr uint32_t kVersion = 1;

std::unique_ptr<std::atomic<uint64_t>[]> NewWords(size_t n) {
  auto w = std::make_unique<std::atomic<uint64_t>[]>(n);
  for (size_t i = 0; i < n; ++i) w[i].store(0, std::memory_order_relaxed);
  return w;
}

}  // namespace

ChangeMap::ChangeMap(uint64_t device_size, uint32_t block_size)
    : size_(device_size),
      block_size_(block_size),
      blocks_((device_size + block_size - 1) / block_size),
      words_((blocks_ + 63) / 64),
      bits_(NewWords(std::max<size_t>(words_, 1))) {}

bool ChangeMap::Mark(uint64_t offset, uint64_t length) {
  if (length == 0 || offset >= size_) return false;
  const uint64_t first = offset / block_size_;
  const uint64_t last = (std::min(offset + length, size_) - 1) / block_size_;
  bool newly = false;
  for (uint64_t b = first; b <= last;) {
    const uint64_t w = b / 64;
    const uint64_t lo = b % 64;
    const uint64_t hi = std::min<uint64_t>(63, lo + (last - b));
    const uint64_t mask =
        (hi - lo == 63) ? ~uint64_t{0} : (((uint64_t{1} << (hi - lo + 1)) - 1) << lo);
    // Most writes hit blocks already marked: a plain load avoids the RMW.
    if ((bits_[w].load(std::memory_order_relaxed) & mask) != mask) {
      uint64_t old = bits_[w].fetch_or(mask, std::memory_order_relaxed);
      if ((old & mask) != mask) newly = true;
    }
    b += hi - lo + 1;
  }
  return newly;
}

bool ChangeMap::Test(uint64_t block) const {
  if (block >= blocks_) return false;
  return (bits_[block / 64].load(std::memory_order_relaxed) >> (block % 64)) & 1;
}

void ChangeMap::MergeFrom(const ChangeMap& other) {
  const size_t n = std::min(words_, other.words_);
  for (size_t i = 0; i < n; ++i) {
    uint64_t v = other.bits_[i].load(std::memory_order_relaxed);
    if (v != 0) bits_[i].fetch_or(v, std::memory_order_relaxed);
  }
}

void ChangeMap::Resize(uint64_t new_size) {
  if (new_size <= size_) return;
  const uint64_t blocks = (new_size + block_size_ - 1) / block_size_;
  const size_t words = (blocks + 63) / 64;
  auto bits = NewWords(std::max<size_t>(words, 1));
  for (size_t i = 0; i < words_; ++i) bits[i].store(bits_[i].load(std::memory_order_relaxed));
  bits_ = std::move(bits);
  size_ = new_size;
  blocks_ = blocks;
  words_ = words;
}

std::vector<ChangedExtents::Range> ChangeMap::Ranges(uint64_t limit) const {
  limit = std::min(limit, size_);
  std::vector<ChangedExtents::Range> out;
  const uint64_t blocks = (limit + block_size_ - 1) / block_size_;
  for (size_t w = 0; w * 64 < blocks; ++w) {
    uint64_t v = bits_[w].load(std::memory_order_relaxed);
    while (v != 0) {
      const int bit = std::countr_zero(v);
      v &= v - 1;
      const uint64_t b = w * 64 + static_cast<uint64_t>(bit);
      if (b >= blocks) break;
      const uint64_t off = b * block_size_;
      const uint64_t len = std::min<uint64_t>(block_size_, limit - off);
      if (!out.empty() && out.back().offset + out.back().length == off) {
        out.back().length += len;
      } else {
        out.push_back({off, len});
      }
    }
  }
  return out;
}

uint64_t ChangeMap::CountSet() const {
  uint64_t n = 0;
  for (size_t i = 0; i < words_; ++i) n += std::popcount(bits_[i].load(std::memory_order_relaxed));
  return n;
}

Buffer ChangeMap::Encode(const State& state) const {
  Buffer out;
  out.reserve(64 + state.reason.size() + words_ * 8);
  Append(out, AsBytes(kMagic));
  PutU32LE(out, kVersion);
  PutU32LE(out, block_size_);
  PutU64LE(out, size_);
  out.push_back(std::byte(state.known ? 1 : 0));
  PutU32LE(out, static_cast<uint32_t>(state.reason.size()));
  Append(out, AsBytes(state.reason));
  PutU64LE(out, words_);
  for (size_t i = 0; i < words_; ++i) PutU64LE(out, bits_[i].load(std::memory_order_relaxed));
  Digest d = Sha256(out);
  Append(out, d);
  return out;
}

Result<ChangeMap::Decoded> ChangeMap::Decode(ByteSpan file, std::string_view what) {
  auto bad = [&](std::string_view why) {
    return CorruptionError(fmt::format("changed-block bitmap {} is damaged: {}", what, why));
  };
  constexpr size_t kFixed = 8 + 4 + 4 + 8 + 1 + 4;
  if (file.size() < kFixed + 8 + 32) return bad("file too short");
  ByteSpan body = file.first(file.size() - 32);
  Digest d = Sha256(body);
  if (std::memcmp(d.data(), file.data() + body.size(), 32) != 0) return bad("checksum mismatch");
  if (AsStringView(body.first(8)) != kMagic) return bad("not a cairn bitmap file");
  if (GetU32LE(body.subspan(8)) != kVersion) return bad("unknown version");
  const uint32_t block_size = GetU32LE(body.subspan(12));
  const uint64_t size = GetU64LE(body.subspan(16));
  const bool known = body[24] != std::byte{0};
  const uint32_t reason_len = GetU32LE(body.subspan(25));
  if (block_size == 0 || !std::has_single_bit(block_size)) return bad("bad block size");
  if (body.size() < kFixed + reason_len + 8) return bad("truncated reason");
  std::string reason(AsStringView(body.subspan(kFixed, reason_len)));
  const uint64_t words = GetU64LE(body.subspan(kFixed + reason_len));
  auto map = std::make_unique<ChangeMap>(size, block_size);
  if (words != map->words_ || body.size() != kFixed + reason_len + 8 + words * 8) {
    return bad("word count does not match the device size");
  }
  ByteSpan w = body.subspan(kFixed + reason_len + 8);
  for (size_t i = 0; i < words; ++i) map->bits_[i].store(GetU64LE(w.subspan(i * 8)));
  return Decoded{std::move(map), State{known, std::move(reason)}};
}

}  // namespace cairn::volume
