#include "repo/repository.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <tuple>

#include "core/encoding.h"
#include "core/log.h"
#include "core/units.h"
#include "repo/keys.h"
#include "repo/parallel.h"

namespace cairn::repo {

namespace {

// Manifest headers cairn writes fit in this; longer ones are read whole.
constexpr uint64_t kManifestPrefix = 64 * 1024;

Result<std::vector<std::string>> ListKeyIds(storage::Backend& backend) {
  std::vector<std::string> ids;
  RETURN_IF_ERROR_CTX(backend.List(kKeysPrefix,
                                   [&](const storage::ObjectInfo& info) {
                                     ids.push_back(info.key.substr(kKeysPrefix.size()));
                                     return Status::OK();
                                   }),
                      "listing keys/ in " + backend.Describe());
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace

Repository::Repository(std::unique_ptr<storage::Backend> backend, RepoConfig config,
                       RepoCipher cipher, std::string current_key_id)
    : backend_(std::move(backend)),
      config_(std::move(config)),
      cipher_(std::move(cipher)),
      current_key_id_(std::move(current_key_id)) {}

Result<std::unique_ptr<Repository>> Repository::Init(std::unique_ptr<storage::Backend> backend,
                                                     const InitOptions& options) {
  RETURN_IF_ERROR(ValidateBlockSize(options.block_size));
  RETURN_IF_ERROR(ValidateRecycleDays(options.recycle_days));
  if (options.encrypted && options.passphrase.empty()) {
    return InvalidArgumentError("an encrypted repository needs a non-empty passphrase");
  }
  if (options.id_key.has_value() && !options.encrypted) {
    return InvalidArgumentError(
        "an unencrypted repository has no chunk-id key (its chunk ids are plain SHA-256)");
  }
  const std::string where = backend->Describe();
  Result<storage::ObjectInfo> existing = backend->Stat(kConfigKey);
  if (existing.ok()) return AlreadyExistsError("a repository already exists at " + where);
  if (existing.status().code() != StatusCode::kNotFound) {
    return existing.status().WithContext("checking for a repository at " + where);
  }

  RepoConfig config;
  std::array<std::byte, 16> id;
  RandomBytes(id);
  config.id = HexEncode(id);
  config.created = FormatTimeUtc(std::chrono::system_clock::now());
  config.block_size = options.block_size;
  config.encrypted = options.encrypted;
  config.recycle_days = options.recycle_days;

  RepoCipher cipher = RepoCipher::Unencrypted();
  std::string key_id;
  if (options.encrypted) {
    // The key goes first: a crash before the config is written leaves an
    // orphan key (ignored, it names another id), never a config no key opens.
    MasterKey master = MasterKey::Generate();
    if (options.id_key.has_value()) master.id_key = *options.id_key;
    ASSIGN_OR_RETURN(KeyFile key,
                     WrapMasterKey(master, config.id, options.passphrase, options.scrypt));
    RETURN_IF_ERROR_CTX(backend->Put(KeyFileKey(key.id), AsBytes(key.ToJson())),
                        "writing the first key to " + where);
    cipher = RepoCipher::Encrypted(master);
    key_id = key.id;
  }
  RETURN_IF_ERROR_CTX(backend->Put(kConfigKey, AsBytes(config.ToJson())),
                      "writing config to " + where);
  return std::unique_ptr<Repository>(
      new Repository(std::move(backend), std::move(config), std::move(cipher), key_id));
}

Result<std::unique_ptr<Repository>> Repository::Open(std::unique_ptr<storage::Backend> backend,
                                                     std::string_view passphrase) {
  const std::string where = backend->Describe();
  Result<Buffer> config_data = backend->Get(kConfigKey);
  if (!config_data.ok()) {
    if (config_data.status().code() == StatusCode::kNotFound) {
      return NotFoundError(fmt::format(
          "no cairn repository at {} (no config object): check the path or run `cairn repo init`",
          where));
    }
    return config_data.status().WithContext("reading config of " + where);
  }
  ASSIGN_OR_RETURN_CTX(RepoConfig config, RepoConfig::FromJson(AsStringView(*config_data)),
                       "repository at " + where);
  ASSIGN_OR_RETURN(std::vector<std::string> key_ids, ListKeyIds(*backend));

  if (!config.encrypted) {
    // Key files in an unencrypted repository mean the config was replaced:
    // writing plaintext into an encrypted repository must not happen silently.
    if (!key_ids.empty()) {
      return CorruptionError(fmt::format(
          "config of {} says unencrypted but keys/ holds {} key files: the config may have "
          "been tampered with",
          where, key_ids.size()));
    }
    return std::unique_ptr<Repository>(
        new Repository(std::move(backend), std::move(config), RepoCipher::Unencrypted(), ""));
  }
  if (key_ids.empty()) {
    return CorruptionError("repository at " + where + " is encrypted but keys/ holds no key");
  }
  for (const std::string& key_id : key_ids) {
    const std::string key = KeyFileKey(key_id);
    Result<Buffer> data = backend->Get(key);
    if (!data.ok()) {
      LogWarning("cannot read " + key + ": " + data.status().ToString());
      continue;
    }
    Result<KeyFile> file = KeyFile::FromJson(AsStringView(*data));
    if (!file.ok()) {
      LogWarning("skipping " + key + ": " + file.status().ToString());
      continue;
    }
    Result<UnwrappedKey> unwrapped = UnwrapMasterKey(*file, passphrase);
    if (!unwrapped.ok()) {
      if (unwrapped.status().code() != StatusCode::kUnauthenticated) {
        LogWarning("skipping " + key + ": " + unwrapped.status().ToString());
      }
      continue;
    }
    if (unwrapped->repository_id != config.id) {
      LogWarning("skipping " + key + ": it belongs to repository " + unwrapped->repository_id);
      continue;
    }
    return std::unique_ptr<Repository>(new Repository(
        std::move(backend), std::move(config), RepoCipher::Encrypted(unwrapped->key), key_id));
  }
  return UnauthenticatedError(fmt::format(
      "wrong passphrase: none of the {} keys in {} opens with it", key_ids.size(), where));
}

Result<LoadedIndex> Repository::LoadIndex() {
  // Built aside and swapped in: readers of the shared index (a volume
  // hydrating while the daemon's uploads reload it) never see it empty.
  Index fresh;
  ASSIGN_OR_RETURN(LoadedIndex loaded, repo::LoadIndex(*backend_, cipher_, fresh));
  index_.Replace(std::move(fresh));
  return loaded;
}

Result<Repository::SnapshotList> Repository::ListSnapshots() {
  std::vector<std::string> keys;
  RETURN_IF_ERROR_CTX(backend_->List(kSnapshotsPrefix,
                                     [&](const storage::ObjectInfo& info) {
                                       keys.push_back(info.key);
                                       return Status::OK();
                                     }),
                      "listing snapshots/ in " + Describe());
  std::vector<std::optional<Result<SnapshotHeader>>> read(keys.size());
  ParallelFor(keys.size(), kMetadataReadThreads, [&](size_t i) {
    Result<SnapshotId> id = SnapshotId::Parse(keys[i].substr(kSnapshotsPrefix.size()));
    if (!id.ok()) {
      read[i] = CorruptionError("not a snapshot name: " + id.status().message());
      return;
    }
    read[i] = LoadSnapshotHeader(*id);
  });
  SnapshotList list;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (read[i]->ok()) {
      list.snapshots.push_back(std::move(*read[i]).value());
    } else {
      list.damaged.emplace_back(keys[i], read[i]->status());
    }
  }
  std::sort(list.snapshots.begin(), list.snapshots.end(),
            [](const SnapshotHeader& a, const SnapshotHeader& b) {
              return std::tie(a.created, a.id) < std::tie(b.created, b.id);
            });
  return list;
}

namespace {

Status CheckBlockSize(const SnapshotHeader& h, const RepoConfig& config) {
  if (h.block_size == config.block_size) return Status::OK();
  return CorruptionError(fmt::format("snapshot {}: block size {} differs from the repository's {}",
                                     h.id.str(), h.block_size, config.block_size));
}

Status SnapshotNotFound(const Status& s, const SnapshotId& id, storage::Backend& backend) {
  if (s.code() == StatusCode::kNotFound) {
    std::string binned;
    if (backend.Stat(DeletedKey(id)).ok()) {
      binned = fmt::format(" (it is in the recycle bin: `cairn snapshot undelete {}` brings it "
                           "back until it expires; `cairn snapshot list --deleted` says when)",
                           id.str());
    }
    return NotFoundError("snapshot " + id.str() + " not found in " + backend.Describe() + binned);
  }
  return s.WithContext("reading snapshot " + id.str());
}

}  // namespace

Result<SnapshotHeader> Repository::LoadSnapshotHeader(const SnapshotId& id) {
  const std::string key = SnapshotKey(id);
  Result<Buffer> prefix = backend_->GetRange(key, 0, kManifestPrefix);
  if (!prefix.ok()) return SnapshotNotFound(prefix.status(), id, *backend_);
  Result<SnapshotHeader> h = DecodeManifestHeader(cipher_, id, *prefix);
  if (!h.ok() && h.status().code() == StatusCode::kFailedPrecondition) {
    if (prefix->size() < kManifestPrefix) {  // that was the whole object
      return CorruptionError("snapshot " + id.str() + ": truncated: " + h.status().message());
    }
    Result<Buffer> whole = backend_->Get(key);
    if (!whole.ok()) return SnapshotNotFound(whole.status(), id, *backend_);
    h = DecodeManifestHeader(cipher_, id, *whole);
    if (!h.ok() && h.status().code() == StatusCode::kFailedPrecondition) {
      return CorruptionError("snapshot " + id.str() + ": truncated: " + h.status().message());
    }
  }
  if (!h.ok()) return h.status();
  RETURN_IF_ERROR(CheckBlockSize(*h, config_));
  return h;
}

Result<Manifest> Repository::LoadManifest(const SnapshotId& id) {
  Result<Buffer> data = backend_->Get(SnapshotKey(id));
  if (!data.ok()) return SnapshotNotFound(data.status(), id, *backend_);
  ASSIGN_OR_RETURN(Manifest m, DecodeManifest(cipher_, id, *data));
  RETURN_IF_ERROR(CheckBlockSize(m.header, config_));
  return m;
}

Status Repository::SaveManifest(Manifest& manifest) {
  SnapshotHeader& h = manifest.header;
  if (h.block_size == 0) h.block_size = config_.block_size;
  if (h.block_size != config_.block_size) {
    return InvalidArgumentError(
        fmt::format("manifest block size {} differs from the repository's {}", h.block_size,
                    config_.block_size));
  }
  if (h.id.empty()) return InvalidArgumentError("manifest has no snapshot id");
  const uint64_t expected_blocks = (h.size + h.block_size - 1) / h.block_size;
  if (manifest.blocks.size() != expected_blocks) {
    return InvalidArgumentError(
        fmt::format("manifest of snapshot {} has {} blocks, its size {} needs {}", h.id.str(),
                    manifest.blocks.size(), h.size, expected_blocks));
  }
  Buffer data = EncodeManifest(cipher_, manifest);
  RETURN_IF_ERROR_CTX(backend_->Put(SnapshotKey(h.id), data), "saving snapshot " + h.id.str());
  return Status::OK();
}

Status Repository::DeleteSnapshot(const SnapshotId& id) {
  const std::string key = SnapshotKey(id);
  Result<storage::ObjectInfo> info = backend_->Stat(key);
  if (!info.ok()) return SnapshotNotFound(info.status(), id, *backend_);
  RETURN_IF_ERROR_CTX(backend_->Remove(key), "deleting snapshot " + id.str());
  return Status::OK();
}

Status Repository::SetRecycleDays(int days) {
  RETURN_IF_ERROR(ValidateRecycleDays(days));
  const std::string where = Describe();
  ASSIGN_OR_RETURN_CTX(Buffer data, backend_->Get(kConfigKey), "reading config of " + where);
  ASSIGN_OR_RETURN_CTX(RepoConfig stored, RepoConfig::FromJson(AsStringView(data)),
                       "repository at " + where);
  if (stored.id != config_.id || stored.block_size != config_.block_size ||
      stored.encrypted != config_.encrypted) {
    return FailedPreconditionError("the config of " + where +
                                   " changed since it was opened; nothing was changed");
  }
  stored.recycle_days = days;
  RETURN_IF_ERROR_CTX(backend_->Put(kConfigKey, AsBytes(stored.ToJson())),
                      "writing config to " + where);
  config_ = std::move(stored);
  return Status::OK();
}

}  // namespace cairn::repo
