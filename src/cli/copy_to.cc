#include "cli/copy_to.h"

#include <set>

#include "cli/other_repository.h"
#include "cli/output.h"
#include "core/units.h"

namespace cairn::cli {

Result<TargetCopy> CopyToRepository(Context& ctx, repo::Repository& from, const CopyTarget& target,
                                    const std::vector<repo::SnapshotId>& ids, size_t threads) {
  uint64_t total = 0;
  for (const repo::SnapshotId& id : std::set<repo::SnapshotId>(ids.begin(), ids.end())) {
    ASSIGN_OR_RETURN(repo::SnapshotHeader h, from.LoadSnapshotHeader(id));
    total += h.size;
  }
  TargetCopy out;
  ASSIGN_OR_RETURN(
      out.to,
      OpenOtherRepository(ctx, OtherRepository{target.url, "destination", target.password_file,
                                               "CAIRN_TO_PASSWORD", "CAIRN_TO_PASSWORD_FILE"}));
  Progress progress(ctx.progress_mode(), "copy", total);
  repo::CopyOptions options;
  options.threads = threads;
  options.readers = ctx.io_parallelism(ctx.repo_url);  // S3: one per connection
  options.uploaders = ctx.io_parallelism(target.url);  // S3: one per connection
  options.progress = &progress;
  options.stop = ctx.stop_token();
  ctx.set_cancellable(true);
  auto result = repo::CopySnapshots(from, *out.to, ids, options);
  ctx.set_cancellable(false);
  progress.Finish();
  if (!result.ok()) return result.status();
  out.result = std::move(*result);
  return out;
}

nlohmann::json SnapshotCopyJson(const repo::SnapshotCopy& c) {
  return {{"snapshot_id", c.id.str()},
          {"status", c.skipped ? "skipped" : "copied"},
          {"path", c.skipped ? nlohmann::json(nullptr) : nlohmann::json(c.fast ? "fast" : "rekey")},
          {"size", c.size},
          {"chunks_sent", c.chunks_sent},
          {"bytes_sent", c.bytes_sent},
          {"chunks_present", c.chunks_present},
          {"bytes_read", c.bytes_read},
          {"seconds", c.seconds}};
}

void PrintCopyText(Context& ctx, const repo::CopyResult& r, const std::string& to) {
  for (const repo::SnapshotCopy& c : r.snapshots) {
    if (c.skipped) {
      ctx.Note(c.id.str() + " is already in " + to + ": skipped\n");
      continue;
    }
    ctx.Print(c.id.str() + "\n");
    ctx.Note(c.id.str() + " copied" + (c.fast ? "" : " (re-keyed)") + ": " +
             std::to_string(c.chunks_sent) + " chunks sent (" + FormatBytes(c.bytes_sent) + "), " +
             std::to_string(c.chunks_present) + " already there, in " + FormatSeconds(c.seconds) +
             "\n");
  }
  ctx.Note(std::to_string(r.copied) + " copied, " + std::to_string(r.skipped) + " skipped to " +
           to + ": " + std::to_string(r.chunks_sent) + " chunks (" + FormatBytes(r.bytes_sent) +
           ") sent in " + FormatSeconds(r.seconds) + " (" + FormatRate(r.bytes_sent, r.seconds) +
           ")\n");
}

}  // namespace cairn::cli
