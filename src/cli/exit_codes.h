// Exit codes of the `cairn` command (docs/cli.md "Exit codes") and the one
// place where a Status becomes an exit code and an error message.
//
// Thread-safety: plain functions.
#ifndef CAIRN_CLI_EXIT_CODES_H_
#define CAIRN_CLI_EXIT_CODES_H_

#include <string>

#include "core/status.h"

namespace cairn::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitRepoNotFound = 3;
inline constexpr int kExitUnauthenticated = 4;
inline constexpr int kExitLocked = 5;
inline constexpr int kExitDamaged = 6;
inline constexpr int kExitNotFound = 7;
inline constexpr int kExitRefused = 8;
inline constexpr int kExitNoSpace = 9;
// The work was done but some of it was left out on purpose, each part named
// in a warning: `snapshot export` wrote its archive without the entries it
// skipped (unsafe names, sockets, ...); `--allow-skipped` makes this 0.
inline constexpr int kExitPartial = 10;
inline constexpr int kExitInterrupted = 130;

// Where the error arose: kNotFound means "repository not found" (exit 3)
// only while the repository itself is being opened.
enum class ErrorPhase { kOpeningRepository, kRunning };

// REQUIRES: !status.ok().
int ExitCodeFor(const Status& status, ErrorPhase phase);

// Stable snake_case name of a code for JSON: "corruption", "not_found".
std::string ErrorCodeName(StatusCode code);

// The JSON error document:
// {"error":{"code":"corruption","message":"...","exit_code":6}}.
std::string ErrorJson(const Status& status, int exit_code);

// Prints "cairn: error: <message>" on stderr and, if `json_on_stdout`, the
// error document on stdout. Returns the exit code.
int ReportError(const Status& status, ErrorPhase phase, bool json_on_stdout);

}  // namespace cairn::cli

#endif  // CAIRN_CLI_EXIT_CODES_H_
