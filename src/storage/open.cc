#include "storage/open.h"

#include <cctype>
#include <string>

#include <fmt/format.h>

#include "storage/local_backend.h"
#include "storage/retry_backend.h"
#include "storage/s3_backend.h"

namespace cairn::storage {
namespace {

// The scheme of "scheme://rest" (RFC 3986: a letter, then letters, digits,
// '+', '-', '.'), or "" when `url` is a plain path.
std::string_view SchemeOf(std::string_view url) {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return {};
  std::string_view scheme = url.substr(0, sep);
  if (!std::isalpha(static_cast<unsigned char>(scheme[0]))) return {};
  for (char c : scheme) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return {};
  }
  return scheme;
}

Result<std::unique_ptr<Backend>> OpenLocal(std::string path, bool create) {
  auto local = create ? LocalBackend::Create(std::move(path)) : LocalBackend::Open(std::move(path));
  if (!local.ok()) return std::move(local).status();
  return std::unique_ptr<Backend>(std::move(local).value());
}

// An S3 bucket from the environment's settings (S3Options::FromEnvironment)
// and `options`, checked with one request so that a missing bucket, wrong
// credentials or a dead endpoint fail here with their own message, and
// wrapped in RetryingBackend. `create` does not create buckets: that is the
// operator's choice (region, policy, versioning).
Result<std::unique_ptr<Backend>> OpenS3(std::string_view url, const OpenOptions& options) {
  ASSIGN_OR_RETURN(S3Options s3_options, S3Options::FromEnvironment());
  if (!options.s3_endpoint.empty()) s3_options.endpoint = options.s3_endpoint;
  if (options.s3_path_style) s3_options.path_style = true;
  if (options.connections < 0) {
    return InvalidArgumentError(
        fmt::format("--connections {}: must be at least 1", options.connections));
  }
  if (options.connections > 0) s3_options.connections = options.connections;
  ASSIGN_OR_RETURN(std::unique_ptr<S3Backend> s3, S3Backend::Open(url, std::move(s3_options)));
  RetryPolicy policy;
  policy.counter = options.retries;
  // A server that does not answer at all when we start is most likely the
  // wrong endpoint: give up after a few seconds, not minutes.
  RetryPolicy probe = policy;
  probe.max_attempts = 4;
  RETURN_IF_ERROR(RetryCall(probe, "opening " + s3->Describe(), [&] { return s3->CheckBucket(); },
                            nullptr));
  return std::unique_ptr<Backend>(std::make_unique<RetryingBackend>(std::move(s3), policy));
}

}  // namespace

bool IsS3Url(std::string_view url) { return SchemeOf(url) == "s3"; }

Result<std::unique_ptr<Backend>> OpenBackend(std::string_view url, bool create) {
  OpenOptions options;
  options.create = create;
  return OpenBackend(url, options);
}

Result<std::unique_ptr<Backend>> OpenBackend(std::string_view url, const OpenOptions& options) {
  const bool create = options.create;
  if (url.empty()) return InvalidArgumentError("empty repository URL");
  std::string_view scheme = SchemeOf(url);
  if (scheme.empty()) return OpenLocal(std::string(url), create);
  if (scheme == "file") {
    std::string_view path = url.substr(scheme.size() + 3);
    if (!path.starts_with('/')) {
      return InvalidArgumentError(fmt::format(
          "unsupported repository URL '{}': a file URL needs an absolute path, as in file:///srv/repo",
          url));
    }
    return OpenLocal(std::string(path), create);
  }
  if (scheme == "s3") return OpenS3(url, options);
  return InvalidArgumentError(fmt::format(
      "unsupported repository URL '{}': use a local path, file:///path or s3://bucket/prefix",
      url));
}

}  // namespace cairn::storage
