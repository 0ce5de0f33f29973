// PackUploader: the write end shared by engines that produce sealed chunk
// blobs for a repository (snapshot copy): blobs go into packs of about
// config().pack_size, and packs are Put on a few uploader threads.
//
//   Add() (any thread) ──blobs──▶ packer ──packs──▶ U uploaders ──▶ Put(PackKey)
//
// Writes packs only, never an index object: the caller commits the packs
// Finish() returns (CommitPacks, then the manifest), so an interrupted run
// leaves only unreferenced packs (docs/format.md write order). Memory is
// bounded by the two queues.
//
// Errors: the first failed Put wins; later Add()s return false and Finish()
// returns it, naming the pack. Abort() makes it stop the same way.
//
// Thread-safety: Add and Abort may be called from many threads at once;
// Finish from one thread, once, after every Add has returned. The destructor
// finishes (discarding the result) if Finish was not called.
#ifndef CAIRN_REPO_PACK_UPLOADER_H_
#define CAIRN_REPO_PACK_UPLOADER_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "core/bounded_queue.h"
#include "core/bytes.h"
#include "core/status.h"
#include "repo/ids.h"
#include "repo/index.h"
#include "repo/pack.h"
#include "repo/repository.h"

namespace cairn::repo {

class PackUploader {
 public:
  // REQUIRES: `repo` outlives the uploader. uploaders == 0 means 2.
  PackUploader(Repository& repo, size_t uploaders);
  ~PackUploader();
  PackUploader(const PackUploader&) = delete;
  PackUploader& operator=(const PackUploader&) = delete;

  // Queues a sealed blob (EncodeChunk's format) of `raw_length` plaintext
  // bytes under `id`. Blocks while the queue is full. False once failed.
  bool Add(const ChunkId& id, Buffer blob, uint32_t raw_length);
  // Stops everything with `status` (REQUIRES: not OK) unless already failed.
  void Abort(Status status);
  // Flushes the last pack, joins the threads; the packs written (durable,
  // not yet indexed) or the first error.
  Result<std::vector<IndexedPack>> Finish();

  uint64_t bytes_uploaded() const { return bytes_uploaded_.load(); }  // pack bytes Put

 private:
  struct BlobItem {
    ChunkId id;
    Buffer blob;
    uint32_t raw_length = 0;
  };
  void PackLoop();
  void UploadLoop();

  Repository& repo_;
  BoundedQueue<BlobItem> blobs_;
  BoundedQueue<PackWriter::Finished> uploads_;
  std::thread packer_;
  std::vector<std::thread> uploaders_;
  bool finished_ = false;  // owner thread only

  std::mutex mu_;
  Status error_;                    // guarded by mu_
  std::vector<IndexedPack> packs_;  // guarded by mu_
  std::atomic<bool> failed_{false};
  std::atomic<uint64_t> bytes_uploaded_{0};
};

}  // namespace cairn::repo

#endif  // CAIRN_REPO_PACK_UPLOADER_H_
