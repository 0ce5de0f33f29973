// Identifiers of the repository format (docs/format.md): chunk and pack ids
// (32-byte digests) and snapshot ids ("snap-" + 17 hex digits). Distinct
// types so a pack id can never be passed where a chunk id is meant.
#ifndef CAIRN_REPO_IDS_H_
#define CAIRN_REPO_IDS_H_

#include <compare>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>

#include "core/crypto.h"
#include "core/status.h"

namespace cairn::repo {

template <typename Tag>
struct DigestId {
  Digest bytes{};  // all zero = "none" (e.g. a zero block in a map)

  bool IsZero() const {
    for (std::byte b : bytes) if (b != std::byte{0}) return false;
    return true;
  }
  std::string Hex() const;
  std::string ShortHex() const { return Hex().substr(0, 12); }
  static Result<DigestId> FromHex(std::string_view hex);
  static DigestId FromBytes(ByteSpan b) {  // REQUIRES: b.size() == 32
    DigestId id;
    std::memcpy(id.bytes.data(), b.data(), id.bytes.size());
    return id;
  }
  friend bool operator==(const DigestId&, const DigestId&) = default;
  friend auto operator<=>(const DigestId& a, const DigestId& b) {
    return std::memcmp(a.bytes.data(), b.bytes.data(), 32) <=> 0;
  }
};

struct ChunkTag {};
struct PackTag {};
struct IndexTag {};
using ChunkId = DigestId<ChunkTag>;
using PackId = DigestId<PackTag>;
using IndexId = DigestId<IndexTag>;

struct DigestIdHash {
  template <typename Tag>
  size_t operator()(const DigestId<Tag>& id) const {
    size_t h;
    std::memcpy(&h, id.bytes.data(), sizeof h);  // ids are uniform already
    return h;
  }
};

// "snap-" followed by 17 lower-case hex digits.
class SnapshotId {
 public:
  SnapshotId() = default;
  static SnapshotId Generate();
  // kInvalidArgument naming the text if it is not a well-formed id.
  static Result<SnapshotId> Parse(std::string_view text);
  const std::string& str() const { return value_; }
  bool empty() const { return value_.empty(); }
  friend bool operator==(const SnapshotId&, const SnapshotId&) = default;
  friend auto operator<=>(const SnapshotId&, const SnapshotId&) = default;

 private:
  explicit SnapshotId(std::string v) : value_(std::move(v)) {}
  std::string value_;
};

// Object keys (docs/format.md).
std::string PackKey(const PackId& id);    // "packs/3f/3f2a…"
std::string IndexKey(const IndexId& id);  // "index/…"
std::string SnapshotKey(const SnapshotId& id);  // "snapshots/snap-…"
std::string DeletedKey(const SnapshotId& id);   // "deleted/snap-…" (recycle bin)
inline constexpr std::string_view kConfigKey = "config";
inline constexpr std::string_view kPacksPrefix = "packs/";
inline constexpr std::string_view kIndexPrefix = "index/";
inline constexpr std::string_view kSnapshotsPrefix = "snapshots/";
inline constexpr std::string_view kDeletedPrefix = "deleted/";
inline constexpr std::string_view kKeysPrefix = "keys/";
inline constexpr std::string_view kLocksPrefix = "locks/";

}  // namespace cairn::repo

#endif  // CAIRN_REPO_IDS_H_
