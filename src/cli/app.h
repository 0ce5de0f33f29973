// The `cairn` command: builds the CLI11 application (global flags, command
// groups repo/key/snapshot, version, help), parses, runs the chosen command
// and returns the process exit code (docs/cli.md).
#ifndef CAIRN_CLI_APP_H_
#define CAIRN_CLI_APP_H_

namespace cairn::cli {

// The whole program. Catches every exception ("cairn: internal error: ...",
// exit 1). Call from main() before any other thread is started (it installs
// the signal watcher).
int Main(int argc, char** argv);

}  // namespace cairn::cli

#endif  // CAIRN_CLI_APP_H_
