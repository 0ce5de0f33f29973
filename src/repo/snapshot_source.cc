#include "repo/snapshot_source.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace cairn::repo {
namespace {

uint64_t BlockLength(const SnapshotHeader& h, uint64_t block) {
  return std::min<uint64_t>(h.block_size, h.size - block * h.block_size);
}

}  // namespace

Result<std::unique_ptr<SnapshotSource>> SnapshotSource::Open(Repository& repo, const SnapshotId& id,
                                                             const SnapshotSourceOptions& options) {
  ASSIGN_OR_RETURN(Manifest manifest, repo.LoadManifest(id));
  return std::make_unique<SnapshotSource>(repo, std::move(manifest), options);
}

SnapshotSource::SnapshotSource(Repository& repo, Manifest manifest,
                               const SnapshotSourceOptions& options)
    : reader_(repo, std::move(manifest)),
      options_(options),
      capacity_(std::max<size_t>({options.cache_blocks, options.readahead + 4, 1})) {
  if (options_.readahead == 0) return;
  const std::vector<ChunkId>& blocks = reader_.manifest().blocks;
  for (uint64_t b = 0; b < blocks.size(); ++b) {
    if (!blocks[b].IsZero()) data_blocks_.push_back(b);
  }
  for (size_t i = 0; i < std::max<size_t>(1, options_.fetch_threads); ++i) {
    fetchers_.emplace_back([this] { FetchLoop(); });
  }
}

SnapshotSource::~SnapshotSource() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : fetchers_) t.join();
}

uint64_t SnapshotSource::blocks_fetched() const {
  std::lock_guard lock(mu_);
  return fetched_;
}

Status SnapshotSource::ReadAt(uint64_t offset, MutableByteSpan out) {
  const SnapshotHeader& h = header();
  if (offset > h.size || out.size() > h.size - offset) {
    return InvalidArgumentError(
        fmt::format("reading {} bytes at offset {} of snapshot {} ({} bytes)", out.size(), offset,
                    h.id.str(), h.size));
  }
  size_t done = 0;
  while (done < out.size()) {
    const uint64_t pos = offset + done;
    const uint64_t b = pos / h.block_size;
    const uint64_t in = pos % h.block_size;
    const size_t n = std::min<uint64_t>(out.size() - done, BlockLength(h, b) - in);
    if (manifest().blocks[b].IsZero()) {
      std::memset(out.data() + done, 0, n);
    } else {
      if (options_.readahead > 0) ScheduleReadahead(b);
      ASSIGN_OR_RETURN(Block block, GetBlock(b));
      std::memcpy(out.data() + done, block->data() + in, n);
    }
    done += n;
  }
  return Status::OK();
}

Status SnapshotSource::ReadBlocks(uint64_t first, uint64_t count,
                                  const SnapshotReader::BlockSink& sink) {
  return reader_.ReadBlocks(first, count, [&](uint64_t b, ByteSpan data) {
    if (!manifest().blocks[b].IsZero()) {
      std::lock_guard lock(mu_);
      ++fetched_;
    }
    return sink(b, data);
  });
}

Result<std::vector<Extent>> SnapshotSource::DataExtents() {
  const SnapshotHeader& h = header();
  const std::vector<ChunkId>& blocks = manifest().blocks;
  std::vector<Extent> extents;
  for (uint64_t b = 0; b < blocks.size(); ++b) {
    if (blocks[b].IsZero()) continue;
    const uint64_t off = b * h.block_size;
    const uint64_t len = BlockLength(h, b);
    if (!extents.empty() && extents.back().offset + extents.back().length == off) {
      extents.back().length += len;
    } else {
      extents.push_back(Extent{off, len});
    }
  }
  return extents;
}

Result<SnapshotSource::Block> SnapshotSource::GetBlock(uint64_t index) {
  std::unique_ptr<std::promise<Result<Block>>> promise;
  Pending pending;
  {
    std::lock_guard lock(mu_);
    pending = FindOrStart(index, promise);
  }
  if (promise) Fetch(index, *promise);
  Result<Block> result = pending.get();
  if (!result.ok()) {
    // Forget the failure, so a later read tries again.
    std::lock_guard lock(mu_);
    auto it = cache_.find(index);
    if (it != cache_.end() &&
        it->second.value.wait_for(std::chrono::seconds(0)) == std::future_status::ready &&
        !it->second.value.get().ok()) {
      lru_.erase(it->second.lru);
      cache_.erase(it);
    }
  }
  return result;
}

SnapshotSource::Pending SnapshotSource::FindOrStart(
    uint64_t index, std::unique_ptr<std::promise<Result<Block>>>& promise) {
  auto it = cache_.find(index);
  if (it != cache_.end()) {
    Touch(it->second, index);
    return it->second.value;
  }
  promise = std::make_unique<std::promise<Result<Block>>>();
  lru_.push_front(index);
  Entry& e = cache_[index];
  e.value = promise->get_future().share();
  e.lru = lru_.begin();
  Evict();
  return e.value;
}

void SnapshotSource::Fetch(uint64_t index, std::promise<Result<Block>>& promise) {
  Result<Buffer> data = reader_.ReadBlock(index);
  {
    std::lock_guard lock(mu_);
    ++fetched_;
  }
  if (!data.ok()) {
    promise.set_value(data.status());
    return;
  }
  promise.set_value(Block(std::make_shared<const Buffer>(std::move(*data))));
}

void SnapshotSource::ScheduleReadahead(uint64_t block) {
  // Positions in data_blocks_ of the `readahead` data blocks after `block`.
  // Each is started if absent and touched if present, so the window stays
  // newer in the LRU order than the blocks already read (evicted first).
  const auto at = std::upper_bound(data_blocks_.begin(), data_blocks_.end(), block);
  const size_t first = static_cast<size_t>(at - data_blocks_.begin());
  const size_t end = std::min(data_blocks_.size(), first + options_.readahead);
  std::lock_guard lock(mu_);
  const size_t queued = queue_.size();
  for (size_t p = end; p-- > first;) {  // the nearest block ends up newest
    std::unique_ptr<std::promise<Result<Block>>> promise;
    (void)FindOrStart(data_blocks_[p], promise);
    if (promise) queue_.push_back(Job{data_blocks_[p], std::move(promise)});
  }
  if (queue_.size() == queued) return;
  std::reverse(queue_.begin() + static_cast<std::ptrdiff_t>(queued),
               queue_.end());  // nearest first
  work_cv_.notify_all();
}

void SnapshotSource::FetchLoop() {
  while (true) {
    Job job;
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    Fetch(job.block, *job.promise);
  }
}

void SnapshotSource::Touch(Entry& e, uint64_t index) {
  lru_.erase(e.lru);
  lru_.push_front(index);
  e.lru = lru_.begin();
}

void SnapshotSource::Evict() {
  while (cache_.size() > capacity_) {
    cache_.erase(lru_.back());
    lru_.pop_back();
  }
}

}  // namespace cairn::repo
