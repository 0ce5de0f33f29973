// Restore: writes a snapshot's bytes to a file or block device, and
// SnapshotReader, which reads any block of a snapshot verified.
#ifndef CAIRN_REPO_RESTORE_H_
#define CAIRN_REPO_RESTORE_H_

#include <functional>
#include <stop_token>
#include <string>

#include "core/progress.h"
#include "core/status.h"
#include "repo/manifest.h"
#include "repo/repository.h"

namespace cairn::repo {

// Reads blocks of one snapshot. Thread-safe (ReadBlock may run concurrently).
class SnapshotReader {
 public:
  // REQUIRES: repo.LoadIndex() done; `repo` outlives the reader.
  SnapshotReader(Repository& repo, Manifest manifest);
  const Manifest& manifest() const { return manifest_; }
  // The plaintext of block `index` (zeros for a zero block; the last block
  // may be short). kCorruption names snapshot, block, byte offset, pack;
  // kNotFound if the index has no entry for the chunk.
  Result<Buffer> ReadBlock(uint64_t index);
  // Hands the plaintext of each of the blocks [first, first + count) to
  // `sink` once: zero blocks first, then in the order the chunks lie in
  // their packs, fetching them as restore does (one GetRange per run of
  // nearby chunks of one pack: gaps up to kMaxGap, up to kMaxRange) and
  // decoding a chunk shared by several blocks once. Stops at the first
  // error (named as ReadBlock names it) or the first error of `sink`, and
  // returns it. REQUIRES: first + count <= the snapshot's block count.
  using BlockSink = std::function<Status(uint64_t block, ByteSpan data)>;
  Status ReadBlocks(uint64_t first, uint64_t count, const BlockSink& sink);

 private:
  Repository& repo_;
  Manifest manifest_;
};

struct RestoreOptions {
  bool force = false;     // allow a non-empty target
  size_t threads = 0;     // decoding threads; 0 = cores
  size_t readers = 0;     // pack ranges fetched at once; 0 = 2 (a local disk)
  Progress* progress = nullptr;
  std::stop_token stop;
};

struct RestoreResult {
  uint64_t bytes_written = 0;  // data bytes written (holes not counted)
  uint64_t blocks_restored = 0;
  double seconds = 0;
};

// Restores `id` to `target` (created sparse if missing). Refuses
// (kFailedPrecondition) a block device smaller than the snapshot, and a
// non-empty existing target unless options.force. Every chunk is verified;
// damage is kCorruption naming snapshot, block index and byte offset.
Result<RestoreResult> RestoreSnapshot(Repository& repo, const SnapshotId& id,
                                      const std::string& target,
                                      const RestoreOptions& options);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_RESTORE_H_
