// Hydrator: makes a volume fill itself from a BlockSource (a snapshot in a
// repository, handed in by service/) while it serves I/O — lazy hydration,
// EBS's "volume restored from a snapshot".
//
// It is the volume's BlockFiller (volume.h). Granularity: the source's
// BlockSize() (512 KiB for a repository snapshot). Per block:
//
//   not local ──read/copy-on-write: fetch, FillLocal──────────> local
//       │     ──background fill (offset order, at the rate)──> local
//       │     ──partial write: fetch, FillLocal, sync, mark durable──> local, durable
//       └─────full overwrite: mark durable, no fetch─────────> local, durable
//   local ──batch persist (every 64 MiB / 1 s, Stop): sync data, save marks──> durable
//
// The background claims runs of neighbouring blocks (up to batch_bytes)
// and reads each run with one BlockSource::ReadBlocks (one range request to
// a snapshot's pack, decoded straight into the data file: no cache, no
// copy); every block is released as soon as it is written.
//
// When every block is local, DIR/hydration records `done` (synced) and the
// Hydrator uninstalls itself (volume.SetFiller(nullptr)): from then on the
// volume's I/O and Extents() go straight to the data file, as for a volume
// reopened in that state (which needs no Hydrator). It also drops its
// source then.
//
// A background failure (a fetch or a save) stops the background and is
// what WaitDone() returns; Retry() starts it again where it stopped (the
// daemon retries with backoff: a transient fault such as S3 being down).
// Reads of blocks not yet local keep failing with the source's error
// meanwhile; local blocks and writes keep working.
//
// Bytes of the volume beyond the source's size read as zeros and are never
// fetched; holes of the source (DataExtents) are local from the start.
//
// DURABILITY INVARIANT: after a crash, a restart never refills a block over
// client data. Therefore
//   (a) before a client write (or trim, or zeroing) lands on a block, that
//       block's "local" mark is durable in DIR/hydration;
//   (b) a mark becomes durable only after the block's fill data is durable
//       (the data file is synced before the marks are saved).
// A block filled by a read or in the background whose mark was not yet
// saved is fetched again after a crash — the same bytes, so harmless. A full
// overwrite that was not flushed before a crash may read back as zeros (the
// volume's rule for unflushed writes: unspecified content).
//
// Concurrency: Prepare may be called from many threads for overlapping
// ranges. A block is fetched once (others wait for it, at worst for the
// background's run up to that block), under a per-block claim; the background checks the mark under that claim before filling, so
// it never overwrites a block a client wrote. A read racing a full overwrite
// of a block not yet local may see zeros (concurrent read and write of the
// same range have no defined result). On-demand fetches run in the caller's
// thread, so they never queue behind the background.
//
// Thread-safety: every method may be called from any thread. REQUIRES:
// Stop() (or Abandon()) before the volume is closed or destroyed; the
// destructor Abandon()s.
#ifndef CAIRN_VOLUME_HYDRATOR_H_
#define CAIRN_VOLUME_HYDRATOR_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "core/status.h"
#include "volume/block_device.h"
#include "volume/hydration_state.h"
#include "volume/qos.h"
#include "volume/volume.h"

namespace cairn::volume {

struct HydratorOptions {
  uint64_t rate_bytes_per_sec = 0;  // 0 = unlimited (--initialization-rate)
  // Parallel background fetches (>= 1). A fetch waits for its range about
  // as long as it decodes it: on 2 cores 4 threads left CPU idle (an 8 GiB
  // snapshot in bench/hydrate_bench.sh: 3.8-3.9 s), 8 kept both cores busy
  // (3.3-3.7 s).
  int threads = 8;
  // Nice value of the background threads (Linux: per thread), so on-demand
  // reads and client I/O, which run in their own threads, get the CPU
  // first. 0 leaves them as the daemon is.
  int background_nice = 5;
  // Most bytes one background fetch asks the source for at once (a run of
  // neighbouring blocks not yet local: one range request to a snapshot's
  // pack). A rate limit lowers it to a tenth of a second's worth.
  uint64_t batch_bytes = 8ull << 20;
  // Background marks are saved after this many bytes or this long.
  uint64_t persist_every_bytes = 64ull << 20;
  int64_t persist_every_nanos = 1'000'000'000;
  std::shared_ptr<Clock> clock;  // rate limiting and throughput; null: real time
};

class Hydrator : public BlockFiller {
 public:
  // Makes `volume` (created for this, or reopened after a restart) fill
  // itself from `source`: loads DIR/hydration (or creates it, marking the
  // source's holes and saving it before returning), installs itself with
  // volume.SetFiller() and starts the background threads. A state that is
  // already `done` installs nothing and starts nothing.
  // Errors: kInvalidArgument (volume smaller than the source, bad options),
  // kFailedPrecondition (DIR/hydration was made for another source size or
  // block size), kCorruption (damaged DIR/hydration), I/O.
  static Result<std::shared_ptr<Hydrator>> Start(Volume& volume,
                                                 std::shared_ptr<BlockSource> source,
                                                 const HydratorOptions& options);
  ~Hydrator() override;
  Hydrator(const Hydrator&) = delete;
  Hydrator& operator=(const Hydrator&) = delete;

