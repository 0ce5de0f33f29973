#include "storage/s3_credentials.h"

#include <errno.h>
#include <fmt/format.h>
#include <stdlib.h>

#include <fstream>
#include <sstream>
#include <string>

namespace cairn::storage {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::string Env(const char *name) {
  const char *v = getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

}  // namespace

Result<S3Credentials> ParseS3CredentialsFile(std::string_view text, std::string_view profile) {
  S3Credentials creds;
  bool in_profile = false;
  bool seen_profile = false;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = Trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      std::string_view name =
          line.substr(1, line.find(']') == std::string_view::npos ? std::string_view::npos
                                                                  : line.find(']') - 1);
      name = Trim(name);
      if (name.starts_with("profile ")) name = Trim(name.substr(8));
      in_profile = name == profile;
      seen_profile = seen_profile || in_profile;
      continue;
    }
    if (!in_profile) continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = Trim(line.substr(0, eq));
    std::string_view value = Trim(line.substr(eq + 1));
    if (key == "aws_access_key_id") creds.access_key_id = value;
    if (key == "aws_secret_access_key") creds.secret_access_key = value;
    if (key == "aws_session_token") creds.session_token = value;
  }
  if (!seen_profile) return NotFoundError(fmt::format("no profile [{}]", profile));
  if (creds.access_key_id.empty() || creds.secret_access_key.empty()) {
    return NotFoundError(
        fmt::format("profile [{}] lacks aws_access_key_id or aws_secret_access_key", profile));
  }
  return creds;
}

Result<S3Credentials> LoadS3Credentials() {
  S3Credentials env{Env("AWS_ACCESS_KEY_ID"), Env("AWS_SECRET_ACCESS_KEY"),
                    Env("AWS_SESSION_TOKEN"), "environment"};
  if (!env.access_key_id.empty() || !env.secret_access_key.empty()) {
    if (env.access_key_id.empty() || env.secret_access_key.empty()) {
      return InvalidArgumentError(
          "incomplete S3 credentials: set both AWS_ACCESS_KEY_ID and "
          "AWS_SECRET_ACCESS_KEY");
    }
    return env;
  }
  std::string profile = Env("AWS_PROFILE");
  if (profile.empty()) profile = "default";
  std::string path = Env("AWS_SHARED_CREDENTIALS_FILE");
  if (path.empty()) {
    std::string home = Env("HOME");
    path = (home.empty() ? std::string(".") : home) + "/.aws/credentials";
  }
  std::ifstream in(path);
  if (!in) {
    if (errno != ENOENT && errno != 0) return ErrnoToStatus(errno, "reading " + path);
    return InvalidArgumentError(
        fmt::format("no S3 credentials: set AWS_ACCESS_KEY_ID and "
                    "AWS_SECRET_ACCESS_KEY, or add a [{}] "
                    "profile to {}",
                    profile, path));
  }
  std::stringstream text;
  text << in.rdbuf();
  auto creds = ParseS3CredentialsFile(text.str(), profile);
  if (!creds.ok()) {
    return InvalidArgumentError(
        fmt::format("no S3 credentials in {}: {}", path, creds.status().message()));
  }
  creds->source = fmt::format("profile {} in {}", profile, path);
  return creds;
}

}  // namespace cairn::storage
