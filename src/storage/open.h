// OpenBackend: turns a repository URL from the user (flag, environment) into
// a Backend. The one place that knows which URL schemes exist; a new backend
// (S3) is added here and nowhere else.
//
//   /srv/repo, relative/dir, file:///srv/repo   LocalBackend
//   s3://bucket/prefix                          S3Backend in RetryingBackend
//                                               (settings from AWS_* variables,
//                                               overridden by OpenOptions)
//   anything else with a scheme ("http://h/x")  kInvalidArgument
//
// Thread-safety: a plain function; safe to call from any thread.
#ifndef CAIRN_STORAGE_OPEN_H_
#define CAIRN_STORAGE_OPEN_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "storage/backend.h"

namespace cairn::storage {

// How to open a repository's storage; the CLI fills it from its global flags.
struct OpenOptions {
  // Make a missing local directory (mkdir -p); without it a missing one is
  // kNotFound. An S3 bucket is never created; a missing one is kNotFound.
  bool create = false;
  // S3 endpoint URL; "" = AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, else AWS.
  std::string s3_endpoint;
  // true: path-style addressing; false: CAIRN_S3_PATH_STYLE, else the
  // default of S3Options::path_style.
  bool s3_path_style = false;
  // S3 requests in flight; 0 = S3Options::kDefaultConnections.
  int connections = 0;
  // When set, counts every retry the returned backend makes.
  std::shared_ptr<std::atomic<uint64_t>> retries;
};

// Opens the repository storage at `url` (see above).
Result<std::unique_ptr<Backend>> OpenBackend(std::string_view url, const OpenOptions& options);
// Same, with default options but `create`.
Result<std::unique_ptr<Backend>> OpenBackend(std::string_view url, bool create);

// Whether `url` names S3 storage (s3://...): such a repository wants as many
// concurrent requests (uploaders, readers) as connections allowed.
bool IsS3Url(std::string_view url);

}  // namespace cairn::storage

#endif  // CAIRN_STORAGE_OPEN_H_
