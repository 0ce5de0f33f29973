// Snapshot manifests (docs/format.md "snapshots"): the header (metadata) and
// the block map. A snapshot exists once its manifest exists.
#ifndef CAIRN_REPO_MANIFEST_H_
#define CAIRN_REPO_MANIFEST_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "repo/cipher.h"
#include "repo/ids.h"

namespace cairn::repo {

struct SnapshotStats {
  uint64_t bytes_read = 0;    // bytes of the source read
  uint64_t bytes_new = 0;     // plaintext bytes of chunks new to the repo
  uint64_t bytes_stored = 0;  // blob bytes written (compressed, sealed)
  uint64_t chunks_new = 0;
  double seconds = 0;
};

struct SnapshotHeader {
  SnapshotId id;
  std::string state = "completed";
  std::string source;
  std::string host;
  uint64_t size = 0;
  uint32_t block_size = 0;
  uint64_t block_count = 0;
  std::string created;    // RFC 3339 UTC
  std::string completed;  // RFC 3339 UTC
  std::string description;
  std::map<std::string, std::string> tags;
  std::optional<SnapshotId> parent;
  SnapshotStats stats;
  std::string map_sha256;  // filled by EncodeManifest
  uint64_t map_length = 0; // bytes of the map blob; filled by EncodeManifest
};

struct Manifest {
  SnapshotHeader header;
  // One id per block; a zero ChunkId marks an all-zero block (not stored).
  std::vector<ChunkId> blocks;
};

// Builds the manifest object. Fills header.map_sha256, map_length and
// block_count.
Buffer EncodeManifest(const RepoCipher& cipher, Manifest& manifest);

// Decodes a whole manifest object named `expected_id`, verifying magic,
// authentication, the id, the map length and its checksum. kCorruption with
// the snapshot id otherwise.
Result<Manifest> DecodeManifest(const RepoCipher& cipher,
                                const SnapshotId& expected_id, ByteSpan object);

// Decodes only the header from the first bytes of a manifest object (for
// listing without reading maps). `prefix` must hold at least the header;
// 64 KiB always suffices for headers cairn writes. kFailedPrecondition if
// `prefix` is too short (then read the whole object).
Result<SnapshotHeader> DecodeManifestHeader(const RepoCipher& cipher,
                                            const SnapshotId& expected_id,
                                            ByteSpan prefix);

std::string HeaderToJson(const SnapshotHeader& h);  // as stored (pretty=false)

}  // namespace cairn::repo

#endif  // CAIRN_REPO_MANIFEST_H_
