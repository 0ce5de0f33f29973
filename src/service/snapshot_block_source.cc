#include "service/snapshot_block_source.h"

#include <fmt/format.h>

namespace cairn::service {

Result<std::shared_ptr<SnapshotBlockSource>> SnapshotBlockSource::Open(
    repo::Repository& repo, const repo::SnapshotId& id, const SnapshotBlockSourceOptions& options) {
  repo::SnapshotSourceOptions so;
  so.readahead = options.readahead;
  so.fetch_threads = options.fetch_threads;
  so.cache_blocks = options.cache_blocks;
  std::optional<repo::BinRecord> recycled;
  Result<std::unique_ptr<repo::SnapshotSource>> opened = repo::SnapshotSource::Open(repo, id, so);
  if (!opened.ok() && opened.status().code() == StatusCode::kNotFound && options.from_recycle_bin) {
    Result<std::pair<repo::BinRecord, repo::Manifest>> binned = repo::LoadBinnedManifest(repo, id);
    if (binned.ok()) {
      recycled = binned->first;
      opened = std::make_unique<repo::SnapshotSource>(repo, std::move(binned->second), so);
    } else if (binned.status().code() != StatusCode::kNotFound) {
      return binned.status().WithContext("opening snapshot " + id.str() + " from the recycle bin");
    } else {
      return NotFoundError(opened.status().message() + "; it is not in the recycle bin either");
    }
  }
  ASSIGN_OR_RETURN(auto source, std::move(opened));
  if (source->header().state != "completed") {
    return FailedPreconditionError(fmt::format(
        "snapshot {} is {}, not completed: a volume can be made only from a completed snapshot",
        id.str(), source->header().state));
  }
  std::string describe =
      recycled ? fmt::format("snapshot {} (in the recycle bin until {}) in {}", id.str(),
                             recycled->expires, repo.Describe())
               : fmt::format("snapshot {} in {}", id.str(), repo.Describe());
  return std::shared_ptr<SnapshotBlockSource>(
      new SnapshotBlockSource(std::move(source), std::move(describe), std::move(recycled)));
}

Status SnapshotBlockSource::Read(uint64_t offset, MutableByteSpan out) {
  return source_->ReadAt(offset, out);
}

Result<std::vector<volume::DeviceExtent>> SnapshotBlockSource::DataExtents() {
  ASSIGN_OR_RETURN(auto extents, source_->DataExtents());
  std::vector<volume::DeviceExtent> out;
  out.reserve(extents.size());
  for (const auto& e : extents) out.push_back({e.offset, e.length, false, false});
  return out;
}

}  // namespace cairn::service
