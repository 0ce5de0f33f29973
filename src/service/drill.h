// Drill: `cairn drill SNAP` — the seed's recovery procedure run for real in
// a throw-away place, to prove that a snapshot restores:
//
//   create   a volume in a temporary data directory, hydrating lazily from
//            the snapshot (volume::Hydrator over a verified SnapshotSource);
//            usable = it accepts I/O            → time_until_usable
//   first    the first 4 KiB read back          → time_to_first_byte
//   (a partitioned disk: its one ext partition, or DrillOptions::partition)
//   fsck     e2fsck -fn through a private read-only NBD export and nbdfuse
//            (device_fsck.h) while hydration goes on behind
//   export   every file of its ext2/3/4 filesystem into a tar.gz
//            (fs::ExportTree + ArchiveWriter), or --export FILE
//   hydrate  wait until every block is local   → time_to_full_hydration
//   verify   every block of the volume re-read, hashed with the repository's
//            id key and compared with the manifest's chunk id (all-zero
//            blocks with the zero id)
//   cleanup  the volume and the work directory removed (unless keep)
//
// Every step runs even after an earlier one failed (except when the volume
// cannot be made), so the report is complete; passed is true only if every
// step succeeded and fsck was clean. A damaged pack shows as kCorruption in
// `hydrate` and `verify`, naming the snapshot, the block, its offset and the
// pack (repo::SnapshotSource's message).
//
// All times are seconds from the start of the drill (steady clock).
// Nothing here needs a running daemon; the repository must be open with its
// index loadable. Thread-safety: one drill per call; it starts and joins its
// own threads (hydration, NBD server).
#ifndef CAIRN_SERVICE_DRILL_H_
#define CAIRN_SERVICE_DRILL_H_

#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "core/progress.h"
#include "core/status.h"
#include "fs/fsck.h"
#include "repo/ids.h"
#include "repo/repository.h"

namespace cairn::service {

struct DrillOptions {
  // Where the temporary data directory is made ("" = the system temp dir).
  std::string work_parent;
  // The archive of the files; "" = WORKDIR/files.tar.gz (removed with it
  // unless keep).
  std::string export_path;
  // The partition whose filesystem is checked and exported: 0 = the whole
  // disk, or its only ext partition (fs/filesystem_device.h).
  int partition = 0;
  bool keep = false;             // keep the volume and work directory
  size_t fetch_threads = 4;      // parallel background fetches
  Progress* progress = nullptr;  // optional: Add() per byte verified
  std::stop_token stop;          // stops between steps (kCancelled)
};

struct DrillStep {
  std::string name;    // create, first_byte, fsck, export, hydrate, verify, cleanup
  Status status;       // OK, or what failed
  double seconds = 0;  // how long the step took
};

struct DrillReport {
  repo::SnapshotId snapshot;
  uint64_t size = 0;
  uint32_t block_size = 0;
  std::string work_dir;  // kept only with keep
  std::string volume_dir;
  int partition = 0;  // the partition checked and exported; 0 = the whole disk
  std::vector<DrillStep> steps;

  std::optional<double> time_to_first_byte;
  std::optional<double> time_until_usable;
  std::optional<double> time_to_full_hydration;
  uint64_t bytes_hydrated = 0;
  std::optional<fs::FsckVerdict> fsck;
  // The export.
  std::string archive;
  uint64_t archive_bytes = 0;
  uint64_t files = 0;
  uint64_t directories = 0;
  uint64_t symlinks = 0;
  uint64_t file_bytes = 0;
  // The verification.
  uint64_t blocks_total = 0;
  uint64_t blocks_verified = 0;  // data blocks whose chunk id matched
  uint64_t blocks_zero = 0;      // all-zero blocks (matched the zero id)
  uint64_t blocks_failed = 0;

  double seconds = 0;
  bool passed = false;
  // OK when passed; else the first step that failed with kCorruption, else
  // the first failed step, else fsck's verdict (kCorruption).
  Status first_failure() const;
};

// Runs the drill of `id` from `repo`. Errors (rather than a failed report)
// only when nothing could be tried: unknown snapshot (kNotFound), no work
// directory, a lock conflict.
Result<DrillReport> RunDrill(repo::Repository& repo, const repo::SnapshotId& id,
                             const DrillOptions& options);

}  // namespace cairn::service

#endif  // CAIRN_SERVICE_DRILL_H_
