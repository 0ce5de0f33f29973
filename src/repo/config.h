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
// Recycle bin retention period (days) of a new repository, and of a config
// written before the field existed; 0 turns the bin off.
inline constexpr int kDefaultRecycleDays = 7;
inline constexpr int kMaxRecycleDays = 36500;

struct RepoConfig {
  int version = 1;
  std::string id;  // 32 hex
  std::string created;
  uint32_t block_size = kDefaultBlockSize;
  bool encrypted = true;
  uint64_t pack_size = kDefaultPackSize;
  // How long `snapshot delete` keeps a snapshot in the recycle bin; the one
  // field that may change after init (`repo set --recycle-days`).
  int recycle_days = kDefaultRecycleDays;

  std::string ToJson() const;
  // kCorruption for malformed JSON, kFailedPrecondition for an unknown
  // version ("repository format version 2 is newer than this cairn").
  static Result<RepoConfig> FromJson(std::string_view json);
};

// kInvalidArgument unless a power of two in [kMinBlockSize, kMaxBlockSize].
Status ValidateBlockSize(uint64_t block_size);
// kInvalidArgument unless 0 ≤ days ≤ kMaxRecycleDays.
Status ValidateRecycleDays(int64_t days);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_CONFIG_H_
