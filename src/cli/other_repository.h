// OpenOtherRepository: opens a second repository next to the one at --repo
// (the destination of `snapshot copy`, the parameter source of `repo init
// --copy-params-from`), with its own passphrase sources.
//
// A missing repository is reported like a missing --repo (exit 3): the
// Context's error phase is used for the call. The passphrase comes from
// `password_file`, then the environment variable `password_env`, then a
// prompt naming the repository; an unencrypted repository needs none. Every
// error names the repository and its role ("destination repository X: wrong
// passphrase: ..." → exit 4).
//
// Thread-safety: main thread only (like Context).
#ifndef CAIRN_CLI_OTHER_REPOSITORY_H_
#define CAIRN_CLI_OTHER_REPOSITORY_H_

#include <memory>
#include <string>

#include "cli/context.h"
#include "core/status.h"
#include "repo/repository.h"

namespace cairn::cli {

struct OtherRepository {
  std::string url;
  std::string role;           // "destination", "parameter source"
  std::string password_file;  // its --*-password-file (env already applied)
  const char* password_env;   // e.g. "CAIRN_TO_PASSWORD"
  const char* file_env;       // e.g. "CAIRN_TO_PASSWORD_FILE", for messages
};

Result<std::unique_ptr<repo::Repository>> OpenOtherRepository(Context& ctx,
                                                              const OtherRepository& other);

}  // namespace cairn::cli

#endif  // CAIRN_CLI_OTHER_REPOSITORY_H_
