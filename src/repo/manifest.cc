#include "repo/manifest.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/compress.h"
#include "core/encoding.h"
#include "repo/config.h"

namespace cairn::repo {

namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kManifestMagic = "CAIRNSN1";
constexpr size_t kPrefixSize = 8 + 4;  // magic + header_len
// Far above any header cairn writes; guards against absurd allocations.
constexpr uint32_t kMaxHeaderLen = 64u << 20;

Json ToJsonValue(const SnapshotHeader& h) {
  Json j;
  j["id"] = h.id.str();
  j["state"] = h.state;
  j["source"] = h.source;
  j["host"] = h.host;
  j["size"] = h.size;
  j["block_size"] = h.block_size;
  j["block_count"] = h.block_count;
  j["created"] = h.created;
  j["completed"] = h.completed;
  j["description"] = h.description;
  j["tags"] = Json::object();
  for (const auto& [k, v] : h.tags) j["tags"][k] = v;
  j["parent"] = h.parent ? Json(h.parent->str()) : Json(nullptr);
  j["map"] = {{"sha256", h.map_sha256}, {"length", h.map_length}};
  j["stats"] = {{"bytes_read", h.stats.bytes_read},
                {"bytes_new", h.stats.bytes_new},
                {"bytes_stored", h.stats.bytes_stored},
                {"chunks_new", h.stats.chunks_new},
                {"seconds", h.stats.seconds}};
  return j;
}

Result<SnapshotHeader> HeaderFromJson(std::string_view text, const SnapshotId& expected_id) {
  SnapshotHeader h;
  std::string id;
  try {
    Json j = Json::parse(text);
    id = j.at("id").get<std::string>();
    h.state = j.at("state").get<std::string>();
    h.source = j.at("source").get<std::string>();
    h.host = j.at("host").get<std::string>();
    h.size = j.at("size").get<uint64_t>();
    h.block_size = j.at("block_size").get<uint32_t>();
    h.block_count = j.at("block_count").get<uint64_t>();
    h.created = j.at("created").get<std::string>();
    h.completed = j.at("completed").get<std::string>();
    h.description = j.value("description", "");
    if (j.contains("tags")) h.tags = j.at("tags").get<std::map<std::string, std::string>>();
    const Json& parent = j.at("parent");
    if (!parent.is_null()) {
      Result<SnapshotId> p = SnapshotId::Parse(parent.get<std::string>());
      if (!p.ok()) return CorruptionError("parent: " + p.status().message());
      h.parent = *p;
    }
    h.map_sha256 = j.at("map").at("sha256").get<std::string>();
    h.map_length = j.at("map").at("length").get<uint64_t>();
    if (j.contains("stats")) {
      const Json& s = j.at("stats");
      h.stats.bytes_read = s.value("bytes_read", uint64_t{0});
      h.stats.bytes_new = s.value("bytes_new", uint64_t{0});
      h.stats.bytes_stored = s.value("bytes_stored", uint64_t{0});
      h.stats.chunks_new = s.value("chunks_new", uint64_t{0});
      h.stats.seconds = s.value("seconds", 0.0);
    }
  } catch (const Json::exception& e) {
    return CorruptionError(std::string("malformed header JSON: ") + e.what());
  }
  if (id != expected_id.str()) {
    return CorruptionError("header names snapshot \"" + id + "\", not the object's name");
  }
  h.id = expected_id;
  if (Status s = ValidateBlockSize(h.block_size); !s.ok()) return CorruptionError(s.message());
  if (h.block_count != (h.size + h.block_size - 1) / h.block_size) {
    return CorruptionError(fmt::format("block_count {} does not match size {} / block_size {}",
                                       h.block_count, h.size, h.block_size));
  }
  if (h.map_sha256.size() != 64) return CorruptionError("map.sha256 is not 64 hex digits");
  return h;
}

struct ParsedHeader {
  SnapshotHeader header;
  size_t map_offset = 0;  // where map_blob starts in the object
};

// kFailedPrecondition when `prefix` ends before the header does.
Result<ParsedHeader> ParseHeader(const RepoCipher& cipher, const SnapshotId& id, ByteSpan prefix) {
  if (prefix.size() >= kManifestMagic.size() &&
      AsStringView(prefix.first(kManifestMagic.size())) != kManifestMagic) {
    return CorruptionError("bad magic (expected CAIRNSN1)");
  }
  if (prefix.size() < kPrefixSize) {
    return FailedPreconditionError(
        fmt::format("manifest prefix of {} bytes is too short", prefix.size()));
  }
  const uint32_t header_len = GetU32LE(prefix.subspan(8));
  if (header_len > kMaxHeaderLen || header_len < cipher.overhead()) {
    return CorruptionError(fmt::format("implausible header length {}", header_len));
  }
  if (prefix.size() - kPrefixSize < header_len) {
    return FailedPreconditionError(fmt::format(
        "manifest header of {} bytes does not fit the {} bytes read", header_len, prefix.size()));
  }
  ASSIGN_OR_RETURN_CTX(Buffer json, cipher.Open(prefix.subspan(kPrefixSize, header_len)), "header");
  ASSIGN_OR_RETURN(SnapshotHeader h, HeaderFromJson(AsStringView(json), id));
  return ParsedHeader{std::move(h), kPrefixSize + header_len};
}

}  // namespace

