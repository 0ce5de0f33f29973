// Repository: an opened cairn repository — backend, config, cipher, and the
// index and snapshot catalogue read from it. Entry point for every command.
//
// Thread-safety: after Open/Init, const accessors, the loaded Index and the
// read-only calls (ListSnapshots, LoadManifest, LoadSnapshotHeader) are safe
// to use from many threads; LoadIndex builds the new index aside and swaps it
// in (Index::Replace), so readers of the index see the old or the new one.
#ifndef CAIRN_REPO_REPOSITORY_H_
#define CAIRN_REPO_REPOSITORY_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/crypto.h"
#include "core/status.h"
#include "repo/cipher.h"
#include "repo/config.h"
#include "repo/index.h"
#include "repo/manifest.h"
#include "storage/backend.h"

namespace cairn::repo {

struct InitOptions {
  uint32_t block_size = kDefaultBlockSize;
  bool encrypted = true;
  std::string passphrase;  // REQUIRES non-empty when encrypted
  ScryptParams scrypt;     // tests may lower n
  // The chunk-id key to use instead of a random one, so that this repository
  // computes the same chunk ids as another (`repo init --copy-params-from`;
  // the encryption key stays random). REQUIRES encrypted when set.
  std::optional<std::array<std::byte, 32>> id_key;
  // Recycle bin period in days (0 = off); see repo/recycle_bin.h.
  int recycle_days = kDefaultRecycleDays;
};

struct KeyInfo {
  std::string id;
  std::string created;
  std::string host;
  std::string user;
  bool current = false;  // the key that opened this session
};

class Repository {
 public:
  // Creates a new repository on an empty backend. kAlreadyExists if a
  // `config` object is already there.
  static Result<std::unique_ptr<Repository>> Init(
      std::unique_ptr<storage::Backend> backend, const InitOptions& options);

  // Opens an existing repository. kNotFound ("no cairn repository at X (no
  // config object): ...") if there is no config; kUnauthenticated ("wrong
  // passphrase: none of the N keys in X opens with it") if no key opens it.
  // The passphrase is ignored for unencrypted repositories (which must have
  // no key files: kCorruption otherwise, as the config may be forged).
  static Result<std::unique_ptr<Repository>> Open(
      std::unique_ptr<storage::Backend> backend, std::string_view passphrase);

  storage::Backend& backend() { return *backend_; }
  const RepoConfig& config() const { return config_; }
  const RepoCipher& cipher() const { return cipher_; }
  std::string Describe() const { return backend_->Describe(); }

  // The index; LoadIndex() must have been called first.
  Index& index() { return index_; }
  // Reads all index objects (idempotent; reloads when called again).
  Result<LoadedIndex> LoadIndex();

  // Headers of all snapshots, sorted by created time then id. Manifests that
  // cannot be read are reported in `damaged` and skipped.
  struct SnapshotList {
    std::vector<SnapshotHeader> snapshots;
    std::vector<std::pair<std::string, Status>> damaged;  // key, why
  };
  Result<SnapshotList> ListSnapshots();
  // kNotFound "snapshot snap-… not found in X" (adding, when the snapshot is
  // in the recycle bin, how to undelete it).
  Result<Manifest> LoadManifest(const SnapshotId& id);
  Result<SnapshotHeader> LoadSnapshotHeader(const SnapshotId& id);
  // Writes a manifest (fills map checksum). Last step of a backup.
  Status SaveManifest(Manifest& manifest);
  // Removes the manifest for good (no recycle bin; see repo/recycle_bin.h).
  Status DeleteSnapshot(const SnapshotId& id);

  // Changes the recycle bin period (kInvalidArgument out of range): re-reads
  // `config`, checks it is still this repository's, rewrites it with the new
  // `recycle_days` (one atomic Put). Snapshots already in the bin keep the
  // expiry they got when deleted.
  Status SetRecycleDays(int days);

  // Key management (encrypted repositories only; kFailedPrecondition
  // otherwise).
  Result<std::vector<KeyInfo>> ListKeys();
  Result<std::string> AddKey(std::string_view passphrase,
                             const ScryptParams& params = {});
  // Refuses (kFailedPrecondition) to remove the last key or the key in use;
  // kNotFound for an unknown id. Takes an exclusive lock while it runs.
  Status RemoveKey(std::string_view key_id);
  // Adds a key for `new_passphrase` and removes the current one (under an
  // exclusive lock); the new key becomes the current one.
  Status ChangePassphrase(std::string_view new_passphrase,
                          const ScryptParams& params = {});

 private:
  Repository(std::unique_ptr<storage::Backend> backend, RepoConfig config,
             RepoCipher cipher, std::string current_key_id);

  std::unique_ptr<storage::Backend> backend_;
  RepoConfig config_;
  RepoCipher cipher_;
  std::string current_key_id_;
  Index index_;
};

}  // namespace cairn::repo

#endif  // CAIRN_REPO_REPOSITORY_H_
