#include "repo/copy_sealed.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "repo/pack_uploader.h"
#include "repo/restore_plan.h"

namespace cairn::repo {
namespace {

// Fetchers are I/O bound (one ranged GET each); AES-GCM costs little.
constexpr size_t kDefaultFetchers = 8;

uint64_t BlockLength(const SnapshotHeader& h, uint64_t block) {
  return std::min<uint64_t>(h.block_size, h.size - block * h.block_size);
}

class SealedCopier {
 public:
  SealedCopier(Repository& from, Repository& to, const Manifest& m, const CopyOptions& options)
      : from_(from), to_(to), m_(m), options_(options), uploader_(to, options.uploaders) {}

  Result<SealedTransfer> Run() {
    // Only chunks the destination lacks are planned; blocks whose chunk it
    // has (and zero blocks) are done already.
    Manifest wanted;
    wanted.header = m_.header;
    wanted.blocks.assign(m_.blocks.size(), ChunkId{});
    std::unordered_set<ChunkId, DigestIdHash> present;
    for (uint64_t b = 0; b < m_.blocks.size(); ++b) {
      const ChunkId& id = m_.blocks[b];
      if (!id.IsZero() && !to_.index().Contains(id)) {
        wanted.blocks[b] = id;
        continue;
      }
      if (!id.IsZero()) present.insert(id);
      Report(BlockLength(m_.header, b));
    }
    result_.chunks_present = present.size();
    Result<RestorePlan> plan = BuildRestorePlan(from_.index(), wanted);
    if (!plan.ok()) {
      uploader_.Abort(plan.status());
      (void)uploader_.Finish();
      return plan.status().WithContext("in source repository " + from_.Describe());
    }
    plan_ = std::move(*plan);

    const size_t threads =
        std::min<size_t>(options_.readers ? options_.readers : kDefaultFetchers, plan_.jobs.size());
    std::vector<std::thread> fetchers;
    for (size_t i = 0; i < threads; ++i) fetchers.emplace_back([this] { Work(); });
    for (std::thread& t : fetchers) t.join();
    {
      std::lock_guard lock(mu_);
      if (!error_.ok()) uploader_.Abort(error_);
    }
    ASSIGN_OR_RETURN(result_.packs, uploader_.Finish());
    result_.bytes_sent = uploader_.bytes_uploaded();
    result_.chunks_sent = chunks_sent_.load();
    return std::move(result_);
  }

 private:
  void Report(uint64_t bytes) {
    if (options_.progress != nullptr) options_.progress->Add(bytes);
  }

  void Fail(Status s) {
    std::lock_guard lock(mu_);
    if (error_.ok()) error_ = std::move(s);
    failed_.store(true);
  }

  void Work() {
    while (!failed_.load()) {
      const size_t j = next_.fetch_add(1);
      if (j >= plan_.jobs.size()) return;
      if (options_.stop.stop_requested()) {
        return Fail(CancelledError("copy of snapshot " + m_.header.id.str() +
                                   " cancelled; it was not saved"));
      }
      if (Status s = RunJob(plan_.jobs[j]); !s.ok()) return Fail(std::move(s));
    }
  }

  Status RunJob(const RangeJob& job) {
    const PackId& pack = plan_.packs[job.pack];
    const BlockRef& first = plan_.refs[job.first];
    ASSIGN_OR_RETURN_CTX(
        Buffer data, from_.backend().GetRange(PackKey(pack), job.offset, job.length),
        fmt::format("{}: reading pack {} offset {} of {}", BlockContext(m_.header, first.block),
                    pack.Hex(), job.offset, from_.Describe()));
    for (size_t i = job.first; i < job.last;) {
      const BlockRef& r = plan_.refs[i];
      size_t j = i + 1;  // refs [i, j) share the chunk
      uint64_t bytes = BlockLength(m_.header, r.block);
      for (; j < job.last && plan_.refs[j].offset == r.offset; ++j) {
        bytes += BlockLength(m_.header, plan_.refs[j].block);
      }
      const uint64_t rel = r.offset - job.offset;
      const std::string where =
          fmt::format("{}: chunk {} in pack {} offset {} of {}", BlockContext(m_.header, r.block),
                      m_.blocks[r.block].ShortHex(), pack.Hex(), r.offset, from_.Describe());
      if (rel + r.length > data.size()) {
        return CorruptionError(
            fmt::format("{}: the pack ends at byte {}, before the chunk's {} "
                        "bytes (run `cairn repo check`)",
                        where, job.offset + data.size(), r.length));
      }
      ASSIGN_OR_RETURN(Buffer blob, Reseal(ByteSpan(data).subspan(rel, r.length), r, where));
      if (!uploader_.Add(m_.blocks[r.block], std::move(blob), r.raw_length)) {
        return AbortedError("the pack uploader stopped");  // Finish() says why
      }
      chunks_sent_.fetch_add(1, std::memory_order_relaxed);
      Report(bytes);
      i = j;
    }
    return Status::OK();
  }

  // Opens a source blob and seals its plaintext (flag | payload) for the
  // destination.
  Result<Buffer> Reseal(ByteSpan blob, const BlockRef& r, const std::string& where) const {
    Result<Buffer> plain = from_.cipher().Open(blob);
    if (!plain.ok()) return plain.status().WithContext(where);
    if (plain->empty() || static_cast<uint8_t>((*plain)[0]) > 1) {
      return CorruptionError(where + ": not a chunk (no valid flag byte)");
    }
    if ((*plain)[0] == std::byte{0} && plain->size() - 1 != r.raw_length) {
      return CorruptionError(fmt::format("{}: raw chunk holds {} bytes, the index says {}", where,
                                         plain->size() - 1, r.raw_length));
    }
    return to_.cipher().Seal(*plain);
  }

  Repository& from_;
  Repository& to_;
  const Manifest& m_;
  const CopyOptions& options_;
  PackUploader uploader_;
  RestorePlan plan_;
  SealedTransfer result_;
  std::atomic<size_t> next_{0};
  std::atomic<uint64_t> chunks_sent_{0};
  std::atomic<bool> failed_{false};
  std::mutex mu_;
  Status error_;  // guarded by mu_
};

}  // namespace

Result<SealedTransfer> TransferSealedChunks(Repository& from, Repository& to,
                                            const Manifest& manifest, const CopyOptions& options) {
  SealedCopier copier(from, to, manifest, options);
  return copier.Run();
}

}  // namespace cairn::repo
