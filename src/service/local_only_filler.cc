#include "service/local_only_filler.h"

#include <fmt/format.h>

#include <algorithm>

namespace cairn::service {

Status LocalOnlyFiller::Prepare(uint64_t offset, uint64_t length, bool) {
  if (length == 0) return Status::OK();
  if (!state_) return Refuse("");
  if (offset >= state_->source_size) return Status::OK();
  const uint64_t bs = state_->block_size;
  const uint64_t end = std::min(offset + length, state_->source_size);
  for (uint64_t b = offset / bs; b <= (end - 1) / bs; ++b) {
    if (!state_->Test(b)) return Refuse(fmt::format(" block {} (offset {})", b, b * bs));
  }
  return Status::OK();
}

Status LocalOnlyFiller::Refuse(const std::string& where) const {
  return UnavailableError(fmt::format(
      "volume {}{} is not hydrated yet from {} and its hydration could not resume "
      "(`cairn volume show {}` says why); the daemon retries",
      volume_, where, origin_, volume_));
}

}  // namespace cairn::service
