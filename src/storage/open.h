// OpenBackend: turns a repository URL from the user (flag, environment) into
// a Backend. The one place that knows which URL schemes exist; a new backend
// (S3) is added here and nowhere else.
//
//   /srv/repo, relative/dir, file:///srv/repo   LocalBackend
//   s3://bucket/prefix                          S3Backend in RetryingBackend
//                                               (settings from AWS_* variables)
//   anything else with a scheme ("http://h/x")  kInvalidArgument
//
// Thread-safety: a plain function; safe to call from any thread.
#ifndef CAIRN_STORAGE_OPEN_H_
#define CAIRN_STORAGE_OPEN_H_

#include <memory>
#include <string_view>

#include "core/status.h"
#include "storage/backend.h"

namespace cairn::storage {

// Opens the repository storage at `url`. With `create`, a missing local
// directory is created (mkdir -p); without it, a missing one is kNotFound.
// An S3 bucket is never created; a missing one is kNotFound either way.
Result<std::unique_ptr<Backend>> OpenBackend(std::string_view url, bool create);

}  // namespace cairn::storage

#endif  // CAIRN_STORAGE_OPEN_H_
