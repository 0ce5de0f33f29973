// cairn serve [--data-dir DIR] [--nbd-listen HOST:PORT] [--nbd-socket PATH]
//             [--api-socket PATH]          (the repository from -r / CAIRN_REPOSITORY)
//             [--events-keep-days N] [--events-keep N]
//
// Runs the volume daemon in the foreground until SIGTERM or SIGINT, then
// stops cleanly (docs/api.md "Lifecycle"). Logs one line per state change on
// stderr. Exit 0 after a clean stop; 5 when another daemon owns DIR. The
// event log keeps at most N days and N events (service/event_log.h).
#include <CLI/CLI.hpp>
#include <condition_variable>
#include <mutex>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/daemon_client.h"
#include "core/log.h"
#include "service/api_client.h"
#include "service/daemon.h"

#ifndef CAIRN_VERSION
#define CAIRN_VERSION "unknown"
#endif

namespace cairn::cli {
namespace {

struct Options {
  std::string data_dir;
  std::string nbd_listen = "127.0.0.1:10809";
  std::string nbd_socket;
  service::EventRetention events;
};

Status Run(Context& ctx, const Options& o) {
  service::DaemonOptions options;
  options.data_dir = o.data_dir.empty() ? service::DefaultDataDir() : o.data_dir;
  // Default: DIR/api.sock, in the data directory being served.
  options.api_socket = ApiSocketFlag();
  options.nbd_listen = o.nbd_listen;
  options.nbd_socket = o.nbd_socket;
  options.event_retention = o.events;
  options.version = CAIRN_VERSION;
  ASSIGN_OR_RETURN(auto repository, ctx.OpenRepository());
  options.repository = repository->Describe();
  if (!ctx.quiet && GetLogLevel() < LogLevel::kInfo) SetLogLevel(LogLevel::kInfo);

  ctx.set_cancellable(true);  // SIGTERM/SIGINT request the clean stop
  ASSIGN_OR_RETURN(auto daemon, service::Daemon::Start(options, std::move(repository)));
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  cv.wait(lock, ctx.stop_token(), [] { return false; });
  daemon->Shutdown();
  ctx.set_cancellable(false);
  return Status::OK();
}

}  // namespace

void RegisterServe(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "Run the volume daemon: volumes over NBD, snapshots of live volumes");
  cmd->add_option("--data-dir", o->data_dir,
                  "Directory the daemon owns: catalog, volumes, keys (default: "
                  "$CAIRN_DATA_DIR, /var/lib/cairn)")
      ->envname("CAIRN_DATA_DIR");
  cmd->add_option("--nbd-listen", o->nbd_listen,
                  "NBD TCP listener HOST:PORT (\"\" for none; port 0 picks a free one)")
      ->capture_default_str();
  cmd->add_option("--nbd-socket", o->nbd_socket, "NBD unix socket path (default: none)");
  cmd->add_option("--events-keep-days", o->events.keep_days,
                  "Remove events older than N days (0: no age limit)")
      ->check(CLI::Range(int64_t{0}, service::kMaxKeepDays))
      ->capture_default_str();
  cmd->add_option("--events-keep", o->events.keep_events,
                  "Keep at most the newest N events (0: no count limit)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->callback([&ctx, o] { ctx.SetAction([&ctx, o] { return Run(ctx, *o); }); });
}

}  // namespace cairn::cli
