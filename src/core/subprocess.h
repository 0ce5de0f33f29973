// Starting the real tools cairn drives (e2fsck, nbdfuse, fusermount3).
//
// The child starts with no signal blocked and the default dispositions for
// SIGINT, SIGTERM, SIGHUP and SIGPIPE: cairn blocks signals for its signal
// thread (cli/signals.h), and a child inheriting that mask could not be
// interrupted. Its stdin is /dev/null.
#ifndef CAIRN_CORE_SUBPROCESS_H_
#define CAIRN_CORE_SUBPROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "core/status.h"

namespace cairn {

struct SpawnOptions {
  // argv[0] is a path, or a name looked up in PATH.
  std::vector<std::string> argv;
  // The child's stdout and stderr both go to this descriptor; -1: /dev/null.
  int output_fd = -1;
  // "NAME=value" entries set for the child over the inherited environment.
  std::vector<std::string> env;
};

// Starts the process and returns its pid. kNotFound "<argv0>: not found"
// when there is no such program (callers add which package installs it),
// kIoError for other failures.
Result<pid_t> SpawnProcess(const SpawnOptions& options);

// Waits for `pid` to end (retrying on EINTR) and returns its wait status
// (WIFEXITED/WEXITSTATUS apply).
Result<int> WaitProcess(pid_t pid);

}  // namespace cairn

#endif  // CAIRN_CORE_SUBPROCESS_H_
