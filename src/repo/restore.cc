// SnapshotReader and RestoreSnapshot. Restore runs a RestorePlan: workers take
// range jobs in (pack, offset) order, fetch each range with one GetRange,
// decode each chunk once and write it to every block that uses it.
#include "repo/restore.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "core/bounded_queue.h"
#include "core/thread_pool.h"
#include "repo/chunk.h"
#include "repo/lock.h"
#include "repo/restore_plan.h"
#include "repo/restore_target.h"

namespace cairn::repo {
namespace {

// Ranges in flight on a local disk; S3 repositories ask for more
// (RestoreOptions::readers, from --connections).
constexpr size_t kDefaultReaders = 2;

uint64_t BlockLength(const SnapshotHeader& h, uint64_t block) {
  return std::min<uint64_t>(h.block_size, h.size - block * h.block_size);
}

Status Truncated(const Index& index, const PackId& pack, uint64_t offset, uint64_t length,
                 uint64_t ends_at) {
  std::optional<uint64_t> size = index.PackSize(pack);
  return CorruptionError(fmt::format(
      "pack {} is truncated: the index says it holds a blob at offset {} ({} bytes){}, but "
      "the object ends at byte {}",
      pack.Hex(), offset, length,
      size ? fmt::format(" and has {} bytes", *size) : std::string(), ends_at));
}

// Decodes one blob; errors say which block, pack and offset.
Result<Buffer> DecodeBlob(const Repository& repo, const Manifest& m, uint64_t block,
                          const PackId& pack, uint64_t offset, ByteSpan blob,
                          uint32_t raw_length) {
  const std::string where =
      fmt::format("{}: pack {} offset {}", BlockContext(m.header, block), pack.Hex(), offset);
  ASSIGN_OR_RETURN_CTX(Buffer plain, DecodeChunk(repo.cipher(), m.blocks[block], blob, raw_length),
                       where);
  if (plain.size() != BlockLength(m.header, block)) {
    return CorruptionError(fmt::format("{}: chunk holds {} bytes, the block has {}", where,
                                       plain.size(), BlockLength(m.header, block)));
  }
  return plain;
}

// Decodes the chunks of one fetched range of `plan` and hands each to every
// block that uses it (a chunk shared by several blocks is decoded once).
Status DecodeRange(Repository& repo, const Manifest& m, const RestorePlan& plan,
                   const RangeJob& job, ByteSpan data,
                   const SnapshotReader::BlockSink& fn) {
  const PackId& pack = plan.packs[job.pack];
  for (size_t i = job.first; i < job.last;) {
    const BlockRef& r = plan.refs[i];
    size_t j = i + 1;  // refs [i, j) share the chunk; r has the lowest block
    while (j < job.last && plan.refs[j].offset == r.offset) ++j;
    const uint64_t rel = r.offset - job.offset;
    if (rel + r.length > data.size()) {
      return Truncated(repo.index(), pack, r.offset, r.length, job.offset + data.size())
          .WithContext(BlockContext(m.header, r.block));
    }
    ASSIGN_OR_RETURN(Buffer plain, DecodeBlob(repo, m, r.block, pack, r.offset,
                                              data.subspan(rel, r.length), r.raw_length));
    for (size_t k = i; k < j; ++k) RETURN_IF_ERROR(fn(plan.refs[k].block, plain));
    i = j;
  }
  return Status::OK();
}

// Fetches one range of `plan`; errors name the first block it serves.
Result<Buffer> FetchRange(Repository& repo, const Manifest& m, const RestorePlan& plan,
                          const RangeJob& job) {
  const PackId& pack = plan.packs[job.pack];
  Result<Buffer> data = repo.backend().GetRange(PackKey(pack), job.offset, job.length);
  if (!data.ok()) {
    return data.status().WithContext(
        fmt::format("{}: reading pack {} offset {}",
                    BlockContext(m.header, plan.refs[job.first].block), pack.Hex(), job.offset));
  }
  return data;
}

class Restorer {
 public:
  Restorer(Repository& repo, const Manifest& m, const RestorePlan& plan, RestoreTarget& target,
           const RestoreOptions& options)
      : repo_(repo), m_(m), plan_(plan), target_(target), options_(options) {}

