// Key files (docs/format.md "keys/<key-id>"): the master key wrapped by one
// passphrase. Internal to repo/; Repository uses it for open and key commands.
//
//   kek  = scrypt(passphrase, salt, n, r, p, 32)
//   data = AES-256-GCM(kek, master_json, aad "cairn-key-v1")
#ifndef CAIRN_REPO_KEYS_H_
#define CAIRN_REPO_KEYS_H_

#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/crypto.h"
#include "core/status.h"
#include "repo/cipher.h"

namespace cairn::repo {

struct KeyFile {
  std::string id;  // 16 hex
  std::string created;
  std::string host;
  std::string user;
  ScryptParams kdf;
  Buffer salt;
  Buffer data;  // sealed master_json

  std::string ToJson() const;
  // kCorruption for malformed JSON or out-of-range scrypt parameters.
  static Result<KeyFile> FromJson(std::string_view json);
};

std::string KeyFileKey(std::string_view key_id);  // "keys/<id>"

// A new key file (fresh id and salt) wrapping `key` for `repository_id`.
// kInvalidArgument for bad scrypt parameters.
Result<KeyFile> WrapMasterKey(const MasterKey& key, std::string_view repository_id,
                              std::string_view passphrase, const ScryptParams& params);

struct UnwrappedKey {
  std::string repository_id;
  MasterKey key;
};
// kUnauthenticated when `passphrase` does not open the key file; kCorruption
// when it opens but the content is malformed.
Result<UnwrappedKey> UnwrapMasterKey(const KeyFile& file, std::string_view passphrase);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_KEYS_H_