std::string HeaderToJson(const SnapshotHeader& h) { return ToJsonValue(h).dump(); }

Buffer EncodeManifest(const RepoCipher& cipher, Manifest& manifest) {
  SnapshotHeader& h = manifest.header;
  Buffer map;
  map.reserve(manifest.blocks.size() * 32);
  for (const ChunkId& id : manifest.blocks) Append(map, id.bytes);
  h.block_count = manifest.blocks.size();
  h.map_sha256 = HexEncode(Sha256(map));
  Buffer compressed;
  ZstdCompressTo(map, 3, compressed);
  Buffer().swap(map);
  Buffer map_blob = cipher.Seal(compressed);
  h.map_length = map_blob.size();

  const std::string json = HeaderToJson(h);
  Buffer out;
  out.reserve(kPrefixSize + json.size() + cipher.overhead() + map_blob.size());
  Append(out, AsBytes(kManifestMagic));
  PutU32LE(out, static_cast<uint32_t>(json.size() + cipher.overhead()));
  cipher.SealTo(AsBytes(json), out);
  Append(out, map_blob);
  return out;
}

Result<SnapshotHeader> DecodeManifestHeader(const RepoCipher& cipher, const SnapshotId& expected_id,
                                            ByteSpan prefix) {
  Result<ParsedHeader> p = ParseHeader(cipher, expected_id, prefix);
  if (!p.ok()) {
    if (p.status().code() == StatusCode::kFailedPrecondition) return p.status();
    return p.status().WithContext("snapshot " + expected_id.str());
  }
  return std::move(p->header);
}

Result<Manifest> DecodeManifest(const RepoCipher& cipher, const SnapshotId& expected_id,
                                ByteSpan object) {
  const std::string ctx = "snapshot " + expected_id.str();
  Result<ParsedHeader> parsed = ParseHeader(cipher, expected_id, object);
  if (!parsed.ok()) {
    Status s = parsed.status();
    if (s.code() == StatusCode::kFailedPrecondition)
      s = CorruptionError("truncated: " + s.message());
    return s.WithContext(ctx);
  }
  Manifest m;
  m.header = std::move(parsed->header);
  ByteSpan map_blob = object.subspan(parsed->map_offset);
  if (map_blob.size() != m.header.map_length) {
    return CorruptionError(fmt::format("{}: map blob is {} bytes, header says {}", ctx,
                                       map_blob.size(), m.header.map_length));
  }
  if (m.header.block_count > (uint64_t{1} << 40) / 32) {
    return CorruptionError(
        fmt::format("{}: block_count {} is implausible", ctx, m.header.block_count));
  }
  ASSIGN_OR_RETURN_CTX(Buffer compressed, cipher.Open(map_blob), ctx + ": map");
  ASSIGN_OR_RETURN_CTX(Buffer map, ZstdDecompress(compressed, m.header.block_count * 32),
                       ctx + ": map");
  if (HexEncode(Sha256(map)) != m.header.map_sha256) {
    return CorruptionError(ctx + ": map checksum mismatch (SHA-256 differs from the header's)");
  }
  m.blocks.resize(m.header.block_count);
  for (size_t i = 0; i < m.blocks.size(); ++i) {
    m.blocks[i] = ChunkId::FromBytes(ByteSpan(map).subspan(32 * i, 32));
  }
  return m;
}

}  // namespace cairn::repo