  Status Run() {
    // Fetchers read pack ranges ahead (I/O) while one decoder per core
    // decodes and writes (CPU), so a cold disk or a slow link overlaps with
    // decoding instead of idling a core; a writeback thread starts writing
    // the target out early so the final sync has little left to do.
    const size_t decoders = std::min<size_t>(
        options_.threads ? options_.threads : ThreadPool::DefaultThreads(), plan_.jobs.size());
    const size_t fetchers =
        std::min<size_t>(options_.readers ? options_.readers : kDefaultReaders, plan_.jobs.size());
    BoundedQueue<Fetched> fetched(std::max<size_t>(2, decoders + 1));
    std::vector<std::thread> threads;
    std::atomic<size_t> fetchers_left{fetchers};
    for (size_t i = 0; i < fetchers; ++i) {
      threads.emplace_back([&] {
        Fetch(fetched);
        if (fetchers_left.fetch_sub(1) == 1) fetched.Close();
      });
    }
    for (size_t i = 0; i < decoders; ++i) threads.emplace_back([&] { Decode(fetched); });
    if (fetchers == 0) fetched.Close();
    target_.StartBackgroundWriteback();
    Status zeros = WriteZeros();
    if (!zeros.ok()) Fail(zeros);
    for (std::thread& t : threads) t.join();
    target_.StopBackgroundWriteback();
    std::lock_guard lock(mu_);
    return error_;
  }

  uint64_t bytes_written() const { return bytes_written_.load(); }
  uint64_t blocks_written() const { return blocks_written_.load(); }

 private:
  void Fail(Status s) {
    std::lock_guard lock(mu_);
    if (error_.ok()) error_ = std::move(s);
    failed_.store(true);
  }

  void Report(uint64_t bytes) {
    if (options_.progress != nullptr) options_.progress->Add(bytes);
  }

  // Zero blocks: holes in a fresh file; written as zeros on a device.
  Status WriteZeros() {
    const auto& zb = plan_.zero_blocks;
    for (size_t i = 0; i < zb.size() && !failed_.load();) {
      size_t j = i + 1;
      while (j < zb.size() && zb[j] == zb[j - 1] + 1) ++j;
      const uint64_t off = zb[i] * m_.header.block_size;
      const uint64_t end = std::min<uint64_t>(zb[j - 1] * m_.header.block_size + m_.header.block_size,
                                              m_.header.size);
      if (target_.is_device()) {
        RETURN_IF_ERROR_CTX(target_.ZeroRange(off, end - off),
                            fmt::format("zeroing {} bytes at offset {}", end - off, off));
      }
      Report(end - off);
      i = j;
    }
    return Status::OK();
  }

  struct Fetched {
    size_t job = 0;
    Buffer data;
  };

  void Fetch(BoundedQueue<Fetched>& out) {
    while (!failed_.load()) {
      const size_t j = next_.fetch_add(1);
      if (j >= plan_.jobs.size()) return;
      if (options_.stop.stop_requested()) {
        return Fail(CancelledError(fmt::format("restore of {} to {} cancelled",
                                               m_.header.id.str(), target_.path())));
      }
      Result<Buffer> data = FetchRange(repo_, m_, plan_, plan_.jobs[j]);
      if (!data.ok()) return Fail(data.status());
      if (!out.Push(Fetched{j, std::move(*data)})) return;
    }
  }

  void Decode(BoundedQueue<Fetched>& in) {
    while (std::optional<Fetched> f = in.Pop()) {
      if (failed_.load()) continue;  // drain so fetchers never block on a full queue
      if (Status s = RunJob(plan_.jobs[f->job], f->data); !s.ok()) {
        Fail(std::move(s));
        in.Close();
      }
    }
  }

  // Decodes the chunks of one fetched range and writes each to its blocks.
  Status RunJob(const RangeJob& job, const Buffer& data) {
    return DecodeRange(repo_, m_, plan_, job, data, [&](uint64_t block, ByteSpan plain) {
      RETURN_IF_ERROR_CTX(target_.WriteAt(block * m_.header.block_size, plain),
                          BlockContext(m_.header, block));
      bytes_written_.fetch_add(plain.size(), std::memory_order_relaxed);
      blocks_written_.fetch_add(1, std::memory_order_relaxed);
      Report(plain.size());
      return Status::OK();
    });
  }

