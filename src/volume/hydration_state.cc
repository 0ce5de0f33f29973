#include "volume/hydration_state.h"

#include <fmt/format.h>

#include <bit>
#include <cstring>

#include "core/crypto.h"
#include "volume/file_util.h"

namespace cairn::volume {
namespace {

constexpr std::string_view kMagic = "CAIRNHYD";
constexpr uint32_t kVersion = 1;
// magic, version, block size, source size, total bytes, done, word count
constexpr size_t kFixed = 8 + 4 + 4 + 8 + 8 + 1 + 8;

}  // namespace

HydrationState HydrationState::Empty(uint32_t block_size, uint64_t source_size) {
  HydrationState s;
  s.block_size = block_size;
  s.source_size = source_size;
  s.words.assign((s.block_count() + 63) / 64, 0);
  return s;
}

uint64_t HydrationState::BlockBytes(uint64_t b) const {
  const uint64_t off = b * block_size;
  return off >= source_size ? 0 : std::min<uint64_t>(block_size, source_size - off);
}

uint64_t HydrationState::MissingBytes() const {
  uint64_t missing = 0;
  const uint64_t n = block_count();
  for (uint64_t b = 0; b < n; ++b) {
    if (!Test(b)) missing += BlockBytes(b);
  }
  return missing;
}

Buffer HydrationState::Encode() const {
  Buffer out;
  out.reserve(kFixed + words.size() * 8 + 32);
  Append(out, AsBytes(kMagic));
  PutU32LE(out, kVersion);
  PutU32LE(out, block_size);
  PutU64LE(out, source_size);
  PutU64LE(out, total_bytes);
  out.push_back(std::byte(done ? 1 : 0));
  PutU64LE(out, words.size());
  for (uint64_t w : words) PutU64LE(out, w);
  Digest d = Sha256(out);
  Append(out, d);
  return out;
}

Result<HydrationState> HydrationState::Decode(ByteSpan file, std::string_view what) {
  auto bad = [&](std::string_view why) {
    return CorruptionError(fmt::format(
        "hydration state {} is damaged ({}): the volume cannot tell which blocks are local; "
        "delete the volume and create it again from its snapshot",
        what, why));
  };
  if (file.size() < kFixed + 32) return bad("file too short");
  ByteSpan body = file.first(file.size() - 32);
  Digest d = Sha256(body);
  if (std::memcmp(d.data(), file.data() + body.size(), 32) != 0) return bad("checksum mismatch");
  if (AsStringView(body.first(8)) != kMagic) return bad("not a cairn hydration file");
  if (GetU32LE(body.subspan(8)) != kVersion) return bad("unknown version");
  HydrationState s;
  s.block_size = GetU32LE(body.subspan(12));
  s.source_size = GetU64LE(body.subspan(16));
  s.total_bytes = GetU64LE(body.subspan(24));
  s.done = body[32] != std::byte{0};
  const uint64_t words = GetU64LE(body.subspan(33));
  if (s.block_size == 0 || !std::has_single_bit(s.block_size)) return bad("bad block size");
  if (words != (s.block_count() + 63) / 64 || body.size() != kFixed + words * 8) {
    return bad("word count does not match the source size");
  }
  s.words.resize(words);
  for (size_t i = 0; i < words; ++i) s.words[i] = GetU64LE(body.subspan(kFixed + i * 8));
  return s;
}

Result<std::optional<HydrationState>> HydrationState::Load(const std::string& path) {
  Result<Buffer> file = ReadWholeFile(path);
  if (file.status().code() == StatusCode::kNotFound) return std::optional<HydrationState>();
  RETURN_IF_ERROR(file.status());
  ASSIGN_OR_RETURN(HydrationState s, Decode(*file, path));
  return std::optional<HydrationState>(std::move(s));
}

Status HydrationState::Save(const std::string& path) const {
  return WriteFileAtomic(path, Encode(), /*sync=*/true).WithContext("saving " + path);
}

}  // namespace cairn::volume
