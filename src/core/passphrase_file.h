// ReadPassphraseFile: a repository passphrase kept in a file (--password-file,
// a policy's --copy-password-file), as the CLI and the daemon read it.
//
// Thread-safety: a plain function.
#ifndef CAIRN_CORE_PASSPHRASE_FILE_H_
#define CAIRN_CORE_PASSPHRASE_FILE_H_

#include <string>

#include "core/status.h"

namespace cairn {

// The first line of `path`, without its "\n" / "\r\n". kInvalidArgument
// naming the file (and errno's text) if it cannot be read.
Result<std::string> ReadPassphraseFile(const std::string& path);

}  // namespace cairn

#endif  // CAIRN_CORE_PASSPHRASE_FILE_H_
