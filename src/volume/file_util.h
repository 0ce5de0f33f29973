// Small file helpers for the volume directory: whole-file reads, atomic
// replacement (write a temporary, optionally sync, rename, sync the
// directory), and directory syncs. Thread-safe (plain syscalls).
#ifndef CAIRN_VOLUME_FILE_UTIL_H_
#define CAIRN_VOLUME_FILE_UTIL_H_

#include <string>

#include "core/bytes.h"
#include "core/status.h"

namespace cairn::volume {

// kNotFound when `path` does not exist.
Result<Buffer> ReadWholeFile(const std::string& path);

// Replaces `path` with `data` atomically (a reader sees the old or the new
// file, never a mix). With `sync`, the new content and the rename are
// durable on return.
Status WriteFileAtomic(const std::string& path, ByteSpan data, bool sync);

// fsync of a directory, so a create, rename or unlink in it is durable.
Status SyncDir(const std::string& dir);

bool PathExists(const std::string& path);

// unlink(); a missing file is OK.
Status RemoveFileIfExists(const std::string& path);

}  // namespace cairn::volume

#endif  // CAIRN_VOLUME_FILE_UTIL_H_
