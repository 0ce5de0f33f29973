// Index: chunk id → (pack, offset, length), the union of the repository's
// index objects (docs/format.md "index").
//
// Thread-safety: Lookup/Contains/ForEach may run concurrently with each
// other and with Add (a shared mutex guards the maps).
#ifndef CAIRN_REPO_INDEX_H_
#define CAIRN_REPO_INDEX_H_

#include <functional>
#include <optional>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "repo/cipher.h"
#include "repo/ids.h"
#include "repo/pack.h"
#include "storage/backend.h"

namespace cairn::repo {

struct ChunkLocation {
  PackId pack;
  uint64_t offset = 0;
  uint32_t length = 0;
  uint32_t raw_length = 0;
};

// What one index object says about one pack.
struct IndexedPack {
  PackId id;
  uint64_t size = 0;
  std::vector<PackEntry> entries;
};

struct IndexObject {
  std::vector<IndexId> supersedes;
  std::vector<IndexedPack> packs;
};

Buffer EncodeIndexObject(const RepoCipher& cipher, const IndexObject& index);
// `id` is the object's name: its SHA-256 is checked first (kCorruption
// "index … content does not match its name").
Result<IndexObject> DecodeIndexObject(const RepoCipher& cipher,
                                      const IndexId& id, ByteSpan object);

class Index {
 public:
  // Adds a pack and its chunks. A chunk already indexed keeps its first
  // location (any is valid); a pack already named keeps its first entry list.
  void AddPack(const IndexedPack& pack);
  // Forgets everything.
  void Clear();
  // Takes `fresh`'s content in one step (a reload): concurrent lookups see
  // the old content or the new one, never an empty index. `fresh` must not
  // be in use by other threads.
  void Replace(Index&& fresh);
  std::optional<ChunkLocation> Lookup(const ChunkId& id) const;
  bool Contains(const ChunkId& id) const;
  size_t chunk_count() const;
  size_t pack_count() const;
  // Every pack the index names, with its size and entries.
  std::vector<IndexedPack> Packs() const;
  // Size the index says `pack` has; nullopt if the index does not name it.
  std::optional<uint64_t> PackSize(const PackId& pack) const;

 private:
  mutable std::shared_mutex mu_;
  std::unordered_map<ChunkId, ChunkLocation, DigestIdHash> chunks_;
  std::unordered_map<PackId, IndexedPack, DigestIdHash> packs_;
};

struct LoadedIndex {
  std::vector<IndexId> objects;  // live index objects read (not superseded)
  std::vector<IndexId> superseded;  // superseded ones still present
  // Index objects that could not be read or decoded, with why. Loading goes
  // on without them; `repo check` reports them as errors.
  std::vector<std::pair<IndexId, Status>> damaged;
};

// Reads every index object of the repository into `index` (in parallel).
Result<LoadedIndex> LoadIndex(storage::Backend& backend,
                              const RepoCipher& cipher, Index& index);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_INDEX_H_
