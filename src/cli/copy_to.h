// Copying snapshots into another repository from the command line: the
// shared part of `cairn snapshot copy` and `cairn backup --to`. Opens the
// destination (its passphrase from its password file, CAIRN_TO_PASSWORD or a
// prompt; cli/other_repository.h), runs repo::CopySnapshots with a progress
// bar and Ctrl-C, and renders the result as text or JSON.
//
// Thread-safety: main thread only (like Context).
#ifndef CAIRN_CLI_COPY_TO_H_
#define CAIRN_CLI_COPY_TO_H_

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/context.h"
#include "core/status.h"
#include "repo/copy.h"
#include "repo/ids.h"
#include "repo/repository.h"

namespace cairn::cli {

struct CopyTarget {
  std::string url;
  std::string password_file;  // "" = CAIRN_TO_PASSWORD, then a prompt
};

struct TargetCopy {
  std::unique_ptr<repo::Repository> to;  // the opened destination
  repo::CopyResult result;
};

// Opens `target` and copies `ids` from `from` into it (repo::CopySnapshots:
// oldest first, only the chunks it lacks, snapshots already there skipped).
// `threads`: re-keying workers (0 = cores). Errors name the destination.
Result<TargetCopy> CopyToRepository(Context& ctx, repo::Repository& from, const CopyTarget& target,
                                    const std::vector<repo::SnapshotId>& ids, size_t threads);

// The JSON object of one copied (or skipped) snapshot, as `snapshot copy`
// prints it: {"snapshot_id","status","path","size","chunks_sent",
// "bytes_sent","chunks_present","bytes_read","seconds"}.
nlohmann::json SnapshotCopyJson(const repo::SnapshotCopy& copy);

// Text lines for people: one per snapshot (stdout: the ids copied; stderr:
// what was sent) and a summary naming `to`.
void PrintCopyText(Context& ctx, const repo::CopyResult& result, const std::string& to);

}  // namespace cairn::cli

#endif  // CAIRN_CLI_COPY_TO_H_
