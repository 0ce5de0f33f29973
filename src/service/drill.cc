#include "service/drill.h"

#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>

#include "core/log.h"
#include "core/units.h"
#include "repo/lock.h"
#include "fs/filesystem_device.h"
#include "service/device_fsck.h"
#include "service/drill_export.h"
#include "service/snapshot_block_source.h"
#include "volume/hydrator.h"
#include "volume/volume.h"
#include "volume/volume_type.h"

namespace cairn::service {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// Runs one step, timing it and recording its status; true if it succeeded.
bool Step(DrillReport& report, const std::string& name, const std::function<Status()>& body) {
  const auto start = Clock::now();
  Status s = body();
  const bool ok = s.ok();
  if (!ok) LogInfo("drill step " + name + " failed: " + s.message());
  report.steps.push_back({name, std::move(s), Seconds(start, Clock::now())});
  return ok;
}

// Re-reads every block of the snapshot's range from `device`, hashes it with
// the repository's id key and compares it with the manifest.
Status VerifyBlocks(repo::Repository& repo, const repo::Manifest& manifest,
                    volume::BlockDevice& device, const DrillOptions& options, DrillReport& report) {
  const repo::SnapshotHeader& h = manifest.header;
  report.blocks_total = manifest.blocks.size();
  Buffer buf(h.block_size);
  Status first;
  for (uint64_t b = 0; b < manifest.blocks.size(); ++b) {
    if (options.stop.stop_requested()) return CancelledError("drill stopped during verify");
    const uint64_t offset = b * h.block_size;
    const uint64_t len = std::min<uint64_t>(h.block_size, h.size - offset);
    MutableByteSpan span(buf.data(), len);
    Status s = device.Read(offset, span);
    const repo::ChunkId& want = manifest.blocks[b];
    if (s.ok()) {
      const bool zero = IsAllZero(span);
      if (want.IsZero() ? zero : (!zero && repo.cipher().ComputeChunkId(span) == want)) {
        ++(want.IsZero() ? report.blocks_zero : report.blocks_verified);
      } else {
        auto loc = want.IsZero() ? std::nullopt : repo.index().Lookup(want);
        s = CorruptionError("snapshot " + h.id.str() + " block " + std::to_string(b) + " (offset " +
                            std::to_string(offset) +
                            "): the restored bytes do not match the manifest's chunk " +
                            (want.IsZero() ? std::string("(all zeros)") : want.ShortHex()) +
                            (loc ? " in pack " + loc->pack.Hex() : std::string()));
      }
    } else {
      s = s.WithContext("reading block " + std::to_string(b) + " (offset " +
                        std::to_string(offset) + ") of the restored volume");
    }
    if (!s.ok()) {
      ++report.blocks_failed;
      if (first.ok()) first = s;
    }
    if (options.progress != nullptr) options.progress->Add(len);
  }
  if (!first.ok() && report.blocks_failed > 1) {
    return Status(first.code(), first.message() + " (and " +
                                    std::to_string(report.blocks_failed - 1) +
                                    " more blocks failed)");
  }
  return first;
}

}  // namespace

Status DrillReport::first_failure() const {
  // Damaged data first: its message names the block, offset and pack, while
  // a step that only saw its effect (an export through libext2fs) may not.
  for (const DrillStep& s : steps) {
    if (s.status.code() == StatusCode::kCorruption) {
      return s.status.WithContext("drill step " + s.name);
    }
  }
  for (const DrillStep& s : steps) {
    if (!s.status.ok()) return s.status.WithContext("drill step " + s.name);
  }
  if (fsck && !fsck->clean) {
    return CorruptionError("e2fsck -fn found the restored filesystem not clean: exit " +
                           std::to_string(fsck->exit_code) + " (" + fsck->meaning + ")");
  }
  return Status::OK();
}

