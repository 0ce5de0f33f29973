#include "repo/pack_uploader.h"

#include <fmt/format.h>

namespace cairn::repo {
namespace {

constexpr size_t kDefaultUploaders = 2;
constexpr size_t kBlobQueue = 64;

}  // namespace

PackUploader::PackUploader(Repository& repo, size_t uploaders)
    : repo_(repo), blobs_(kBlobQueue), uploads_(1) {
  packer_ = std::thread([this] { PackLoop(); });
  for (size_t i = 0; i < (uploaders ? uploaders : kDefaultUploaders); ++i) {
    uploaders_.emplace_back([this] { UploadLoop(); });
  }
}

PackUploader::~PackUploader() {
  if (!finished_) (void)Finish();
}

bool PackUploader::Add(const ChunkId& id, Buffer blob, uint32_t raw_length) {
  if (failed_.load()) return false;
  return blobs_.Push(BlobItem{id, std::move(blob), raw_length});
}

void PackUploader::Abort(Status status) {
  {
    std::lock_guard lock(mu_);
    if (failed_.load()) return;
    error_ = std::move(status);
    failed_.store(true);
  }
  blobs_.Close();
  uploads_.Close();
}

Result<std::vector<IndexedPack>> PackUploader::Finish() {
  finished_ = true;
  blobs_.Close();
  packer_.join();
  for (std::thread& t : uploaders_) t.join();
  std::lock_guard lock(mu_);
  if (failed_.load()) return error_;
  return std::move(packs_);
}

void PackUploader::PackLoop() {
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

void PackUploader::UploadLoop() {
  while (std::optional<PackWriter::Finished> pack = uploads_.Pop()) {
    if (failed_.load()) continue;
    Status s = repo_.backend().Put(PackKey(pack->id), pack->data);
    if (!s.ok()) {
      Abort(
          s.WithContext(fmt::format("uploading pack {} ({} chunks, {} bytes) to {}", pack->id.Hex(),
                                    pack->entries.size(), pack->data.size(), repo_.Describe())));
      continue;
    }
    bytes_uploaded_.fetch_add(pack->data.size());
    std::lock_guard lock(mu_);
    packs_.push_back(IndexedPack{pack->id, pack->data.size(), std::move(pack->entries)});
  }
}

}  // namespace cairn::repo
