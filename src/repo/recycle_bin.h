// Recycle bin (docs/format.md "deleted/<snap-id>"): `snapshot delete` moves a
// snapshot's manifest, verbatim, into a `deleted/` object that also records
// when it was deleted and until when it can be undeleted. Until then gc keeps
// its data and check verifies it; restore, copy and list see only
// `snapshots/`. After it, gc removes the deleted object and (in the same run)
// the data only it referenced.
//
// Crash safety: the deleted object is written before the manifest is removed
// (and undelete writes the manifest before removing the deleted object), so a
// crash in between leaves both; readers then prefer the live manifest.
//
// Locks: moving into the bin takes none (like a plain delete; gc lists
// `snapshots/` before `deleted/`, so it sees a moving snapshot in one of the
// two). Undelete takes a shared lock, because it makes chunks referenced
// again and must not race gc.
//
// Thread-safety: free functions over a Repository; as Repository.
#ifndef CAIRN_REPO_RECYCLE_BIN_H_
#define CAIRN_REPO_RECYCLE_BIN_H_

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "repo/cipher.h"
#include "repo/manifest.h"
#include "repo/repository.h"

namespace cairn::repo {

using TimePoint = std::chrono::system_clock::time_point;

// The sealed record at the start of a deleted object.
struct BinRecord {
  SnapshotId id;
  std::string deleted;  // RFC 3339 UTC, when it went into the bin
  std::string expires;  // RFC 3339 UTC: deleted + the period then in force
  std::string host;     // who deleted it
  // True once `now` reached `expires`. DecodeBinPrefix refuses a record
  // whose times do not parse, so this never sees one.
  bool Expired(TimePoint now) const;
};

struct BinEntry {
  BinRecord record;
  SnapshotHeader header;  // of the manifest inside
};

// "CAIRNDL1" | record_len (u32) | Seal(record JSON) | manifest object.
Buffer EncodeBinObject(const RepoCipher& cipher, const BinRecord& record, ByteSpan manifest_object);
struct DecodedBinPrefix {
  BinRecord record;
  size_t manifest_offset = 0;  // where the manifest object starts
};
// Decodes the record from the first bytes of a deleted object named
// `expected_id`. kFailedPrecondition if `prefix` ends before the record does;
// kCorruption naming the check otherwise.
Result<DecodedBinPrefix> DecodeBinPrefix(const RepoCipher& cipher, const SnapshotId& expected_id,
                                         ByteSpan prefix);

// Moves live snapshot `id` into the bin for repo.config().recycle_days
// (REQUIRES > 0) counted from `now`: reads and verifies snapshots/<id>
// (kCorruption if it cannot be decoded: delete it with --skip-recycle-bin),
// writes deleted/<id>, removes snapshots/<id>. kNotFound if not live.
Result<BinEntry> MoveToRecycleBin(Repository& repo, const SnapshotId& id, TimePoint now);

// What `snapshot delete`, `forget` and retention policies do with live
// snapshot `id`: MoveToRecycleBin, unless the period is 0 or `skip_bin`,
// then Repository::DeleteSnapshot (for good). Returns the bin record, or
// nullopt when it was removed for good. kNotFound if it is not live.
Result<std::optional<BinRecord>> RemoveSnapshot(Repository& repo, const SnapshotId& id,
                                                bool skip_bin, TimePoint now);

// Record and header of deleted/<id>. kNotFound if it is not in the bin.
Result<BinEntry> LoadBinEntry(Repository& repo, const SnapshotId& id);

// The whole manifest in deleted/<id> (for gc and check), with its record.
Result<std::pair<BinRecord, Manifest>> LoadBinnedManifest(Repository& repo, const SnapshotId& id);

// Every snapshot in the bin, expired ones included, sorted by deletion time
// then id. Ids that are also live (a crash between the two steps) are left
// out. Objects that cannot be read are in `damaged`.
struct BinList {
  std::vector<BinEntry> entries;
  std::vector<std::pair<std::string, Status>> damaged;  // key, why
};
Result<BinList> ListRecycleBin(Repository& repo);

// Brings snapshot `id` back under snapshots/ (byte for byte as it was) and
// removes deleted/<id>, under a shared lock. kNotFound naming the id if it is
// not in the bin, or if it expired ("expired on …; `repo gc` removes it").
// A snapshot that is live already only loses its stale bin copy.
Result<SnapshotHeader> UndeleteSnapshot(Repository& repo, const SnapshotId& id, TimePoint now);

// Removes deleted/<id> for good (its data goes at the next gc). kNotFound if
// it is not in the bin.
Status PurgeFromRecycleBin(Repository& repo, const SnapshotId& id);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_RECYCLE_BIN_H_
