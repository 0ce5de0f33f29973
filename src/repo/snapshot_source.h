// SnapshotSource: a Source that reads a snapshot stored in a repository, so
// anything that consumes a Source (a backup into another repository, a
// volume hydrating from a snapshot, a restore drill) can read a snapshot
// like a device.
//
// Every byte is verified (SnapshotReader: ciphertext authenticated, chunk id
// recomputed); damage is kCorruption naming the snapshot, the block, its byte
// offset and the pack. All-zero blocks are holes: DataExtents() omits them
// and reading them fetches nothing.
//
// Decoded blocks are kept in a small LRU cache, so reads smaller than the
// snapshot's block size (a consumer with a smaller block size) fetch and
// decode each chunk once; concurrent reads of the same block share one
// fetch. With `readahead` > 0, a read of block b also starts fetching the
// next `readahead` data blocks on `fetch_threads` background threads, so a
// sequential reader over object storage keeps several requests in flight.
//
// Thread-safety: ReadAt and DataExtents may be called from many threads at
// once. The repository (and its loaded index) must outlive the source; the
// destructor stops and joins the read-ahead threads.
#ifndef CAIRN_REPO_SNAPSHOT_SOURCE_H_
#define CAIRN_REPO_SNAPSHOT_SOURCE_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "repo/manifest.h"
#include "repo/repository.h"
#include "repo/restore.h"
#include "repo/source.h"

namespace cairn::repo {

struct SnapshotSourceOptions {
  size_t cache_blocks = 8;   // decoded blocks kept; raised to readahead + 4
  size_t readahead = 0;      // data blocks fetched ahead of the last read
  size_t fetch_threads = 4;  // read-ahead threads (when readahead > 0)
};

class SnapshotSource : public Source {
 public:
  // Loads the manifest of `id` from `repo`. REQUIRES: repo.LoadIndex() done.
  // kNotFound "snapshot … not found in …", kCorruption for a damaged manifest.
  static Result<std::unique_ptr<SnapshotSource>> Open(Repository& repo, const SnapshotId& id,
                                                      const SnapshotSourceOptions& options = {});
  // From a manifest already loaded from `repo`.
  SnapshotSource(Repository& repo, Manifest manifest, const SnapshotSourceOptions& options = {});
  ~SnapshotSource() override;
  SnapshotSource(const SnapshotSource&) = delete;
  SnapshotSource& operator=(const SnapshotSource&) = delete;

  uint64_t size() const override { return manifest().header.size; }
  // The source name the snapshot recorded ("/dev/sdb"), so a copy keeps it.
  std::string name() const override { return manifest().header.source; }
  // REQUIRES offset + out.size() <= size().
  Status ReadAt(uint64_t offset, MutableByteSpan out) override;
  // One extent per run of non-zero blocks, sorted.
  Result<std::vector<Extent>> DataExtents() override;

  // Bulk read of whole blocks, one request per run of neighbouring chunks
  // (SnapshotReader::ReadBlocks); bypasses the cache and the read-ahead.
  // Data blocks handed over count in blocks_fetched().
  Status ReadBlocks(uint64_t first, uint64_t count, const SnapshotReader::BlockSink& sink);

  const Manifest& manifest() const { return reader_.manifest(); }
  const SnapshotHeader& header() const { return manifest().header; }
  // Data blocks fetched and decoded so far (cache misses and bulk reads),
  // for tests and stats.
  uint64_t blocks_fetched() const;

 private:
  using Block = std::shared_ptr<const Buffer>;
  using Pending = std::shared_future<Result<Block>>;
  struct Entry {
    Pending value;
    std::list<uint64_t>::iterator lru;
  };
  struct Job {  // a read-ahead fetch
    uint64_t block = 0;
    std::unique_ptr<std::promise<Result<Block>>> promise;
  };

  // The decoded block `index` (REQUIRES: a non-zero block), from the cache,
  // a fetch in flight, or fetched now by the calling thread.
  Result<Block> GetBlock(uint64_t index);
  // Under mu_: the entry for `index`, creating it (and returning the promise
  // to fulfil) if absent.
  Pending FindOrStart(uint64_t index, std::unique_ptr<std::promise<Result<Block>>>& promise);
  void Fetch(uint64_t index, std::promise<Result<Block>>& promise);
  void ScheduleReadahead(uint64_t block);
  void FetchLoop();
  void Touch(Entry& e, uint64_t index);  // under mu_
  void Evict();                          // under mu_

  SnapshotReader reader_;
  const SnapshotSourceOptions options_;
  const size_t capacity_;
  std::vector<uint64_t> data_blocks_;  // non-zero blocks, ascending (read-ahead only)

  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::unordered_map<uint64_t, Entry> cache_;  // guarded by mu_
  std::list<uint64_t> lru_;                    // guarded by mu_; front = newest
  std::deque<Job> queue_;                      // guarded by mu_; read-ahead work
  uint64_t fetched_ = 0;                       // guarded by mu_
  bool stop_ = false;                          // guarded by mu_
  std::vector<std::thread> fetchers_;
};

}  // namespace cairn::repo

#endif  // CAIRN_REPO_SNAPSHOT_SOURCE_H_
