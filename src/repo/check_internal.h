// Pieces of CheckRepository shared between check.cc, check_meta.cc and
// check_data.cc. Internal to repo/.
#ifndef CAIRN_REPO_CHECK_INTERNAL_H_
#define CAIRN_REPO_CHECK_INTERNAL_H_

#include <mutex>
#include <set>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "repo/check.h"
#include "repo/index.h"
#include "repo/repository.h"

namespace cairn::repo {

// Collects findings; thread-safe.
class FindingSink {
 public:
  explicit FindingSink(CheckReport& report) : report_(report) {}
  void Error(std::string object, std::string message) {
    Add(CheckFinding::Severity::kError, std::move(object), std::move(message));
  }
  void Warning(std::string object, std::string message) {
    Add(CheckFinding::Severity::kWarning, std::move(object), std::move(message));
  }

 private:
  void Add(CheckFinding::Severity severity, std::string object, std::string message) {
    std::lock_guard lock(mu_);
    report_.findings.push_back({severity, std::move(object), std::move(message)});
  }
  std::mutex mu_;
  CheckReport& report_;  // findings guarded by mu_
};

// Places a restore would read that are damaged: packs that are missing, and
// blobs (pack, offset) cut off by truncation or failing verification.
struct DataDamage {
  std::unordered_set<PackId, DigestIdHash> missing_packs;
  std::set<std::pair<PackId, uint64_t>> bad_blobs;
  bool Affects(const ChunkLocation& loc) const {
    return missing_packs.contains(loc.pack) || bad_blobs.contains({loc.pack, loc.offset});
  }
  bool empty() const { return missing_packs.empty() && bad_blobs.empty(); }
};

// `config` parses and is valid; every key file parses (encrypted repos).
void CheckConfigAndKeys(Repository& repo, FindingSink& sink);

struct DataCounters {
  uint64_t packs_read = 0;
  uint64_t chunks_verified = 0;
  uint64_t bytes_read = 0;
};
// The packs read_data reads: all of `packs` for share >= 1, else a share
// chosen by SHA-256(seed | pack id) order (at least one pack).
std::vector<IndexedPack> ChooseDataPacks(std::vector<IndexedPack> packs, double share,
                                         uint64_t seed);
// Reads `packs` in parallel: rehash, header vs index, every chunk decoded.
// Adds findings and damaged blobs.
DataCounters ReadPackData(Repository& repo, const std::vector<IndexedPack>& packs,
                          const CheckOptions& options, FindingSink& sink,
                          DataDamage& damage);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_CHECK_INTERNAL_H_
