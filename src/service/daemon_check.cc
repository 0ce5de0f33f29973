// Daemon::CheckVolume: `cairn volume check VOL` — the real `e2fsck -fn`
// against a volume's current bytes. The volume is served read-only over NBD
// on a private unix socket and shown to e2fsck as a file by nbdfuse
// (device_fsck.h); it is neither attached nor detached by the check, and
// its NBD clients keep working. Nothing of the volume is written. The work
// directory lives in DATA_DIR/check/ (short paths: a unix socket's is
// limited) and is removed afterwards. An event records the verdict.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <mutex>

#include "service/daemon.h"
#include "service/device_fsck.h"

namespace cairn::service {

Result<VolumeCheckResult> Daemon::CheckVolume(const std::string& id) {
  std::shared_ptr<volume::Volume> volume;
  VolumeCheckResult result;
  result.volume_id = id;
  {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(VolumeRecord r, UsableVolume(id));
    volume = volumes_.Get(id);
    result.state = r.state;
    result.size = r.size;
  }
  const auto start = std::chrono::steady_clock::now();
  std::string parent = options_.data_dir + "/check";
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec || parent.size() > 60) parent.clear();  // the system temp dir instead
  events_->Info(id, "check started: e2fsck -fn on a read-only NBD view");
  auto verdict = FsckDevice(volume, parent);
  if (!verdict.ok()) {
    events_->Warning(id, "check could not run: " + verdict.status().message());
    return verdict.status().WithContext("volume check " + id);
  }
  result.verdict = std::move(*verdict);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string line =
      fmt::format("check finished: e2fsck exit {} ({}) in {:.1f} s: {}", result.verdict.exit_code,
                  result.verdict.meaning, result.seconds, result.verdict.summary);
  if (result.verdict.clean) {
    events_->Info(id, line);
  } else {
    events_->Warning(id, line);
  }
  return result;
}

}  // namespace cairn::service
