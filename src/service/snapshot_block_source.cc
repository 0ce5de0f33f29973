#include "service/snapshot_block_source.h"

#include <fmt/format.h>

namespace cairn::service {

Result<std::shared_ptr<SnapshotBlockSource>> SnapshotBlockSource::Open(
    repo::Repository& repo, const repo::SnapshotId& id, const SnapshotBlockSourceOptions& options) {
  repo::SnapshotSourceOptions so;
  so.readahead = options.readahead;
  so.fetch_threads = options.fetch_threads;
  so.cache_blocks = options.cache_blocks;
  ASSIGN_OR_RETURN(auto source, repo::SnapshotSource::Open(repo, id, so));
  if (source->header().state != "completed") {
    return FailedPreconditionError(fmt::format(
        "snapshot {} is {}, not completed: a volume can be made only from a completed snapshot",
        id.str(), source->header().state));
  }
  std::string describe = fmt::format("snapshot {} in {}", id.str(), repo.Describe());
  return std::shared_ptr<SnapshotBlockSource>(
      new SnapshotBlockSource(std::move(source), std::move(describe), options));
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