Result<DrillReport> RunDrill(repo::Repository& repo, const repo::SnapshotId& id,
                             const DrillOptions& options) {
  const auto start = Clock::now();
  repo::LockOptions lock_options;
  lock_options.operation = "drill";
  ASSIGN_OR_RETURN(std::unique_ptr<repo::RepoLock> lock,
                   repo::RepoLock::Acquire(repo.backend(), lock_options));
  RETURN_IF_ERROR(repo.LoadIndex().status());  // under the lock, so gc cannot race
  ASSIGN_OR_RETURN(repo::Manifest manifest, repo.LoadManifest(id));
  SnapshotBlockSourceOptions source_options;
  source_options.fetch_threads = std::max<size_t>(1, options.fetch_threads);
  ASSIGN_OR_RETURN(std::shared_ptr<SnapshotBlockSource> source,
                   SnapshotBlockSource::Open(repo, id, source_options));

  DrillReport report;
  report.snapshot = id;
  report.size = manifest.header.size;
  report.block_size = manifest.header.block_size;

  std::error_code ec;
  std::string base = options.work_parent.empty() ? std::filesystem::temp_directory_path(ec).string()
                                                 : options.work_parent;
  if (base.empty()) base = "/tmp";
  std::string tmpl = base + "/cairn-drill-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return IoError("creating the drill's work directory in " + base + ": " + std::strerror(errno) +
                   " (choose another with --work-dir)");
  }
  report.work_dir = tmpl;
  report.volume_dir = report.work_dir + "/volume";
  report.archive =
      options.export_path.empty() ? report.work_dir + "/files.tar.gz" : options.export_path;

  std::shared_ptr<volume::Volume> vol;
  std::shared_ptr<volume::Hydrator> hydrator;

  // create: a volume the snapshot's size (rounded up to the 4 KiB sector).
  const bool created = Step(report, "create", [&]() -> Status {
    volume::CreateOptions create;
    create.size =
        std::max<uint64_t>(volume::kSectorSize, (report.size + volume::kSectorSize - 1) /
                                                    volume::kSectorSize * volume::kSectorSize);
    create.block_size = std::clamp<uint32_t>(report.block_size, 4096, 4u << 20);
    create.qos.type = volume::VolumeType::kStandard;  // no QoS: the drill measures the restore
    ASSIGN_OR_RETURN(create.qos, volume::ValidateQos(create.qos));
    ASSIGN_OR_RETURN(std::unique_ptr<volume::Volume> v,
                     volume::Volume::Create(report.volume_dir, create));
    vol = std::move(v);
    volume::HydratorOptions hydrate;
    hydrate.threads = static_cast<int>(std::max<size_t>(1, options.fetch_threads));
    ASSIGN_OR_RETURN(hydrator, volume::Hydrator::Start(*vol, source, hydrate));
    report.time_until_usable = Seconds(start, Clock::now());
    return Status::OK();
  });

  if (created) {
    Step(report, "first_byte", [&]() -> Status {
      Buffer first(std::min<uint64_t>(4096, vol->Size()));
      RETURN_IF_ERROR(vol->Read(0, MutableByteSpan(first.data(), first.size())));
      report.time_to_first_byte = Seconds(start, Clock::now());
      return Status::OK();
    });
    // The filesystem's device: the whole volume or one partition of it.
    Result<fs::FilesystemDevice> chosen =
        fs::ChooseFilesystemDevice(vol, options.partition, id.str());
    if (chosen.ok()) report.partition = chosen->partition;
    Step(report, "fsck", [&]() -> Status {
      RETURN_IF_ERROR(chosen.status());
      ASSIGN_OR_RETURN(fs::FsckVerdict v, FsckDevice(chosen->device, report.work_dir));
      report.fsck = std::move(v);
      return Status::OK();
    });
    Step(report, "export", [&]() -> Status {
      RETURN_IF_ERROR(chosen.status());
      ASSIGN_OR_RETURN(DrillExport e, ExportFiles(chosen->device, report.archive));
      report.files = e.files;
      report.directories = e.directories;
      report.symlinks = e.symlinks;
      report.file_bytes = e.file_bytes;
      report.archive_bytes = e.archive_bytes;
      return Status::OK();
    });
    Step(report, "hydrate", [&]() -> Status {
      Status s = hydrator->WaitDone();
      report.bytes_hydrated = hydrator->progress().done_bytes;
      if (s.ok()) report.time_to_full_hydration = Seconds(start, Clock::now());
      return s;
    });
    Step(report, "verify",
         [&]() -> Status { return VerifyBlocks(repo, manifest, *vol, options, report); });
  }

  Step(report, "cleanup", [&]() -> Status {
    Status s;
    auto keep_first = [&s](Status next) {
      if (s.ok()) s = std::move(next);
    };
    if (hydrator) keep_first(hydrator->Stop());
    hydrator.reset();
    if (vol) keep_first(vol->Close());
    vol.reset();
    if (!options.keep) {
      std::filesystem::remove_all(report.work_dir, ec);
      if (ec) keep_first(IoError("removing " + report.work_dir + ": " + ec.message()));
    }
    return s;
  });
  lock->Release().IgnoreError();
  report.seconds = Seconds(start, Clock::now());
  report.passed = report.first_failure().ok();
  return report;
}

}  // namespace cairn::service
