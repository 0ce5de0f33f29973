// RepoConfig: the `config` object (docs/format.md): parameters fixed at init.
#ifndef CAIRN_REPO_CONFIG_H_
#define CAIRN_REPO_CONFIG_H_

#include <cstdint>
#include <string>

#include "core/status.h"

namespace cairn::repo {

inline constexpr uint32_t kDefaultBlockSize = 512 * 1024;
inline constexpr uint32_t kMinBlockSize = 64 * 1024;
inline constexpr uint32_t kMaxBlockSize = 8 * 1024 * 1024;
inline constexpr uint64_t kDefaultPackSize = 16 * 1024 * 1024;

struct RepoConfig {
  int version = 1;
  std::string id;  // 32 hex
  std::string created;
  uint32_t block_size = kDefaultBlockSize;
  bool encrypted = true;
  uint64_t pack_size = kDefaultPackSize;

  std::string ToJson() const;
  // kCorruption for malformed JSON, kFailedPrecondition for an unknown
  // version ("repository format version 2 is newer than this cairn").
  static Result<RepoConfig> FromJson(std::string_view json);
};

// kInvalidArgument unless a power of two in [kMinBlockSize, kMaxBlockSize].
Status ValidateBlockSize(uint64_t block_size);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_CONFIG_H_
