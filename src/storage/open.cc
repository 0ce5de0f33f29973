#include "storage/open.h"

#include <cctype>
#include <string>

#include <fmt/format.h>

#include "storage/local_backend.h"

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

}  // namespace

Result<std::unique_ptr<Backend>> OpenBackend(std::string_view url, bool create) {
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
  // New schemes ("s3") go here.
  return InvalidArgumentError(fmt::format(
      "unsupported repository URL '{}': this build stores repositories in local directories; "
      "use a path",
      url));
}

}  // namespace cairn::storage
