// Context: what every command shares — the global flags, opening the
// repository (passphrase included), progress mode, output helpers, the stop
// token, and the command chosen on the command line.
//
// Flow: app.cc binds the global flags to the public fields, each cmd_*.cc
// registers a CLI11 subcommand whose callback calls SetAction(); after
// parsing, Main runs RunAction() and maps a non-OK Status to an exit code
// once (exit_codes.h), using error_phase() to tell "repository not found"
// from other kNotFound errors.
//
// Thread-safety: used by the main thread only.
#ifndef CAIRN_CLI_CONTEXT_H_
#define CAIRN_CLI_CONTEXT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cli/exit_codes.h"
#include "core/progress.h"
#include "core/status.h"
#include "repo/repository.h"
#include "storage/backend.h"
#include "storage/open.h"

namespace cairn::cli {

class SignalWatcher;

class Context {
 public:
  // `signals` may be null (tests); then nothing is ever stopped.
  explicit Context(SignalWatcher* signals) : signals_(signals) {}

  // Global flags, bound by app.cc.
  std::string repo_url;       // -r/--repo, CAIRN_REPOSITORY
  std::string password_file;  // --password-file, CAIRN_PASSWORD_FILE
  std::string output = "text";
  bool quiet = false;
  int verbose = 0;
  std::string s3_endpoint;     // --s3-endpoint ("" = AWS_ENDPOINT_URL)
  bool s3_path_style = false;  // --s3-path-style
  int connections = 0;         // --connections (0 = default, S3 only)

  bool json() const { return output == "json"; }
  // kBar for text on a terminal, kJsonLines for json, kNone with -q.
  Progress::Mode progress_mode() const;

  std::stop_token stop_token() const;
  // While true, SIGINT/SIGTERM request stop instead of exiting at once.
  void set_cancellable(bool cancellable);

  // The storage at --repo. `create`: make a missing local directory.
  Result<std::unique_ptr<storage::Backend>> OpenBackend(bool create);
  // How to open any repository URL with the global flags (--s3-endpoint,
  // --s3-path-style, --connections); retries are counted in retries().
  storage::OpenOptions backend_options(bool create) const;
  // Retries made by every backend opened through this context so far.
  uint64_t retries() const { return retries_->load(); }
  // Concurrent requests that suit the repository at `url`: --connections
  // (or its default) for S3, where each request waits on the network; 0
  // ("the command's own default") for a local directory.
  size_t io_parallelism(std::string_view url) const;
  // The storage of an existing repository (its config exists; kNotFound →
  // exit 3 otherwise), for commands that need no key (repo unlock).
  Result<std::unique_ptr<storage::Backend>> OpenExistingBackend();
  // Opens the repository: backend, config (kNotFound → exit 3), passphrase
  // (only for encrypted repositories), keys.
  Result<std::unique_ptr<repo::Repository>> OpenRepository();
  // Passphrase for opening: --password-file, CAIRN_PASSWORD, prompt.
  Result<std::string> ReadPassphrase(std::string_view prompt);
  // A new passphrase from `file`, then the environment variable `env_var`,
  // then two prompts that must agree. Empty → kInvalidArgument.
  Result<std::string> ReadNewPassphrase(const std::string& file,
                                        const char* env_var);
  ErrorPhase error_phase() const { return phase_; }

  // Prints the JSON document of the command on stdout (once per run).
  void PrintJson(const nlohmann::json& doc);
  bool json_printed() const { return json_printed_; }
  // A command that did its work but must not exit 0 (exit_codes.h, e.g.
  // kExitPartial) sets its code here; errors still travel as a Status.
  void set_exit_code(int code) { exit_code_ = code; }
  int exit_code() const { return exit_code_; }
  // Result text on stdout (text mode).
  void Print(std::string_view text);
  // A note for people on stderr, unless -q.
  void Note(std::string_view text);

  void SetAction(std::function<Status()> action) { action_ = std::move(action); }
  Status RunAction();

 private:
  SignalWatcher* signals_;
  std::shared_ptr<std::atomic<uint64_t>> retries_ = std::make_shared<std::atomic<uint64_t>>(0);
  ErrorPhase phase_ = ErrorPhase::kRunning;
  bool json_printed_ = false;
  int exit_code_ = kExitOk;
  std::function<Status()> action_;
};

}  // namespace cairn::cli

#endif  // CAIRN_CLI_CONTEXT_H_
