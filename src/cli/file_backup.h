// The backup of a file or block device into a repository, as
// `snapshot create SOURCE` and `backup SOURCE --to …` both run it: the
// flags they share, a progress bar, Ctrl-C cancels.
#ifndef CAIRN_CLI_FILE_BACKUP_H_
#define CAIRN_CLI_FILE_BACKUP_H_

#include <cstddef>
#include <string>
#include <vector>

#include "core/status.h"
#include "repo/backup.h"
#include "repo/repository.h"

namespace cairn::cli {

class Context;

struct FileBackupFlags {
  std::string source;  // a path
  std::string description;
  std::vector<std::string> tags;  // KEY=VALUE
  std::string parent;             // empty: the default parent
  bool no_parent = false;
  size_t threads = 0;
};

// Opens the source, then (when `repository` is null) the context's
// repository, and snapshots the source into it. Errors as
// repo::CreateSnapshot, flag errors naming the flag.
Result<repo::BackupResult> BackupFile(Context& ctx, const FileBackupFlags& flags,
                                      repo::Repository* repository);

}  // namespace cairn::cli

#endif  // CAIRN_CLI_FILE_BACKUP_H_
