#include "repo/backup_pipeline.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <unordered_set>

#include <fmt/format.h>

#include "core/bounded_queue.h"
#include "core/crypto.h"
#include "core/thread_pool.h"
#include "repo/chunk.h"
#include "repo/pack.h"

namespace cairn::repo {
namespace {

constexpr size_t kDefaultUploaders = 2;
constexpr uint64_t kReadBufferBudget = 64ull << 20;  // bytes of read buffers

struct ReadItem {
  uint64_t block = 0;
  Buffer data;
};

// Sorted, merged, non-empty extents.
std::vector<Extent> Normalize(std::vector<Extent> extents) {
  std::erase_if(extents, [](const Extent& e) { return e.length == 0; });
  std::sort(extents.begin(), extents.end(),
            [](const Extent& a, const Extent& b) { return a.offset < b.offset; });
  std::vector<Extent> out;
  for (const Extent& e : extents) {
    if (!out.empty() && e.offset <= out.back().offset + out.back().length) {
      out.back().length =
          std::max(out.back().offset + out.back().length, e.offset + e.length) - out.back().offset;
    } else {
      out.push_back(e);
    }
  }
  return out;
}

struct BlobItem {
  ChunkId id;
  Buffer blob;
  uint32_t raw_length = 0;
};

class BackupPipeline {
 public:
  BackupPipeline(Repository& repo, Source& source, const BackupOptions& options,
                 const std::vector<ChunkId>* unchanged_from)
      : repo_(repo),
        source_(source),
        options_(options),
        unchanged_from_(unchanged_from),
        block_size_(repo.config().block_size),
        threads_(options.threads ? options.threads : ThreadPool::DefaultThreads()),
        uploaders_(options.uploaders ? options.uploaders : kDefaultUploaders),
        buffers_(std::max<size_t>(
            threads_ + 1,
            std::min<size_t>(2 * threads_ + 2, kReadBufferBudget / block_size_))),
        free_(buffers_),
        work_(buffers_),
        blobs_(2 * threads_),
        uploads_(1) {}

  Result<PipelineOutput> Run() {
    const uint64_t size = source_.size();
    const uint64_t count = (size + block_size_ - 1) / block_size_;
    ASSIGN_OR_RETURN_CTX(extents_, source_.DataExtents(), "listing data extents of " + source_.name());
    out_.blocks.assign(count, ChunkId{});
    if (unchanged_from_ != nullptr) {
      if (!options_.changed_only.has_value() || unchanged_from_->size() != count) {
        return InternalError(fmt::format(
            "changed-only backup of {}: the parent map has {} blocks, the source {}",
            source_.name(), unchanged_from_->size(), count));
      }
      changed_ = Normalize(*options_.changed_only);
    }
    for (size_t i = 0; i < buffers_; ++i) (void)free_.Push(Buffer(block_size_));

    std::thread reader([this, count] { ReadLoop(count); });
    std::vector<std::thread> workers, uploaders;
    for (size_t i = 0; i < threads_; ++i) workers.emplace_back([this] { WorkLoop(); });
    std::thread packer([this] { PackLoop(); });
    for (size_t i = 0; i < uploaders_; ++i) uploaders.emplace_back([this] { UploadLoop(); });

    reader.join();
    for (std::thread& t : workers) t.join();
    blobs_.Close();
    packer.join();
    for (std::thread& t : uploaders) t.join();

    if (failed_.load()) return error_;
    out_.stats.bytes_read = bytes_read_.load();
    out_.stats.bytes_new = bytes_new_.load();
    out_.stats.chunks_new = chunks_new_.load();
    out_.bytes_unchanged = bytes_unchanged_;
    return std::move(out_);
  }

 private:
  void Fail(Status s) {
    {
      std::lock_guard lock(error_mu_);
      if (failed_.load()) return;
      error_ = std::move(s);
      failed_.store(true);
    }
    free_.Close();
    work_.Close();
    blobs_.Close();
    uploads_.Close();
  }

  std::string Where(uint64_t block) const {
    return fmt::format("block {} (byte offset {}) of {}", block, block * block_size_,
                       source_.name());
  }

  void Report(uint64_t bytes) {
    if (options_.progress != nullptr) options_.progress->Add(bytes);
  }

  // Changed-only: takes block `b` ([off, off+len)) from the parent's map
  // unread if no changed extent touches it and the parent's chunk is zero or
  // indexed. `c` walks changed_ along with the blocks.
  bool TakeUnchanged(uint64_t b, uint64_t off, uint64_t len, size_t& c) {
    if (unchanged_from_ == nullptr) return false;
    while (c < changed_.size() && changed_[c].offset + changed_[c].length <= off) ++c;
    if (c < changed_.size() && changed_[c].offset < off + len) return false;
    const ChunkId& id = (*unchanged_from_)[b];
    if (!id.IsZero() && !repo_.index().Contains(id)) return false;  // lost: read it
    out_.blocks[b] = id;  // the reader owns this index (no worker sees b)
    bytes_unchanged_ += len;
    Report(len);
    return true;
  }

