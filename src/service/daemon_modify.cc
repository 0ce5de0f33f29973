// Daemon::ModifyVolume: `cairn volume modify VOL [--volume-type T] [--iops N]
// [--throughput MiBps]` (AWS modify-volume). The change is applied at once:
// the volume engine persists the new limits in volume.json and hands them to
// its token buckets (volume::Volume::SetQos), so NBD sessions already
// connected are held to them from their next request; then the catalog row
// and an event record it.
//
// What is kept and what is reset, as in EBS: fields not given keep the
// volume's current value while the type stays; a new type starts from its
// own defaults for whatever is not given (gp3 -> io2 needs --iops, io2 ->
// gp3 gets 3000 IOPS and 125 MiB/s).
#include <fmt/format.h>

#include <mutex>

#include "service/daemon.h"
#include "volume/volume_type.h"

namespace cairn::service {
namespace {

// The requested configuration before validation (see the top comment).
Result<volume::QosConfig> Requested(const volume::QosConfig& now, const ModifyVolumeRequest& req) {
  volume::QosConfig want = now;
  if (!req.volume_type.empty()) {
    ASSIGN_OR_RETURN(want.type, volume::ParseVolumeType(req.volume_type));
  }
  if (want.type != now.type) {
    want.iops = 0;
    want.throughput_mibps = 0;
  }
  if (req.iops != 0) want.iops = req.iops;
  if (req.throughput != 0) want.throughput_mibps = req.throughput;
  return want;
}

}  // namespace

Result<VolumeStatus> Daemon::ModifyVolume(const std::string& id, const ModifyVolumeRequest& req) {
  if (req.volume_type.empty() && req.iops == 0 && req.throughput == 0) {
    return InvalidArgumentError(
        fmt::format("volume modify {}: nothing to change: give --volume-type, --iops or "
                    "--throughput",
                    id));
  }
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(VolumeRecord r, UsableVolume(id));
  std::shared_ptr<volume::Volume> v = volumes_.Get(id);
  const volume::QosConfig now = v->info().qos;  // the engine's limits are the authority
  ASSIGN_OR_RETURN(volume::QosConfig want, Requested(now, req));
  ASSIGN_OR_RETURN_CTX(want, volume::ValidateQos(want), "volume modify " + id);
  if (want == now) return StatusOf(r);

  RETURN_IF_ERROR_CTX(v->SetQos(want), "volume modify " + id);
  VolumeRecord updated = r;
  updated.volume_type = std::string(volume::VolumeTypeName(want.type));
  updated.iops = want.iops;
  updated.throughput_mibps = want.throughput_mibps;
  if (Status s = catalog_->UpdateVolume(updated); !s.ok()) {
    // Keep the engine and the catalog saying the same thing.
    v->SetQos(now).IgnoreError();
    return s.WithContext("recording the new limits of " + id + " (the old ones still apply)");
  }
  events_->Info(
      id, fmt::format("modified: {} -> {} (applies now, also to its NBD sessions)",
                      volume::DescribeLimits(now, r.size), volume::DescribeLimits(want, r.size)));
  return StatusOf(updated);
}

}  // namespace cairn::service
