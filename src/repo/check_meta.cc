// CheckRepository, part 1: the config and key files.
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "repo/check_internal.h"
#include "repo/config.h"
#include "repo/object_list.h"

namespace cairn::repo {
namespace {

// What is wrong with a key file's JSON, or "" if nothing.
std::string KeyFileProblem(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return "not a JSON object";
  for (const char* field : {"id", "kdf", "salt", "data"}) {
    if (!j.contains(field) || !j[field].is_string()) {
      return fmt::format("field \"{}\" is missing or not a string", field);
    }
  }
  for (const char* field : {"n", "r", "p"}) {
    if (!j.contains(field) || !j[field].is_number_unsigned() || j[field].get<uint64_t>() == 0) {
      return fmt::format("field \"{}\" is missing or not a positive integer", field);
    }
  }
  if (j["kdf"] != "scrypt") return "unknown kdf " + j["kdf"].dump();
  for (const char* field : {"salt", "data"}) {
    if (!Base64Decode(j[field].get<std::string>()).ok()) {
      return fmt::format("field \"{}\" is not base64", field);
    }
  }
  return "";
}

}  // namespace

void CheckConfigAndKeys(Repository& repo, FindingSink& sink) {
  const std::string config_key(kConfigKey);
  Result<Buffer> config = repo.backend().Get(kConfigKey);
  if (!config.ok()) {
    sink.Error(config_key, "cannot read the config: " + config.status().message());
  } else if (Result<RepoConfig> c = RepoConfig::FromJson(AsStringView(*config)); !c.ok()) {
    sink.Error(config_key, "the config is damaged: " + c.status().message() +
                               "; restore it from a copy (it is plaintext JSON)");
  } else if (c->id != repo.config().id || c->block_size != repo.config().block_size ||
             c->encrypted != repo.config().encrypted) {
    sink.Error(config_key, "the config changed since this repository was opened");
  } else if (Status s = ValidateBlockSize(c->block_size); !s.ok()) {
    sink.Error(config_key, "the config is invalid: " + s.message());
  }

  if (!repo.config().encrypted) return;
  Result<std::vector<storage::ObjectInfo>> keys = ListObjects(repo.backend(), kKeysPrefix);
  if (!keys.ok()) {
    sink.Error(std::string(kKeysPrefix), keys.status().message());
    return;
  }
  if (keys->empty()) {
    sink.Error(std::string(kKeysPrefix),
               "no key files: the repository cannot be opened by a new process; add one "
               "with `cairn key add` while this session can still open it");
  }
  for (const storage::ObjectInfo& info : *keys) {
    Result<Buffer> data = repo.backend().Get(info.key);
    std::string problem = data.ok() ? KeyFileProblem(AsStringView(*data))
                                    : "cannot read: " + data.status().message();
    if (!problem.empty()) {
      sink.Error(info.key, fmt::format("key file is damaged ({}): its passphrase no longer "
                                       "opens the repository; use another passphrase and "
                                       "`cairn key remove` it, then `cairn key add` a new one",
                                       problem));
    }
  }
}

}  // namespace cairn::repo
