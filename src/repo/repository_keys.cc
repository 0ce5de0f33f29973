// Repository key management: keys/ objects (docs/format.md "keys/<key-id>").
#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "repo/keys.h"
#include "repo/lock.h"
#include "repo/repository.h"

namespace cairn::repo {

namespace {

Status RequireEncrypted(const RepoConfig& config, const std::string& where) {
  if (config.encrypted) return Status::OK();
  return FailedPreconditionError("repository at " + where + " is unencrypted: it has no keys");
}

}  // namespace

Result<std::vector<KeyInfo>> Repository::ListKeys() {
  RETURN_IF_ERROR(RequireEncrypted(config_, Describe()));
  std::vector<std::string> keys;
  RETURN_IF_ERROR_CTX(backend_->List(kKeysPrefix,
                                     [&](const storage::ObjectInfo& info) {
                                       keys.push_back(info.key);
                                       return Status::OK();
                                     }),
                      "listing keys/ in " + Describe());
  std::vector<KeyInfo> out;
  for (const std::string& key : keys) {
    ASSIGN_OR_RETURN_CTX(Buffer data, backend_->Get(key), "reading " + key);
    ASSIGN_OR_RETURN_CTX(KeyFile file, KeyFile::FromJson(AsStringView(data)), key);
    const std::string id = key.substr(kKeysPrefix.size());
    out.push_back(KeyInfo{id, file.created, file.host, file.user, id == current_key_id_});
  }
  std::sort(out.begin(), out.end(), [](const KeyInfo& a, const KeyInfo& b) {
    return std::tie(a.created, a.id) < std::tie(b.created, b.id);
  });
  return out;
}

Result<std::string> Repository::AddKey(std::string_view passphrase, const ScryptParams& params) {
  RETURN_IF_ERROR(RequireEncrypted(config_, Describe()));
  if (passphrase.empty()) return InvalidArgumentError("the new passphrase is empty");
  ASSIGN_OR_RETURN(KeyFile file,
                   WrapMasterKey(cipher_.master_key(), config_.id, passphrase, params));
  RETURN_IF_ERROR_CTX(backend_->Put(KeyFileKey(file.id), AsBytes(file.ToJson())),
                      "writing new key to " + Describe());
  return file.id;
}

Status Repository::RemoveKey(std::string_view key_id) {
  RETURN_IF_ERROR(RequireEncrypted(config_, Describe()));
  if (key_id == current_key_id_) {
    return FailedPreconditionError(fmt::format(
        "key {} is the one in use: open the repository with another passphrase to remove it",
        key_id));
  }
  ASSIGN_OR_RETURN(auto lock,
                   RepoLock::Acquire(*backend_, {.exclusive = true, .operation = "key remove"}));
  const std::string key = KeyFileKey(key_id);
  size_t count = 0;
  bool found = false;
  RETURN_IF_ERROR(backend_->List(kKeysPrefix, [&](const storage::ObjectInfo& info) {
    ++count;
    found = found || info.key == key;
    return Status::OK();
  }));
  if (!found) return NotFoundError(fmt::format("key {} not found in {}", key_id, Describe()));
  if (count <= 1) {
    return FailedPreconditionError(fmt::format(
        "key {} is the last key of {}: removing it would make the repository unreadable", key_id,
        Describe()));
  }
  RETURN_IF_ERROR_CTX(backend_->Remove(key), "removing " + key);
  return lock->Release();
}

Status Repository::ChangePassphrase(std::string_view new_passphrase, const ScryptParams& params) {
  ASSIGN_OR_RETURN(std::string new_id, AddKey(new_passphrase, params));
  const std::string old_id = current_key_id_;
  current_key_id_ = new_id;  // so RemoveKey accepts the old one
  Status s = RemoveKey(old_id);
  if (!s.ok()) {
    current_key_id_ = old_id;
    backend_->Remove(KeyFileKey(new_id)).IgnoreError();
    return s.WithContext("changing the passphrase");
  }
  return Status::OK();
}

}  // namespace cairn::repo
