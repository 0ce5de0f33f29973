// Passphrase sources: a file's first line (core/passphrase_file.h), or a prompt on the terminal
// without echo. (Environment variables are read by Context.)
//
// Thread-safety: PromptPassphrase touches the process's terminal; call it
// from one thread at a time.
#ifndef CAIRN_CLI_PASSPHRASE_H_
#define CAIRN_CLI_PASSPHRASE_H_

#include <string>
#include <string_view>

#include "core/passphrase_file.h"  // ReadPassphraseFile
#include "core/status.h"

namespace cairn::cli {

// True if /dev/tty can be opened (there is a controlling terminal).
bool HaveTerminal();

// Writes `prompt` to /dev/tty and reads a line with echo off. Without a
// terminal: kUnauthenticated(`no_terminal_message`). If the process is
// interrupted meanwhile, the terminal is restored first (see signals.h).
Result<std::string> PromptPassphrase(std::string_view prompt,
                                     std::string_view no_terminal_message);

}  // namespace cairn::cli

#endif  // CAIRN_CLI_PASSPHRASE_H_
