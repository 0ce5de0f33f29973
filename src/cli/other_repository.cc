#include "cli/other_repository.h"

#include <cstdlib>
#include <utility>

#include "cli/passphrase.h"
#include "core/bytes.h"
#include "core/log.h"
#include "repo/config.h"
#include "repo/ids.h"

namespace cairn::cli {

Result<std::unique_ptr<repo::Repository>> OpenOtherRepository(Context& ctx,
                                                              const OtherRepository& other) {
  // Context::OpenExistingBackend maps a missing repository to exit 3; it
  // opens ctx.repo_url, so point that at the other repository for the call.
  const std::string own_url = std::exchange(ctx.repo_url, other.url);
  Result<std::unique_ptr<storage::Backend>> backend = ctx.OpenExistingBackend();
  ctx.repo_url = own_url;
  if (!backend.ok()) return backend.status().WithContext(other.role + " repository");
  const std::string where = (*backend)->Describe();
  const std::string what = other.role + " repository " + where;

  ASSIGN_OR_RETURN_CTX(Buffer raw, (*backend)->Get(repo::kConfigKey), "reading " + what);
  ASSIGN_OR_RETURN_CTX(repo::RepoConfig config, repo::RepoConfig::FromJson(AsStringView(raw)),
                       what);
  std::string passphrase;
  if (config.encrypted) {
    if (!other.password_file.empty()) {
      ASSIGN_OR_RETURN(passphrase, ReadPassphraseFile(other.password_file));
    } else if (const char* env = std::getenv(other.password_env)) {
      passphrase = env;
    } else {
      ASSIGN_OR_RETURN(
          passphrase, PromptPassphrase("passphrase for " + what + ": ",
                                       "no passphrase for the " + what + ": set " + other.file_env +
                                           " or " + other.password_env + ", or run on a terminal"));
    }
  }
  ASSIGN_OR_RETURN_CTX(auto repository, repo::Repository::Open(std::move(*backend), passphrase),
                       "opening the " + other.role + " repository");
  LogInfo("opened " + what + " (id " + config.id + ")");
  return repository;
}

}  // namespace cairn::cli