  Repository& repo_;
  const Manifest& m_;
  const RestorePlan& plan_;
  RestoreTarget& target_;
  const RestoreOptions& options_;
  std::atomic<size_t> next_{0};
  std::atomic<uint64_t> bytes_written_{0};
  std::atomic<uint64_t> blocks_written_{0};
  std::atomic<bool> failed_{false};
  std::mutex mu_;
  Status error_;  // guarded by mu_
};

}  // namespace

SnapshotReader::SnapshotReader(Repository& repo, Manifest manifest)
    : repo_(repo), manifest_(std::move(manifest)) {}

Result<Buffer> SnapshotReader::ReadBlock(uint64_t index) {
  const SnapshotHeader& h = manifest_.header;
  if (index >= manifest_.blocks.size()) {
    return InvalidArgumentError(fmt::format("snapshot {} has {} blocks; there is no block {}",
                                            h.id.str(), manifest_.blocks.size(), index));
  }
  const ChunkId& id = manifest_.blocks[index];
  if (id.IsZero()) return Buffer(BlockLength(h, index));
  std::optional<ChunkLocation> loc = repo_.index().Lookup(id);
  if (!loc) {
    return CorruptionError(fmt::format("{}: chunk {} is not in the index",
                                     BlockContext(h, index), id.Hex()));
  }
  ASSIGN_OR_RETURN_CTX(Buffer blob,
                       repo_.backend().GetRange(PackKey(loc->pack), loc->offset, loc->length),
                       fmt::format("{}: reading pack {} offset {}", BlockContext(h, index),
                                   loc->pack.Hex(), loc->offset));
  if (blob.size() < loc->length) {
    return Truncated(repo_.index(), loc->pack, loc->offset, loc->length, loc->offset + blob.size())
        .WithContext(BlockContext(h, index));
  }
  return DecodeBlob(repo_, manifest_, index, loc->pack, loc->offset, blob, loc->raw_length);
}

Status SnapshotReader::ReadBlocks(uint64_t first, uint64_t count, const BlockSink& sink) {
  const SnapshotHeader& h = manifest_.header;
  const uint64_t total = manifest_.blocks.size();
  if (first > total || count > total - first) {
    return InvalidArgumentError(fmt::format("snapshot {} has {} blocks; there are no blocks {}..{}",
                                            h.id.str(), total, first, first + count - 1));
  }
  ASSIGN_OR_RETURN(RestorePlan plan, BuildRestorePlan(repo_.index(), manifest_, first, count));
  Buffer zeros;
  for (uint64_t b : plan.zero_blocks) {
    zeros.resize(BlockLength(h, b));
    RETURN_IF_ERROR(sink(b, zeros));
  }
  for (const RangeJob& job : plan.jobs) {
    ASSIGN_OR_RETURN(Buffer data, FetchRange(repo_, manifest_, plan, job));
    RETURN_IF_ERROR(DecodeRange(repo_, manifest_, plan, job, data, sink));
  }
  return Status::OK();
}

Result<RestoreResult> RestoreSnapshot(Repository& repo, const SnapshotId& id,
                                      const std::string& target,
                                      const RestoreOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  LockOptions lock_options;
  lock_options.operation = "restore";
  ASSIGN_OR_RETURN(std::unique_ptr<RepoLock> lock,
                   RepoLock::Acquire(repo.backend(), lock_options));
  ASSIGN_OR_RETURN(Manifest manifest, repo.LoadManifest(id));
  RETURN_IF_ERROR(repo.LoadIndex().status());  // under the lock, so gc cannot race
  ASSIGN_OR_RETURN(RestorePlan plan, BuildRestorePlan(repo.index(), manifest));
  ASSIGN_OR_RETURN(std::unique_ptr<RestoreTarget> out,
                   RestoreTarget::Open(target, manifest.header.size, options.force));

  Restorer restorer(repo, manifest, plan, *out, options);
  RETURN_IF_ERROR(restorer.Run());
  RETURN_IF_ERROR(out->Sync());
  lock->Release().IgnoreError();  // the restore itself is complete

  RestoreResult result;
  result.bytes_written = restorer.bytes_written();
  result.blocks_restored = restorer.blocks_written();
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace cairn::repo
