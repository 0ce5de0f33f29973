#include "cli/file_backup.h"

#include "cli/context.h"
#include "cli/tags.h"
#include "core/progress.h"
#include "repo/source.h"

namespace cairn::cli {

Result<repo::BackupResult> BackupFile(Context& ctx, const FileBackupFlags& flags,
                                      repo::Repository* repository) {
  repo::BackupOptions options;
  ASSIGN_OR_RETURN(options.tags, ParseTags(flags.tags));
  options.description = flags.description;
  options.threads = flags.threads;
  if (flags.no_parent) {
    options.parent = repo::SnapshotId();
  } else if (!flags.parent.empty()) {
    ASSIGN_OR_RETURN(options.parent, repo::SnapshotId::Parse(flags.parent));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<repo::Source> source, repo::OpenFileSource(flags.source));
  std::unique_ptr<repo::Repository> opened;
  if (repository == nullptr) {
    ASSIGN_OR_RETURN(opened, ctx.OpenRepository());
    repository = opened.get();
  }
  options.uploaders = ctx.io_parallelism(ctx.repo_url);  // S3: one per connection
  Progress progress(ctx.progress_mode(), "backup", source->size());
  options.progress = &progress;
  options.stop = ctx.stop_token();
  ctx.set_cancellable(true);
  auto result = repo::CreateSnapshot(*repository, *source, options);
  ctx.set_cancellable(false);
  progress.Finish();
  return result;
}

}  // namespace cairn::cli
