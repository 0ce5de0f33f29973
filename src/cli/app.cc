#include "cli/app.h"

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/exit_codes.h"
#include "cli/signals.h"
#include "core/log.h"

#ifndef CAIRN_VERSION
#define CAIRN_VERSION "unknown"
#endif

namespace cairn::cli {
namespace {

void AddGlobalFlags(CLI::App& app, Context& ctx) {
  app.add_option("-r,--repo", ctx.repo_url, "Repository URL or path")
      ->envname("CAIRN_REPOSITORY");
  app.add_option("--password-file", ctx.password_file,
                 "Read the passphrase from the first line of this file")
      ->envname("CAIRN_PASSWORD_FILE");
  app.add_option("--output", ctx.output, "Output format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_flag("-q,--quiet", ctx.quiet, "No progress and no warnings; results only");
  app.add_flag("-v,--verbose", ctx.verbose, "More detail on stderr (-vv for debug)");
}

void RegisterVersion(CLI::App& app, Context& ctx) {
  CLI::App* cmd = app.add_subcommand("version", "Print the version");
  cmd->callback([&ctx] {
    ctx.SetAction([&ctx] {
      if (ctx.json()) {
        ctx.PrintJson({{"version", CAIRN_VERSION}});
      } else {
        ctx.Print("cairn " CAIRN_VERSION "\n");
      }
      return Status::OK();
    });
  });
}

// `cairn help snapshot create`: the help of that command.
void RegisterHelp(CLI::App& app, Context& ctx) {
  CLI::App* cmd = app.add_subcommand("help", "Help for a command");
  auto words = std::make_shared<std::vector<std::string>>();
  cmd->add_option("COMMAND", *words, "The command, e.g. `snapshot create`");
  cmd->callback([&app, &ctx, words] {
    ctx.SetAction([&app, &ctx, words]() -> Status {
      CLI::App* target = &app;
      std::string prefix;
      for (const std::string& word : *words) {
        CLI::App* sub = nullptr;
        try {
          sub = target->get_subcommand(word);
        } catch (const CLI::OptionNotFound&) {
        }
        if (sub == nullptr || word == "help") {
          return InvalidArgumentError("no command \"" + word +
                                      "\"; run `cairn help` for the list");
        }
        prefix += (prefix.empty() ? "" : " ") + target->get_name();
        target = sub;
      }
      ctx.Print(target->help(prefix));
      return Status::OK();
    });
  });
}

int Run(int argc, char** argv, SignalWatcher& signals) {
  Context ctx(&signals);
  CLI::App app(
      "cairn: encrypted, deduplicated, incremental backups of block devices "
      "and disk images",
      "cairn");
  app.fallthrough();  // global flags after the command too (inherited)
  app.require_subcommand(1);
  app.set_version_flag("--version", "cairn " CAIRN_VERSION);
  app.footer(
      "Global flags (-r, --password-file, --output, -q, -v) may also follow the command;\n"
      "CAIRN_PASSWORD holds the passphrase. Exit codes and JSON fields: docs/cli.md.\n"
      "`cairn help COMMAND...` for a command.");
  AddGlobalFlags(app, ctx);
  RegisterVersion(app, ctx);
  RegisterHelp(app, ctx);

  CLI::App* repo = app.add_subcommand("repo", "Create, verify and maintain the repository");
  repo->require_subcommand(1);
  RegisterRepoInit(*repo, ctx);
  RegisterRepoCheck(*repo, ctx);
  RegisterRepoGc(*repo, ctx);
  RegisterRepoStats(*repo, ctx);
  RegisterRepoUnlock(*repo, ctx);
  RegisterRepoRebuildIndex(*repo, ctx);

  CLI::App* key = app.add_subcommand("key", "Manage the passphrases of the repository");
  key->require_subcommand(1);
  RegisterKeyCommands(*key, ctx);

  CLI::App* snapshot = app.add_subcommand("snapshot", "Create, list, restore and delete snapshots");
  snapshot->require_subcommand(1);
  RegisterSnapshotCreate(*snapshot, ctx);
  RegisterSnapshotList(*snapshot, ctx);
  RegisterSnapshotShow(*snapshot, ctx);
  RegisterSnapshotRestore(*snapshot, ctx);
  RegisterSnapshotDelete(*snapshot, ctx);
  RegisterSnapshotDiff(*snapshot, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::fprintf(stderr, "cairn: usage error: %s\n", e.what());
    std::fprintf(stderr, "Run `cairn help` or `cairn COMMAND --help` for usage.\n");
    if (ctx.json()) {
      std::fprintf(stdout, "%s\n",
                   ErrorJson(InvalidArgumentError(e.what()), kExitUsage).c_str());
    }
    return kExitUsage;
  }

  SetLogLevel(ctx.quiet          ? LogLevel::kQuiet
              : ctx.verbose >= 2 ? LogLevel::kDebug
              : ctx.verbose == 1 ? LogLevel::kInfo
                                 : LogLevel::kWarning);
  const Status status = ctx.RunAction();
  if (status.ok()) return kExitOk;
  return ReportError(status, ctx.error_phase(), ctx.json() && !ctx.json_printed());
}

}  // namespace

int Main(int argc, char** argv) {
  SignalWatcher signals;  // first: later threads inherit the blocked signals
  try {
    return Run(argc, argv, signals);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cairn: internal error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "cairn: internal error: unknown exception\n");
  }
  return kExitFailure;
}

}  // namespace cairn::cli
