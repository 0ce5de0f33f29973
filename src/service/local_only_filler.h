// LocalOnlyFiller: what serves a volume whose hydration could not resume at
// a restart (the repository unreachable, gc holding its lock) until the
// daemon's retry succeeds (service/daemon_hydrate.cc).
//
// The blocks the saved state (DIR/hydration, volume/hydration_state.h)
// marks local are served and may be written: their marks are durable, so
// no later fill overwrites what a client writes there. Every other block
// fails (kUnavailable naming the volume, the block, its offset and the
// origin snapshot); a whole-block overwrite of one fails too, since it
// would need a mark saved. Nothing is marked or saved here: the Hydrator
// that takes over loads the same state. Without a state (none readable)
// every I/O fails. Bytes beyond the source's size are zeros, always local.
//
// Thread-safety: immutable after construction; Prepare from any thread.
#ifndef CAIRN_SERVICE_LOCAL_ONLY_FILLER_H_
#define CAIRN_SERVICE_LOCAL_ONLY_FILLER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "core/status.h"
#include "volume/hydration_state.h"
#include "volume/volume.h"

namespace cairn::service {

class LocalOnlyFiller : public volume::BlockFiller {
 public:
  LocalOnlyFiller(std::string volume, std::string origin,
                  std::optional<volume::HydrationState> state)
      : volume_(std::move(volume)), origin_(std::move(origin)), state_(std::move(state)) {}
  Status Prepare(uint64_t offset, uint64_t length, bool overwrite) override;

 private:
  Status Refuse(const std::string& where) const;
  const std::string volume_, origin_;
  const std::optional<volume::HydrationState> state_;
};

}  // namespace cairn::service

#endif  // CAIRN_SERVICE_LOCAL_ONLY_FILLER_H_
