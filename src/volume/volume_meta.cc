#include "volume/volume_meta.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/crypto.h"
#include "core/encoding.h"

namespace cairn::volume {
namespace {

constexpr int kFormat = 1;

std::string KeyAad(const VolumeId& id) { return "cairn volume key " + id.str(); }

}  // namespace

std::string EncodeVolumeMeta(const VolumeMeta& meta) {
  const VolumeInfo& i = meta.info;
  nlohmann::ordered_json j;
  j["format"] = kFormat;
  j["id"] = i.id.str();
  j["size"] = i.size;
  j["type"] = std::string(VolumeTypeName(i.qos.type));
  j["iops"] = i.qos.iops;
  j["throughput_mibps"] = i.qos.throughput_mibps;
  j["encrypted"] = i.encrypted;
  if (i.encrypted) j["wrapped_key"] = Base64Encode(meta.wrapped_key);
  j["block_size"] = i.block_size;
  j["created_unix"] = i.created_unix;
  return j.dump(2) + "\n";
}

Result<VolumeMeta> DecodeVolumeMeta(std::string_view json, std::string_view what) {
  auto bad = [&](std::string_view why) {
    return CorruptionError(fmt::format("volume metadata {} is damaged: {}", what, why));
  };
  nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return bad("not a JSON object");
  try {
    if (j.at("format").get<int>() != kFormat) {
      return bad(fmt::format("format {} is not supported (this cairn reads {})",
                             j.at("format").get<int>(), kFormat));
    }
    VolumeMeta m;
    Result<VolumeId> id = VolumeId::Parse(j.at("id").get<std::string>());
    if (!id.ok()) return bad(id.status().message());
    m.info.id = *id;
    m.info.size = j.at("size").get<uint64_t>();
    Result<VolumeType> type = ParseVolumeType(j.at("type").get<std::string>());
    if (!type.ok()) return bad(type.status().message());
    m.info.qos.type = *type;
    m.info.qos.iops = j.at("iops").get<uint32_t>();
    m.info.qos.throughput_mibps = j.at("throughput_mibps").get<uint32_t>();
    m.info.encrypted = j.at("encrypted").get<bool>();
    m.info.block_size = j.at("block_size").get<uint32_t>();
    m.info.created_unix = j.at("created_unix").get<int64_t>();
    if (m.info.encrypted) {
      Result<Buffer> k = Base64Decode(j.at("wrapped_key").get<std::string>());
      if (!k.ok()) return bad("wrapped_key: " + k.status().message());
      m.wrapped_key = std::move(*k);
    }
    return m;
  } catch (const nlohmann::json::exception& e) {
    return bad(e.what());
  }
}

Buffer WrapVolumeKey(ByteSpan daemon_key, const VolumeId& id, ByteSpan volume_key) {
  return Aead(daemon_key).Seal(volume_key, AsBytes(KeyAad(id)));
}

Result<Buffer> UnwrapVolumeKey(ByteSpan daemon_key, const VolumeId& id, ByteSpan wrapped) {
  if (daemon_key.size() != kDaemonKeySize) {
    return FailedPreconditionError(fmt::format(
        "{} is encrypted: its key is wrapped by the daemon key, and {} bytes were given (need {})",
        id.str(), daemon_key.size(), kDaemonKeySize));
  }
  Result<Buffer> key = Aead(daemon_key).Open(wrapped, AsBytes(KeyAad(id)));
  if (!key.ok() || key->size() != XtsCipher::kKeySize) {
    return UnauthenticatedError(fmt::format(
        "cannot unwrap the key of encrypted volume {}: wrong daemon key (or the wrapped key in "
        "volume.json was altered)",
        id.str()));
  }
  return key;
}

}  // namespace cairn::volume
