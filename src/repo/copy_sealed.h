// TransferSealedChunks (internal to copy.cc): the fast path of a snapshot
// copy between repositories that share chunk ids (SharesChunkIds).
//
//   plan ──range jobs──▶ N fetchers ──re-sealed blobs──▶ PackUploader
//
// The plan lists the snapshot's distinct chunks that the destination's index
// lacks, located in the source's index and grouped into ranged GETs
// (BuildRestorePlan). A fetcher reads one range, opens each blob with the
// source key (authenticating it; the flag byte and, for raw chunks, the
// length are checked too), seals the same plaintext with the destination
// key and hands it to the uploader. Nothing is decompressed or re-hashed.
//
// Writes packs only; the caller commits them (CommitPacks) and then the
// manifest. Errors: kCorruption naming the snapshot, block, pack and offset
// for a blob that does not open, or a chunk the source's index lacks.
//
// Thread-safety: call from one thread; the threads it starts are joined
// before it returns.
#ifndef CAIRN_REPO_COPY_SEALED_H_
#define CAIRN_REPO_COPY_SEALED_H_

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "repo/copy.h"
#include "repo/index.h"
#include "repo/manifest.h"
#include "repo/repository.h"

namespace cairn::repo {

struct SealedTransfer {
  std::vector<IndexedPack> packs;  // written, not yet indexed
  uint64_t chunks_sent = 0;
  uint64_t chunks_present = 0;  // distinct non-zero chunks `to` already had
  uint64_t bytes_sent = 0;      // pack bytes Put
};

// REQUIRES: both indexes loaded; SharesChunkIds(from, to); `manifest` read
// from `from`.
Result<SealedTransfer> TransferSealedChunks(Repository& from, Repository& to,
                                            const Manifest& manifest, const CopyOptions& options);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_COPY_SEALED_H_
