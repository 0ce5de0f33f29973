#include "repo/index.h"

#include <fmt/format.h>

#include <mutex>
#include <set>

#include "core/log.h"
#include "repo/config.h"
#include "repo/parallel.h"

namespace cairn::repo {

namespace {

constexpr std::string_view kIndexMagic = "CAIRNIX1";

// Bounds-checked cursor over a decoded body.
class Reader {
 public:
  explicit Reader(ByteSpan b) : b_(b) {}
  size_t left() const { return b_.size() - pos_; }
  size_t pos() const { return pos_; }
  bool Has(uint64_t n) const { return n <= left(); }
  ByteSpan Take(size_t n) {  // REQUIRES: Has(n)
    ByteSpan s = b_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  uint32_t U32() { return GetU32LE(Take(4)); }
  uint64_t U64() { return GetU64LE(Take(8)); }

 private:
  ByteSpan b_;
  size_t pos_ = 0;
};

Status Truncated(const Reader& r, std::string_view what) {
  return CorruptionError(fmt::format("index body truncated at byte {} ({})", r.pos(), what));
}

Result<IndexObject> DecodeBody(ByteSpan body) {
  IndexObject obj;
  Reader r(body);
  if (!r.Has(4)) return Truncated(r, "supersedes count");
  const uint32_t n_sup = r.U32();
  if (!r.Has(uint64_t{n_sup} * 32)) return Truncated(r, "supersedes list");
  obj.supersedes.reserve(n_sup);
  for (uint32_t i = 0; i < n_sup; ++i) obj.supersedes.push_back(IndexId::FromBytes(r.Take(32)));
  if (!r.Has(4)) return Truncated(r, "pack count");
  const uint32_t n_packs = r.U32();
  if (!r.Has(uint64_t{n_packs} * (32 + 8 + 4))) return Truncated(r, "pack list");
  obj.packs.reserve(n_packs);
  for (uint32_t p = 0; p < n_packs; ++p) {
    if (!r.Has(32 + 8 + 4)) return Truncated(r, "pack record");
    IndexedPack pack;
    pack.id = PackId::FromBytes(r.Take(32));
    pack.size = r.U64();
    const uint32_t n_entries = r.U32();
    if (!r.Has(uint64_t{n_entries} * kPackEntrySize)) return Truncated(r, "pack entries");
    pack.entries.reserve(n_entries);
    for (uint32_t i = 0; i < n_entries; ++i) {
      PackEntry e = DecodePackEntry(r.Take(kPackEntrySize));
      if (e.offset > pack.size || e.length > pack.size - e.offset || e.raw_length > kMaxBlockSize) {
        return CorruptionError(fmt::format(
            "index entry for chunk {} (offset {} length {} raw length {}) does not fit pack {} "
            "of {} bytes",
            e.id.ShortHex(), e.offset, e.length, e.raw_length, pack.id.ShortHex(), pack.size));
      }
      pack.entries.push_back(e);
    }
    obj.packs.push_back(std::move(pack));
  }
  if (r.left() != 0) {
    return CorruptionError(fmt::format("index body has {} trailing bytes", r.left()));
  }
  return obj;
}

}  // namespace

Buffer EncodeIndexObject(const RepoCipher& cipher, const IndexObject& index) {
  size_t body_size = 4 + index.supersedes.size() * 32 + 4;
  for (const IndexedPack& p : index.packs) body_size += 44 + p.entries.size() * kPackEntrySize;
  Buffer body;
  body.reserve(body_size);
  PutU32LE(body, static_cast<uint32_t>(index.supersedes.size()));
  for (const IndexId& id : index.supersedes) Append(body, id.bytes);
  PutU32LE(body, static_cast<uint32_t>(index.packs.size()));
  for (const IndexedPack& p : index.packs) {
    Append(body, p.id.bytes);
    PutU64LE(body, p.size);
    PutU32LE(body, static_cast<uint32_t>(p.entries.size()));
    for (const PackEntry& e : p.entries) EncodePackEntry(e, body);
  }
  Buffer out;
  out.reserve(kIndexMagic.size() + body.size() + cipher.overhead());
  Append(out, AsBytes(kIndexMagic));
  cipher.SealTo(body, out);
  return out;
}

Result<IndexObject> DecodeIndexObject(const RepoCipher& cipher, const IndexId& id,
                                      ByteSpan object) {
  const std::string ctx = "index " + id.ShortHex();
  if (Sha256(object) != id.bytes) {
    return CorruptionError(ctx + ": content does not match its name (SHA-256 mismatch)");
  }
  if (object.size() < kIndexMagic.size() ||
      AsStringView(object.first(kIndexMagic.size())) != kIndexMagic) {
    return CorruptionError(ctx + ": bad magic (expected CAIRNIX1)");
  }
  ASSIGN_OR_RETURN_CTX(Buffer body, cipher.Open(object.subspan(kIndexMagic.size())), ctx);
  ASSIGN_OR_RETURN_CTX(IndexObject obj, DecodeBody(body), ctx);
  return obj;
}

void Index::AddPack(const IndexedPack& pack) {
  std::unique_lock lock(mu_);
  if (!packs_.try_emplace(pack.id, pack).second) return;
  chunks_.reserve(chunks_.size() + pack.entries.size());
  for (const PackEntry& e : pack.entries) {
    chunks_.try_emplace(e.id, ChunkLocation{pack.id, e.offset, e.length, e.raw_length});
  }
}

void Index::Clear() {
  std::unique_lock lock(mu_);
  chunks_.clear();
  packs_.clear();
}

void Index::Replace(Index&& fresh) {
  std::unique_lock lock(mu_);
  chunks_ = std::move(fresh.chunks_);
  packs_ = std::move(fresh.packs_);
}

std::optional<ChunkLocation> Index::Lookup(const ChunkId& id) const {
  std::shared_lock lock(mu_);
  auto it = chunks_.find(id);
  if (it == chunks_.end()) return std::nullopt;
  return it->second;
}

bool Index::Contains(const ChunkId& id) const {
  std::shared_lock lock(mu_);
  return chunks_.contains(id);
}

size_t Index::chunk_count() const {
  std::shared_lock lock(mu_);
  return chunks_.size();
}

size_t Index::pack_count() const {
  std::shared_lock lock(mu_);
  return packs_.size();
}

std::vector<IndexedPack> Index::Packs() const {
  std::shared_lock lock(mu_);
  std::vector<IndexedPack> out;
  out.reserve(packs_.size());
  for (const auto& [id, pack] : packs_) out.push_back(pack);
  return out;
}

std::optional<uint64_t> Index::PackSize(const PackId& pack) const {
  std::shared_lock lock(mu_);
  auto it = packs_.find(pack);
  if (it == packs_.end()) return std::nullopt;
  return it->second.size;
}

Result<LoadedIndex> LoadIndex(storage::Backend& backend, const RepoCipher& cipher, Index& index) {
  std::vector<IndexId> ids;
  RETURN_IF_ERROR_CTX(
      backend.List(kIndexPrefix,
                   [&](const storage::ObjectInfo& info) {
                     std::string_view name = info.key;
                     name.remove_prefix(kIndexPrefix.size());
                     Result<IndexId> id = IndexId::FromHex(name);
                     if (id.ok()) {
                       ids.push_back(*id);
                     } else {
                       LogWarning("ignoring " + info.key + ": not an index object name");
                     }
                     return Status::OK();
                   }),
      "listing index/ in " + backend.Describe());

  std::vector<std::optional<Result<IndexObject>>> read(ids.size());
  ParallelFor(ids.size(), kMetadataReadThreads, [&](size_t i) {
    Result<Buffer> data = backend.Get(IndexKey(ids[i]));
    if (!data.ok()) {
      read[i] = data.status().WithContext("reading " + IndexKey(ids[i]));
      return;
    }
    read[i] = DecodeIndexObject(cipher, ids[i], *data);
  });

  std::set<IndexId> superseded;
  for (const auto& r : read) {
    if (r->ok()) superseded.insert((*r)->supersedes.begin(), (*r)->supersedes.end());
  }
  LoadedIndex loaded;
  for (size_t i = 0; i < ids.size(); ++i) {
    Result<IndexObject>& r = *read[i];
    if (superseded.contains(ids[i])) {
      loaded.superseded.push_back(ids[i]);
    } else if (!r.ok()) {
      LogWarning("skipping damaged index object " + IndexKey(ids[i]) + ": " +
                 r.status().ToString());
      loaded.damaged.emplace_back(ids[i], r.status());
    } else {
      for (const IndexedPack& p : r->packs) index.AddPack(p);
      loaded.objects.push_back(ids[i]);
    }
    read[i].reset();  // free memory early
  }
  return loaded;
}

}  // namespace cairn::repo
