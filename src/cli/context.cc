#include "cli/context.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "cli/passphrase.h"
#include "cli/signals.h"
#include "core/log.h"
#include "repo/config.h"
#include "repo/ids.h"
#include "storage/open.h"
#include "storage/s3_backend.h"

namespace cairn::cli {
namespace {

constexpr char kNoPassphrase[] =
    "no passphrase: set CAIRN_PASSWORD_FILE or CAIRN_PASSWORD, or run on a terminal";

}  // namespace

Progress::Mode Context::progress_mode() const {
  if (quiet) return Progress::Mode::kNone;
  if (json()) return Progress::Mode::kJsonLines;
  return isatty(STDERR_FILENO) ? Progress::Mode::kBar : Progress::Mode::kNone;
}

std::stop_token Context::stop_token() const {
  return signals_ != nullptr ? signals_->token() : std::stop_token();
}

void Context::set_cancellable(bool cancellable) {
  if (signals_ != nullptr) signals_->set_cancellable(cancellable);
}

Result<std::unique_ptr<storage::Backend>> Context::OpenBackend(bool create) {
  if (repo_url.empty()) {
    return InvalidArgumentError("no repository: pass -r/--repo or set CAIRN_REPOSITORY");
  }
  phase_ = ErrorPhase::kOpeningRepository;
  auto backend = storage::OpenBackend(repo_url, backend_options(create));
  if (backend.ok()) phase_ = ErrorPhase::kRunning;
  return backend;
}

storage::OpenOptions Context::backend_options(bool create) const {
  storage::OpenOptions options;
  options.create = create;
  options.s3_endpoint = s3_endpoint;
  options.s3_path_style = s3_path_style;
  options.connections = connections;
  options.retries = retries_;
  return options;
}

size_t Context::io_parallelism(std::string_view url) const {
  if (!storage::IsS3Url(url)) return 0;
  return static_cast<size_t>(connections > 0 ? connections
                                             : storage::S3Options::kDefaultConnections);
}

Result<std::unique_ptr<storage::Backend>> Context::OpenExistingBackend() {
  ASSIGN_OR_RETURN(auto backend, OpenBackend(/*create=*/false));
  phase_ = ErrorPhase::kOpeningRepository;
  auto config = backend->Stat(repo::kConfigKey);
  if (!config.ok()) {
    if (config.status().code() != StatusCode::kNotFound) return config.status();
    return NotFoundError("no cairn repository at " + backend->Describe() +
                         ": run `cairn repo init`");
  }
  phase_ = ErrorPhase::kRunning;
  return backend;
}

Result<std::unique_ptr<repo::Repository>> Context::OpenRepository() {
  // Read the plaintext config first: a missing repository is reported before
  // any prompt, and an unencrypted one needs no passphrase.
  ASSIGN_OR_RETURN(auto backend, OpenExistingBackend());
  phase_ = ErrorPhase::kOpeningRepository;
  ASSIGN_OR_RETURN(Buffer raw, backend->Get(repo::kConfigKey));
  const std::string_view text(reinterpret_cast<const char*>(raw.data()), raw.size());
  ASSIGN_OR_RETURN(repo::RepoConfig config, repo::RepoConfig::FromJson(text));
  std::string passphrase;
  if (config.encrypted) {
    ASSIGN_OR_RETURN(passphrase, ReadPassphrase("passphrase for repository " +
                                                backend->Describe() + ": "));
  }
  const std::string where = backend->Describe();
  ASSIGN_OR_RETURN(auto repository,
                   repo::Repository::Open(std::move(backend), passphrase));
  phase_ = ErrorPhase::kRunning;
  LogInfo("opened repository " + where + " (id " + config.id + ")");
  return repository;
}

Result<std::string> Context::ReadPassphrase(std::string_view prompt) {
  if (!password_file.empty()) return ReadPassphraseFile(password_file);
  if (const char* env = std::getenv("CAIRN_PASSWORD")) return std::string(env);
  return PromptPassphrase(prompt, kNoPassphrase);
}

Result<std::string> Context::ReadNewPassphrase(const std::string& file,
                                               const char* env_var) {
  std::string passphrase;
  if (!file.empty()) {
    ASSIGN_OR_RETURN(passphrase, ReadPassphraseFile(file));
  } else if (const char* env = std::getenv(env_var)) {
    passphrase = env;
  } else {
    const std::string no_tty = std::string("no new passphrase: set ") + env_var +
                               " or pass a file, or run on a terminal";
    ASSIGN_OR_RETURN(passphrase, PromptPassphrase("new passphrase: ", no_tty));
    ASSIGN_OR_RETURN(std::string again,
                     PromptPassphrase("enter the new passphrase again: ", no_tty));
    if (again != passphrase) return InvalidArgumentError("the passphrases do not match");
  }
  if (passphrase.empty()) return InvalidArgumentError("the new passphrase is empty");
  return passphrase;
}

void Context::PrintJson(const nlohmann::json& doc) {
  const std::string text =
      doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  std::fprintf(stdout, "%s\n", text.c_str());
  std::fflush(stdout);
  json_printed_ = true;
}

void Context::Print(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

void Context::Note(std::string_view text) {
  if (quiet) return;
  std::fwrite(text.data(), 1, text.size(), stderr);
}

Status Context::RunAction() {
  if (!action_) return InternalError("no command chosen");
  return action_();
}

}  // namespace cairn::cli
