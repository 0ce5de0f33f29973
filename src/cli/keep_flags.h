// The --keep-last/-hourly/-daily/-weekly/-monthly/-yearly flags of
// `snapshot forget` and `policy create` (repo/retention.h's rules), so both
// commands spell and explain them the same way.
//
// Thread-safety: main thread only (like the CLI11 app it registers on).
#ifndef CAIRN_CLI_KEEP_FLAGS_H_
#define CAIRN_CLI_KEEP_FLAGS_H_

#include <CLI/CLI.hpp>
#include <string>

#include "repo/retention.h"

namespace cairn::cli {

// Registers the six flags on `cmd`, writing into `rules` (which must outlive
// the parse).
inline void AddKeepFlags(CLI::App& cmd, repo::KeepRules& rules) {
  const std::string unit = " (-1: no limit)";
  cmd.add_option("--keep-last", rules.last, "Keep the newest N" + unit);
  cmd.add_option("--keep-hourly", rules.hourly,
                 "Keep the newest of each of the last N hours with one" + unit);
  cmd.add_option("--keep-daily", rules.daily,
                 "Keep the newest of each of the last N days with one" + unit);
  cmd.add_option("--keep-weekly", rules.weekly,
                 "Keep the newest of each of the last N ISO weeks with one" + unit);
  cmd.add_option("--keep-monthly", rules.monthly,
                 "Keep the newest of each of the last N months with one" + unit);
  cmd.add_option("--keep-yearly", rules.yearly,
                 "Keep the newest of each of the last N years with one" + unit);
}

}  // namespace cairn::cli

#endif  // CAIRN_CLI_KEEP_FLAGS_H_