  // BlockFiller: fetches what [offset, offset + length) needs now, in the
  // calling thread (ahead of the background). With `overwrite`, blocks the
  // range covers are marked without a fetch and every touched block's mark
  // is durable on return (invariant (a)). A failed fetch is returned (it
  // names the block, its offset and the source) and the block stays not
  // local.
  Status Prepare(uint64_t offset, uint64_t length, bool overwrite) override;

  struct Progress {
    uint64_t total_bytes = 0;  // source data to fetch when hydration began
    uint64_t done_bytes = 0;
    double bytes_per_sec = 0;  // fetched since Start, per second
    bool done = false;
    Status error;  // the first background failure; hydration stopped there
  };
  Progress progress() const;

  // Blocks until fully hydrated (OK) or failed (the error: block, offset,
  // source). After Stop()/Abandon() without completion: kAborted.
  Status WaitDone();
  // After a background failure: clears it and starts the background again
  // from the first block not local; WaitDone() then waits for the new run.
  // OK and nothing to do when done or not failed; kAborted after
  // Stop()/Abandon().
  Status Retry();
  // New background rate (0 = unlimited); takes effect at the next block.
  void SetRate(uint64_t bytes_per_sec);
  // Stops and joins the background threads, then syncs the data and saves
  // the marks. Prepare keeps working afterwards. Idempotent.
  Status Stop();
  // Stops and joins the threads without saving anything: what a crash
  // leaves behind (tests; and the destructor). Idempotent.
  void Abandon();

  // Whether DIR/hydration existed at Start (a resumed hydration), and the
  // bytes it recorded as done then (before any background fetch).
  bool resumed() const { return resumed_; }
  uint64_t done_at_start() const { return done_at_start_; }

  // Fetches from the source so far (on demand and background), for tests.
  uint64_t blocks_fetched() const { return fetched_blocks_.load(); }

 private:
  Hydrator(Volume& volume, std::shared_ptr<BlockSource> source, HydrationState state, bool resumed,
           const HydratorOptions& options);
  void Run();
  // Claims the next run of at most `max` neighbouring blocks that are not
  // local and not being fetched, for the background (offset order); false
  // when there is nothing left to claim or the threads are stopping.
  bool ClaimNext(uint64_t max, uint64_t& first, uint64_t& count);
  // Blocks the background fetches at once now (batch_bytes, or less under
  // a rate limit).
  uint64_t BatchBlocks();
  // Reads block `b` from the source and writes it into the data file.
  Status Fetch(uint64_t b);
  // Writes block `b`'s bytes from the source into the data file.
  Status Fill(uint64_t b, ByteSpan data);
  // Marks `b` local after a fill. REQUIRES: mu_ held.
  void MarkLocalLocked(uint64_t b);
  // Makes every mark set up to now durable (sync data first), unless a
  // save that began after `seq` finished already. Saves `done` when all
  // blocks are local.
  Status Persist(uint64_t seq);
  void Throttle(uint64_t bytes);
  void Finish(const Status& error);  // records done or the first failure
  void StopThreads();

  Volume& volume_;
  // Dropped when done (by Persist); read only by Fetch, which never runs
  // then (every block is local).
  std::shared_ptr<BlockSource> source_;
  const std::string source_name_;  // source_->Describe()
  const HydratorOptions options_;
  const std::shared_ptr<Clock> clock_;
  const std::string path_;
  const uint64_t block_count_;
  const int64_t started_nanos_;
  const bool resumed_;
  uint64_t done_at_start_ = 0;  // set by the constructor

  mutable std::mutex mu_;
  std::condition_variable cv_;
  HydrationState state_;           // guarded by mu_: local marks in memory
  std::vector<uint64_t> durable_;  // guarded by mu_: marks saved on disk
  std::set<uint64_t> busy_;        // guarded by mu_: blocks being fetched
  uint64_t missing_bytes_ = 0;     // guarded by mu_
  uint64_t cursor_ = 0;            // guarded by mu_: next background block
  uint64_t mark_seq_ = 0;          // guarded by mu_: bumped by every mark
  uint64_t durable_seq_ = 0;       // guarded by mu_
  bool stop_ = false;              // guarded by mu_
  bool stopped_ = false;           // guarded by mu_: Stop/Abandon ran
  Status error_;                   // guarded by mu_
  std::atomic<bool> done_{false};

  std::mutex persist_mu_;  // one save at a time (taken before mu_)
  std::mutex rate_mu_;
  std::unique_ptr<TokenBucket> bucket_;  // guarded by rate_mu_; null = unlimited
  uint64_t rate_ = 0;                    // guarded by rate_mu_; 0 = unlimited
  std::atomic<uint64_t> rate_gen_{0};    // bumped by SetRate

  std::atomic<uint64_t> fetched_bytes_{0};
  std::atomic<uint64_t> fetched_blocks_{0};
  std::atomic<uint64_t> unsaved_bytes_{0};
  std::atomic<int64_t> last_save_nanos_{0};

  std::mutex threads_mu_;
  std::vector<std::thread> threads_;  // guarded by threads_mu_
};

}  // namespace cairn::volume

#endif  // CAIRN_VOLUME_HYDRATOR_H_