  void ReadLoop(uint64_t count) {
    const uint64_t size = source_.size();
    size_t e = 0, c = 0;
    for (uint64_t b = 0; b < count && !failed_.load(); ++b) {
      if (options_.stop.stop_requested()) {
        Fail(CancelledError("backup of " + source_.name() + " cancelled; nothing was saved"));
        break;
      }
      const uint64_t off = b * block_size_;
      const uint64_t len = std::min<uint64_t>(block_size_, size - off);
      if (TakeUnchanged(b, off, len, c)) continue;
      while (e < extents_.size() && extents_[e].offset + extents_[e].length <= off) ++e;
      if (e == extents_.size() || extents_[e].offset >= off + len) {
        Report(len);  // wholly inside a hole: zero, nothing to read
        continue;
      }
      std::optional<Buffer> buf = free_.Pop();
      if (!buf) break;
      buf->resize(len);
      Status s = source_.ReadAt(off, *buf);
      if (!s.ok()) {
        Fail(s.WithContext("reading " + Where(b)));
        break;
      }
      bytes_read_.fetch_add(len, std::memory_order_relaxed);
      if (!work_.Push(ReadItem{b, std::move(*buf)})) break;
    }
    work_.Close();
  }

  void WorkLoop() {
    while (std::optional<ReadItem> item = work_.Pop()) {
      if (!failed_.load()) Process(item->block, item->data);
      (void)free_.Push(std::move(item->data));
    }
  }

  void Process(uint64_t block, ByteSpan data) {
    const auto len = static_cast<uint32_t>(data.size());
    if (IsAllZero(data)) return Report(len);  // map entry stays zero
    const ChunkId id = repo_.cipher().ComputeChunkId(data);
    out_.blocks[block] = id;  // each index is written by one thread only
    // Unchanged since the parent, or stored for any other snapshot: the
    // index decides, so a chunk a parent names but the repository lost is
    // stored again rather than referenced blindly.
    if (repo_.index().Contains(id)) return Report(len);
    {
      std::lock_guard lock(claim_mu_);
      if (!claimed_.insert(id).second) return Report(len);
    }
    Buffer blob = EncodeChunk(repo_.cipher(), data, options_.compression_level);
    bytes_new_.fetch_add(len, std::memory_order_relaxed);
    chunks_new_.fetch_add(1, std::memory_order_relaxed);
    Report(len);
    (void)blobs_.Push(BlobItem{id, std::move(blob), len});
  }

  void PackLoop() {
    PackWriter writer;
    while (std::optional<BlobItem> item = blobs_.Pop()) {
      if (failed_.load()) continue;
      writer.Add(item->id, item->blob, item->raw_length);
      if (writer.size() >= repo_.config().pack_size) {
        if (!uploads_.Push(writer.Finish(repo_.cipher()))) break;
      }
    }
    if (!failed_.load() && !writer.empty()) (void)uploads_.Push(writer.Finish(repo_.cipher()));
    uploads_.Close();
  }

  void UploadLoop() {
    while (std::optional<PackWriter::Finished> pack = uploads_.Pop()) {
      if (failed_.load()) continue;
      // The pack id is the SHA-256 of its bytes: S3 need not hash it again.
      Status s = repo_.backend().PutWithSha256(PackKey(pack->id), pack->data, pack->id.bytes);
      if (!s.ok()) {
        Fail(s.WithContext(fmt::format("uploading pack {} ({} chunks, {} bytes)", pack->id.Hex(),
                                       pack->entries.size(), pack->data.size())));
        continue;
      }
      uint64_t stored = 0;
      for (const PackEntry& e : pack->entries) stored += e.length;
      std::lock_guard lock(out_mu_);
      out_.stats.bytes_stored += stored;
      out_.packs.push_back(IndexedPack{pack->id, pack->data.size(), std::move(pack->entries)});
    }
  }

  Repository& repo_;
  Source& source_;
  const BackupOptions& options_;
  const std::vector<ChunkId>* const unchanged_from_;  // null unless changed-only
  std::vector<Extent> changed_;  // normalized options_.changed_only
  uint64_t bytes_unchanged_ = 0;  // written by the reader; read after join
  const uint64_t block_size_;
  const size_t threads_;
  const size_t uploaders_;
  const size_t buffers_;
  std::vector<Extent> extents_;

  BoundedQueue<Buffer> free_;
  BoundedQueue<ReadItem> work_;
  BoundedQueue<BlobItem> blobs_;
  BoundedQueue<PackWriter::Finished> uploads_;

  std::mutex claim_mu_;
  std::unordered_set<ChunkId, DigestIdHash> claimed_;  // guarded by claim_mu_

  std::mutex out_mu_;
  PipelineOutput out_;  // packs and bytes_stored guarded by out_mu_; blocks
                        // written per index by one worker each
  std::atomic<uint64_t> bytes_read_{0};
  std::atomic<uint64_t> bytes_new_{0};
  std::atomic<uint64_t> chunks_new_{0};

  std::mutex error_mu_;
  Status error_;  // guarded by error_mu_; read after all threads joined
  std::atomic<bool> failed_{false};
};

}  // namespace

Result<PipelineOutput> RunBackupPipeline(Repository& repo, Source& source,
                                         const BackupOptions& options,
                                         const std::vector<ChunkId>* unchanged_from) {
  BackupPipeline pipeline(repo, source, options, unchanged_from);
  return pipeline.Run();
}

Status CommitPacks(Repository& repo, const std::vector<IndexedPack>& packs) {
  if (packs.empty()) return Status::OK();
  IndexObject object;
  object.packs = packs;
  Buffer encoded = EncodeIndexObject(repo.cipher(), object);
  IndexId id = IndexId::FromBytes(Sha256(encoded));
  RETURN_IF_ERROR_CTX(repo.backend().Put(IndexKey(id), encoded),
                      fmt::format("writing index {} for {} new packs", id.Hex(), packs.size()));
  for (const IndexedPack& p : packs) repo.index().AddPack(p);
  return Status::OK();
}

}  // namespace cairn::repo
