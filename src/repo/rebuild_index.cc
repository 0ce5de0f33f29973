// RebuildIndex: one new index object from the packs' own headers.
#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "core/crypto.h"
#include "core/log.h"
#include "repo/check.h"
#include "repo/lock.h"
#include "repo/object_list.h"
#include "repo/pack.h"
#include "repo/parallel.h"

namespace cairn::repo {
namespace {

constexpr uint64_t kFirstTail = 64 * 1024;  // holds the header of ~1300 chunks

// The pack's entries, read from its tail (fetching more once if the header
// is longer than the first read).
Result<std::vector<PackEntry>> ReadPackEntries(storage::Backend& backend,
                                               const RepoCipher& cipher,
                                               const storage::ObjectInfo& info) {
  uint64_t want = std::min(info.size, kFirstTail);
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(Buffer tail, backend.GetRange(info.key, info.size - want, want));
    if (tail.size() != want) {
      return CorruptionError(fmt::format("read {} bytes at offset {}, expected {}: the pack "
                                         "is shorter than listed", tail.size(),
                                         info.size - want, want));
    }
    uint64_t needed = 0;
    Result<std::vector<PackEntry>> entries = ParsePackTail(cipher, tail, info.size, &needed);
    if (entries.ok() || entries.status().code() != StatusCode::kFailedPrecondition ||
        attempt > 0 || needed <= want || needed > info.size) {
      return entries;
    }
    want = needed;
  }
}

}  // namespace

Result<RebuildIndexResult> RebuildIndex(Repository& repo) {
  LockOptions lock_options;
  lock_options.exclusive = true;
  lock_options.operation = "repo rebuild-index";
  ASSIGN_OR_RETURN(std::unique_ptr<RepoLock> lock,
                   RepoLock::Acquire(repo.backend(), lock_options));
  storage::Backend& backend = repo.backend();

  // The old index, as far as it is readable: a fallback for packs whose
  // header is damaged.
  ASSIGN_OR_RETURN(LoadedIndex loaded, repo.LoadIndex());
  (void)loaded;
  ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> index_objects,
                   ListObjects(backend, kIndexPrefix));
  ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> listing, ListObjects(backend, kPacksPrefix));
  std::erase_if(listing, [](const auto& info) { return !ParsePackKey(info.key); });

  std::vector<std::optional<IndexedPack>> found(listing.size());
  std::vector<Status> why(listing.size());
  ParallelFor(listing.size(), kMetadataReadThreads, [&](size_t i) {
    Result<std::vector<PackEntry>> entries = ReadPackEntries(backend, repo.cipher(), listing[i]);
    if (entries.ok()) {
      found[i] = IndexedPack{*ParsePackKey(listing[i].key), listing[i].size, std::move(*entries)};
    } else {
      why[i] = entries.status();
    }
  });

  RebuildIndexResult result;
  IndexObject rebuilt;
  for (size_t i = 0; i < listing.size(); ++i) {
    const storage::ObjectInfo& info = listing[i];
    if (!found[i]) {
      // Transient errors must not silently drop a pack's chunks.
      if (why[i].code() != StatusCode::kCorruption) {
        return why[i].WithContext("rebuild-index: reading the header of " + info.key);
      }
      result.unreadable.push_back(info.key);
      PackId id = *ParsePackKey(info.key);
      bool kept = repo.index().PackSize(id) == info.size;
      LogWarning(fmt::format("{}: header unreadable ({}){}", info.key, why[i].message(),
                             kept ? "; keeping what the old index says about it" : ""));
      if (!kept) continue;
      for (const IndexedPack& p : repo.index().Packs()) {
        if (p.id == id) found[i] = p;
      }
      ++result.packs_kept_from_index;
    }
    result.chunks += found[i]->entries.size();
    rebuilt.packs.push_back(std::move(*found[i]));
  }
  result.packs = rebuilt.packs.size();
  for (const storage::ObjectInfo& info : index_objects) {
    Result<IndexId> id = IndexId::FromHex(info.key.substr(kIndexPrefix.size()));
    if (id.ok() && IndexKey(*id) == info.key) rebuilt.supersedes.push_back(*id);
  }

  Buffer encoded = EncodeIndexObject(repo.cipher(), rebuilt);
  const IndexId new_id = IndexId::FromBytes(Sha256(encoded));
  RETURN_IF_ERROR_CTX(lock->health(), "rebuild-index: lost the repository lock");
  RETURN_IF_ERROR_CTX(backend.Put(IndexKey(new_id), encoded), "rebuild-index: writing the index");
  for (const IndexId& old : rebuilt.supersedes) {
    if (old == new_id) continue;
    RETURN_IF_ERROR_CTX(backend.Remove(IndexKey(old)),
                        "rebuild-index: removing superseded " + IndexKey(old));
  }
  RETURN_IF_ERROR_CTX(repo.LoadIndex().status(), "rebuild-index done; reloading the index");
  return result;
}

}  // namespace cairn::repo
