#include "cli/app.h"

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/daemon_client.h"
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
  app.add_option("--s3-endpoint", ctx.s3_endpoint,
                 "S3 endpoint URL, e.g. http://127.0.0.1:7480 (default: AWS_ENDPOINT_URL, "
                 "else AWS)");
  app.add_flag("--s3-path-style", ctx.s3_path_style,
               "Path-style S3 addressing (ENDPOINT/bucket/key) instead of virtual-hosted");
  app.add_option("--connections", ctx.connections,
                 "S3 requests in flight at once; also the backup's uploaders and the "
                 "restore's readers (default 8)")
      ->check(CLI::PositiveNumber);
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

// Finds the option `name` ("-r", "--repo") on `app` or the commands above it.
const CLI::Option* FindOption(const CLI::App* app, const std::string& name) {
  for (; app != nullptr; app = app->get_parent()) {
    if (const CLI::Option* opt = app->get_option_no_throw(name)) return opt;
  }
  return nullptr;
}

// For "a subcommand is required": which word was not a command, or which
// command needs one more word, and what the choices are.
std::string ExplainMissingCommand(CLI::App& app, int argc, char** argv) {
  CLI::App* current = &app;
  std::string path = "cairn";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;
    if (arg.size() > 1 && arg[0] == '-') {
      // Skip the value of an option that takes one ("-r URL", not "--repo=URL").
      const CLI::Option* opt = FindOption(current, arg);
      if (arg.find('=') == std::string::npos && opt != nullptr && opt->get_type_size() > 0) ++i;
      continue;
    }
    CLI::App* sub = nullptr;
    for (CLI::App* candidate : current->get_subcommands({})) {
      if (candidate->check_name(arg)) sub = candidate;
    }
    if (sub == nullptr) {
      if (current->get_subcommands({}).empty()) break;  // a positional argument
      path = "unknown command \"" + arg + "\" for `" + path + "`";
      break;
    }
    current = sub;
    path += " " + arg;
  }
  if (path.rfind("unknown", 0) != 0) path = "`" + path + "` needs a command";
  std::string choices;
  for (const CLI::App* sub : current->get_subcommands({})) {
    choices += (choices.empty() ? "" : ", ") + sub->get_name();
  }
  return path + " (one of: " + choices + ")";
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
      "Global flags (-r, --password-file, --output, -q, -v, --s3-endpoint, --s3-path-style,\n"
      "--connections) may also follow the command;\n"
      "CAIRN_PASSWORD holds the passphrase. Exit codes and JSON fields: docs/cli.md.\n"
      "`cairn help COMMAND...` for a command.");
  AddGlobalFlags(app, ctx);
  AddDaemonFlags(app);  // --api-socket
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
  RegisterRepoSet(*repo, ctx);

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
  RegisterSnapshotUndelete(*snapshot, ctx);
  RegisterSnapshotForget(*snapshot, ctx);
  RegisterSnapshotDiff(*snapshot, ctx);
  RegisterSnapshotCopy(*snapshot, ctx);
  RegisterSnapshotExport(*snapshot, ctx);
  RegisterSnapshotLs(*snapshot, ctx);
  RegisterSnapshotCat(*snapshot, ctx);
  RegisterSnapshotPartitions(*snapshot, ctx);

  RegisterBackup(app, ctx);  // backup --to
  RegisterDrill(app, ctx);

  RegisterServe(app, ctx);
  CLI::App* volume = app.add_subcommand("volume", "Create, attach and manage the daemon's volumes");
  volume->require_subcommand(1);
  RegisterVolumeCreate(*volume, ctx);
  RegisterVolumeList(*volume, ctx);
  RegisterVolumeDelete(*volume, ctx);
  RegisterVolumeResize(*volume, ctx);
  RegisterVolumeModify(*volume, ctx);
  RegisterVolumeAttach(*volume, ctx);
  RegisterVolumeCheck(*volume, ctx);
  CLI::App* policy = app.add_subcommand(
      "policy", "Snapshot the daemon's volumes on a schedule, copy them, keep N (lifecycle)");
  policy->require_subcommand(1);
  RegisterPolicyCreate(*policy, ctx);
  RegisterPolicyCommands(*policy, ctx);
  RegisterPolicyModify(*policy, ctx);
  RegisterEvents(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::string what = e.what();
    if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr &&
        what.find("subcommand") != std::string::npos) {
      what = ExplainMissingCommand(app, argc, argv);
    }
    std::fprintf(stderr, "cairn: usage error: %s\n", what.c_str());
    std::fprintf(stderr, "Run `cairn help` or `cairn COMMAND --help` for usage.\n");
    if (ctx.json()) {
      std::fprintf(stdout, "%s\n",
                   ErrorJson(InvalidArgumentError(what), kExitUsage).c_str());
    }
    return kExitUsage;
  }

  SetLogLevel(ctx.quiet          ? LogLevel::kQuiet
              : ctx.verbose >= 2 ? LogLevel::kDebug
              : ctx.verbose == 1 ? LogLevel::kInfo
                                 : LogLevel::kWarning);
  const Status status = ctx.RunAction();
  if (status.ok()) return ctx.exit_code();
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
