#include "repo/keys.h"

#include <fmt/format.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "core/units.h"
#include "repo/host_info.h"

namespace cairn::repo {

namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kKeyAad = "cairn-key-v1";
constexpr size_t kSaltSize = 32;

Result<Buffer> DeriveKek(std::string_view passphrase, const KeyFile& f) {
  return Scrypt(passphrase, f.salt, f.kdf, Aead::kKeySize);
}

Status DecodeKey32(const Json& j, const char* name, std::array<std::byte, 32>& out) {
  Result<Buffer> b = Base64Decode(j.at(name).get<std::string>());
  if (!b.ok() || b->size() != out.size()) {
    return CorruptionError(std::string("key file: master key field ") + name +
                           " is not 32 bytes of base64");
  }
  std::copy(b->begin(), b->end(), out.begin());
  return Status::OK();
}

}  // namespace

std::string KeyFileKey(std::string_view key_id) {
  return std::string(kKeysPrefix) + std::string(key_id);
}

std::string KeyFile::ToJson() const {
  Json j;
  j["id"] = id;
  j["created"] = created;
  j["host"] = host;
  j["user"] = user;
  j["kdf"] = "scrypt";
  j["n"] = kdf.n;
  j["r"] = kdf.r;
  j["p"] = kdf.p;
  j["salt"] = Base64Encode(salt);
  j["data"] = Base64Encode(data);
  return j.dump();
}

Result<KeyFile> KeyFile::FromJson(std::string_view json) {
  KeyFile f;
  std::string salt, data;
  try {
    Json j = Json::parse(json);
    f.id = j.at("id").get<std::string>();
    f.created = j.value("created", "");
    f.host = j.value("host", "");
    f.user = j.value("user", "");
    if (j.at("kdf").get<std::string>() != "scrypt") {
      return CorruptionError("key file: unknown kdf \"" + j.at("kdf").get<std::string>() + "\"");
    }
    f.kdf.n = j.at("n").get<uint64_t>();
    f.kdf.r = j.at("r").get<uint32_t>();
    f.kdf.p = j.at("p").get<uint32_t>();
    salt = j.at("salt").get<std::string>();
    data = j.at("data").get<std::string>();
  } catch (const Json::exception& e) {
    return CorruptionError(std::string("key file: malformed JSON: ") + e.what());
  }
  // Refuse parameters that would make opening take minutes or gigabytes.
  if (f.kdf.n > (uint64_t{1} << 22) || f.kdf.r > 32 || f.kdf.p > 16) {
    return CorruptionError(fmt::format("key file: scrypt parameters n={} r={} p={} out of range",
                                       f.kdf.n, f.kdf.r, f.kdf.p));
  }
  Result<Buffer> s = Base64Decode(salt);
  Result<Buffer> d = Base64Decode(data);
  if (!s.ok() || !d.ok()) return CorruptionError("key file: salt or data is not base64");
  f.salt = std::move(s).value();
  f.data = std::move(d).value();
  return f;
}

Result<KeyFile> WrapMasterKey(const MasterKey& key, std::string_view repository_id,
                              std::string_view passphrase, const ScryptParams& params) {
  KeyFile f;
  std::array<std::byte, 8> id;
  RandomBytes(id);
  f.id = HexEncode(id);
  f.created = FormatTimeUtc(std::chrono::system_clock::now());
  f.host = Hostname();
  f.user = UserName();
  f.kdf = params;
  f.salt.resize(kSaltSize);
  RandomBytes(f.salt);
  ASSIGN_OR_RETURN(Buffer kek, DeriveKek(passphrase, f));
  Json master;
  master["repository_id"] = std::string(repository_id);
  master["encryption_key"] = Base64Encode(key.encryption_key);
  master["id_key"] = Base64Encode(key.id_key);
  f.data = Aead(kek).Seal(AsBytes(master.dump()), AsBytes(kKeyAad));
  return f;
}

Result<UnwrappedKey> UnwrapMasterKey(const KeyFile& file, std::string_view passphrase) {
  ASSIGN_OR_RETURN(Buffer kek, DeriveKek(passphrase, file));
  Result<Buffer> plain = Aead(kek).Open(file.data, AsBytes(kKeyAad));
  if (!plain.ok()) {
    return UnauthenticatedError("key " + file.id + " does not open with this passphrase");
  }
  UnwrappedKey out;
  try {
    Json j = Json::parse(AsStringView(*plain));
    out.repository_id = j.at("repository_id").get<std::string>();
    RETURN_IF_ERROR(DecodeKey32(j, "encryption_key", out.key.encryption_key));
    RETURN_IF_ERROR(DecodeKey32(j, "id_key", out.key.id_key));
  } catch (const Json::exception& e) {
    return CorruptionError("key " + file.id + ": malformed master key JSON: " + e.what());
  }
  return out;
}

}  // namespace cairn::repo
