#include "repo/config.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace cairn::repo {

using Json = nlohmann::ordered_json;

std::string RepoConfig::ToJson() const {
  Json j;
  j["format"] = "cairn-repository";
  j["version"] = version;
  j["id"] = id;
  j["created"] = created;
  j["block_size"] = block_size;
  j["encryption"] = encrypted ? "aes-256-gcm" : "none";
  j["chunk_id"] = encrypted ? "hmac-sha256" : "sha256";
  j["compression"] = "zstd";
  j["pack_size"] = pack_size;
  j["recycle_days"] = recycle_days;
  return j.dump();
}

Result<RepoConfig> RepoConfig::FromJson(std::string_view json) {
  RepoConfig c;
  try {
    Json j = Json::parse(json);
    if (j.at("format").get<std::string>() != "cairn-repository") {
      return CorruptionError("config: format is not \"cairn-repository\"");
    }
    c.version = j.at("version").get<int>();
    if (c.version > 1) {
      return FailedPreconditionError(fmt::format(
          "repository format version {} is newer than this cairn (which reads version 1)",
          c.version));
    }
    if (c.version < 1) return CorruptionError(fmt::format("config: bad version {}", c.version));
    c.id = j.at("id").get<std::string>();
    c.created = j.at("created").get<std::string>();
    c.block_size = j.at("block_size").get<uint32_t>();
    c.pack_size = j.at("pack_size").get<uint64_t>();
    // Absent in configs written before the recycle bin: the default.
    const int64_t recycle_days = j.value("recycle_days", int64_t{kDefaultRecycleDays});
    if (Status s = ValidateRecycleDays(recycle_days); !s.ok()) {
      return CorruptionError("config: " + s.message());
    }
    c.recycle_days = static_cast<int>(recycle_days);
    const std::string enc = j.at("encryption").get<std::string>();
    const std::string chunk_id = j.at("chunk_id").get<std::string>();
    const std::string compression = j.at("compression").get<std::string>();
    if (enc != "aes-256-gcm" && enc != "none") {
      return CorruptionError("config: unknown encryption \"" + enc + "\"");
    }
    c.encrypted = enc == "aes-256-gcm";
    if (chunk_id != (c.encrypted ? "hmac-sha256" : "sha256")) {
      return CorruptionError("config: chunk_id \"" + chunk_id +
                             "\" does not go with encryption \"" + enc + "\"");
    }
    if (compression != "zstd") {
      return CorruptionError("config: unknown compression \"" + compression + "\"");
    }
  } catch (const Json::exception& e) {
    return CorruptionError(std::string("config: malformed JSON: ") + e.what());
  }
  if (c.id.size() != 32 || c.id.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return CorruptionError("config: id \"" + c.id + "\" is not 32 hex digits");
  }
  if (Status s = ValidateBlockSize(c.block_size); !s.ok()) {
    return CorruptionError("config: " + s.message());
  }
  if (c.pack_size < c.block_size || c.pack_size > (uint64_t{1} << 32)) {
    return CorruptionError(fmt::format("config: pack_size {} is out of range", c.pack_size));
  }
  return c;
}

Status ValidateBlockSize(uint64_t block_size) {
  if (block_size < kMinBlockSize || block_size > kMaxBlockSize ||
      (block_size & (block_size - 1)) != 0) {
    return InvalidArgumentError(
        fmt::format("block size {} is not a power of two from 64 KiB to 8 MiB", block_size));
  }
  return Status::OK();
}

Status ValidateRecycleDays(int64_t days) {
  if (days < 0 || days > kMaxRecycleDays) {
    return InvalidArgumentError(fmt::format(
        "recycle bin period {} days is out of range (0 turns the bin off; at most {})", days,
        kMaxRecycleDays));
  }
  return Status::OK();
}

}  // namespace cairn::repo
