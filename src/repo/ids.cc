#include "repo/ids.h"

#include "core/encoding.h"

namespace cairn::repo {

template <typename Tag>
std::string DigestId<Tag>::Hex() const {
  return HexEncode(bytes);
}

template <typename Tag>
Result<DigestId<Tag>> DigestId<Tag>::FromHex(std::string_view hex) {
  if (hex.size() != 64) {
    return InvalidArgumentError("'" + std::string(hex) + "' is not a 64-digit hex id");
  }
  ASSIGN_OR_RETURN(Buffer b, HexDecode(hex));
  return FromBytes(b);
}

template struct DigestId<ChunkTag>;
template struct DigestId<PackTag>;
template struct DigestId<IndexTag>;

SnapshotId SnapshotId::Generate() {
  std::array<std::byte, 9> r;
  RandomBytes(r);
  return SnapshotId("snap-" + HexEncode(r).substr(0, 17));
}

Result<SnapshotId> SnapshotId::Parse(std::string_view text) {
  auto bad = [&] {
    return InvalidArgumentError("'" + std::string(text) +
                                "' is not a snapshot id (expected snap- and 17 hex digits)");
  };
  if (text.size() != 22 || text.substr(0, 5) != "snap-") return bad();
  for (char c : text.substr(5)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return bad();
  }
  return SnapshotId(std::string(text));
}

std::string PackKey(const PackId& id) {
  std::string h = id.Hex();
  return std::string(kPacksPrefix) + h.substr(0, 2) + "/" + h;
}
std::string IndexKey(const IndexId& id) { return std::string(kIndexPrefix) + id.Hex(); }
std::string SnapshotKey(const SnapshotId& id) { return std::string(kSnapshotsPrefix) + id.str(); }
std::string DeletedKey(const SnapshotId& id) { return std::string(kDeletedPrefix) + id.str(); }

}  // namespace cairn::repo
