// SnapshotBlockSource: a volume::BlockSource over a snapshot in a repository
// (repo::SnapshotSource), so a volume created from a snapshot hydrates from
// it (volume/hydrator.h). Every byte is verified by the repository reader;
// damage is kCorruption naming the snapshot, the block, its offset and the
// pack. Read-ahead is on for Read: a client reading in order keeps several
// fetches in flight (several requests to S3 at once).
//
// The daemon shares one Repository between uploads and hydration; an
// upload's index reload swaps the new index in whole (Index::Replace), so
// hydration lookups never see it empty.
//
// Thread-safety: Read and DataExtents from many threads at once. `repo`
// (with its index loaded) must outlive the source.
#ifndef CAIRN_SERVICE_SNAPSHOT_BLOCK_SOURCE_H_
#define CAIRN_SERVICE_SNAPSHOT_BLOCK_SOURCE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "repo/recycle_bin.h"
#include "repo/repository.h"
#include "repo/snapshot_source.h"
#include "volume/block_device.h"

namespace cairn::service {

struct SnapshotBlockSourceOptions {
  // For Read (a client's on-demand reads); ReadBlocks (the hydrator's
  // background) bypasses the cache and the read-ahead.
  size_t readahead = 8;      // data blocks fetched ahead of the last read
  size_t fetch_threads = 4;  // read-ahead threads
  // Decoded blocks kept: several clients reading at once, each with its
  // read-ahead window.
  size_t cache_blocks = 32;
  // Opens a snapshot that is in the recycle bin too: resuming a hydration
  // begun before the snapshot was deleted (gc keeps its data until the
  // bin's period ends). New volumes are made only from live snapshots.
  bool from_recycle_bin = false;
};

class SnapshotBlockSource : public volume::BlockSource {
 public:
  // Loads the snapshot's manifest (from the recycle bin too with
  // options.from_recycle_bin). REQUIRES: repo.LoadIndex() done.
  // kNotFound "snapshot … not found in …"; kFailedPrecondition when the
  // snapshot is not completed.
  static Result<std::shared_ptr<SnapshotBlockSource>> Open(
      repo::Repository& repo, const repo::SnapshotId& id,
      const SnapshotBlockSourceOptions& options = {});

  uint64_t Size() const override { return source_->size(); }
  uint32_t BlockSize() const override { return source_->header().block_size; }
  std::string Describe() const override { return describe_; }
  Status Read(uint64_t offset, MutableByteSpan out) override;
  Result<std::vector<volume::DeviceExtent>> DataExtents() override;
  // One GetRange per run of neighbouring chunks, decoded without a copy
  // through the cache: hydration's background fill.
  Status ReadBlocks(uint64_t first, uint64_t count, const BlockSink& sink) override {
    return source_->ReadBlocks(first, count, sink);
  }

  const repo::SnapshotHeader& header() const { return source_->header(); }
  // Set when the snapshot was opened from the recycle bin: when it was
  // deleted and until when it stays.
  const std::optional<repo::BinRecord>& recycled() const { return recycled_; }
  uint64_t blocks_fetched() const { return source_->blocks_fetched(); }

 private:
  SnapshotBlockSource(std::unique_ptr<repo::SnapshotSource> source, std::string describe,
                      std::optional<repo::BinRecord> recycled)
      : source_(std::move(source)), describe_(std::move(describe)), recycled_(std::move(recycled)) {}
  std::unique_ptr<repo::SnapshotSource> source_;
  const std::string describe_;
  const std::optional<repo::BinRecord> recycled_;
};

}  // namespace cairn::service

#endif  // CAIRN_SERVICE_SNAPSHOT_BLOCK_SOURCE_H_
