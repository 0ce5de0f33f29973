// cairn policy list                 id, name, targets, schedule, keep, next run, last result, runs
// cairn policy show POL             every field, the last run and the policy's last 10 events
// cairn policy delete POL           no more runs; the snapshots it made stay
// cairn policy run POL [--wait] [--timeout SECONDS]
//                                   queue a run now; --wait follows it to its end
//
// (`policy create` is cmd_policy_create.cc; `policy modify`, `enable` and
// `disable` are cmd_policy_modify.cc.) JSON: list → an array of
// policy objects (docs/api.md); show → the policy object with "events"
// added; delete → {"deleted": "pol-…"}; run → the policy object (with
// --wait, as it is once the run ended: its "last_run" is that run).
//
// `policy run --wait` polls GET /v1/policies/POL until "runs" has grown and
// "running" is false. When a run was already in progress as the run was
// queued, it waits for the next one: the run whose "started" is not before
// the moment the request was sent. A failed run is exit 1 (the run's
// message, which names the volume or copy target and what to do, is in the
// error); Ctrl-C stops waiting (exit 130), never the run.
#include <CLI/CLI.hpp>
#include <chrono>
#include <thread>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/daemon_client.h"
#include "cli/events.h"
#include "cli/output.h"
#include "cli/policy_text.h"
#include "core/units.h"

namespace cairn::cli {
namespace {

using nlohmann::json;
using Clock = std::chrono::system_clock;

constexpr size_t kShowEvents = 10;

Status RunList(Context& ctx) {
  ASSIGN_OR_RETURN(json doc, CallDaemon("GET", "/v1/policies"));
  const json policies = doc.value("policies", json::array());
  if (ctx.json()) {
    ctx.PrintJson(policies);
    return Status::OK();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : policies) rows.push_back(PolicyTableRow(p));
  ctx.Print(FormatTable(PolicyTableHeader(), rows));
  ctx.Note(std::to_string(rows.size()) + " polic" + (rows.size() == 1 ? "y" : "ies") + "\n");
  return Status::OK();
}

Status RunShow(Context& ctx, const std::string& id) {
  RETURN_IF_ERROR(CheckPolicyId(id, "POLICY"));
  ASSIGN_OR_RETURN(json p, CallDaemon("GET", "/v1/policies/" + id));
  ASSIGN_OR_RETURN(EventList events, ReadEvents({.object = id, .newest = kShowEvents}));
  if (ctx.json()) {
    p["events"] = events.events;
    ctx.PrintJson(p);
    return Status::OK();
  }
  std::string text = PolicyDetails(p);
  text += "events:" + std::string(events.events.empty() ? "            -" : "") + "\n";
  for (const auto& e : events.events) text += "  " + EventLine(e) + "\n";
  ctx.Print(text);
  return Status::OK();
}

Status RunDelete(Context& ctx, const std::string& id) {
  RETURN_IF_ERROR(CheckPolicyId(id, "POLICY"));
  ASSIGN_OR_RETURN(json doc, CallDaemon("DELETE", "/v1/policies/" + id));
  if (ctx.json()) {
    ctx.PrintJson(doc);
  } else {
    ctx.Note("deleted " + id + " (the snapshots it made stay)\n");
  }
  return Status::OK();
}

struct RunOptions {
  std::string id;
  bool wait = false;
  double timeout = 0;  // seconds; 0: no limit
};

// True when the policy's last run started at or after `since` (times in
// whole seconds, as the daemon writes them).
bool StartedSince(const json& p, Clock::time_point since) {
  const json run = p.value("last_run", json());
  if (!run.is_object() || !run.value("started", json()).is_string()) return false;
  auto started = ParseTimeUtc(run["started"].get<std::string>());
  return started.ok() && *started >= std::chrono::floor<std::chrono::seconds>(since);
}

// Polls the policy until the run queued at `queued_at` has ended.
Result<json> WaitForRun(Context& ctx, const RunOptions& o, json p, Clock::time_point queued_at) {
  const int64_t runs_before = p.value("runs", int64_t{0});
  // A run in progress when ours was queued may be an earlier one: then ours
  // is the one that started after the request.
  const bool busy = p.value("running", false);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(o.timeout);
  const auto stop = ctx.stop_token();
  for (;;) {
    if (!p.value("running", false) && p.value("runs", int64_t{0}) > runs_before &&
        (!busy || StartedSince(p, queued_at))) {
      return p;
    }
    if (stop.stop_requested()) {
      return CancelledError("stopped waiting; the run of " + o.id +
                            " goes on in the daemon (`cairn policy show " + o.id + "`)");
    }
    if (o.timeout > 0 && std::chrono::steady_clock::now() > deadline) {
      return UnavailableError("policy run --wait: the run of " + o.id + " did not end within " +
                              FormatSeconds(o.timeout) +
                              "; it goes on in the daemon (`cairn policy show " + o.id +
                              "`, `cairn events --object " + o.id + "`)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    ASSIGN_OR_RETURN(p, CallDaemon("GET", "/v1/policies/" + o.id));
  }
}

Status RunNow(Context& ctx, const RunOptions& o) {
  RETURN_IF_ERROR(CheckPolicyId(o.id, "POLICY"));
  if (o.timeout < 0) return InvalidArgumentError("--timeout: seconds, 0 or more (0: no limit)");
  const Clock::time_point queued_at = Clock::now();
  ASSIGN_OR_RETURN(json p, CallDaemon("POST", "/v1/policies/" + o.id + "/run"));
  if (!o.wait) {
    if (ctx.json()) {
      ctx.PrintJson(p);
    } else {
      ctx.Note("queued a run of " + o.id + " (`cairn policy run " + o.id +
               " --wait` follows it; `cairn events --object " + o.id + "`)\n");
    }
    return Status::OK();
  }
  ctx.set_cancellable(true);  // Ctrl-C stops waiting, not the run
  Result<json> waited = WaitForRun(ctx, o, std::move(p), queued_at);
  ctx.set_cancellable(false);
  ASSIGN_OR_RETURN(p, std::move(waited));
  const json run = p.value("last_run", json());
  const std::string number = std::to_string(p.value("runs", int64_t{0}));
  if (ctx.json()) {
    ctx.PrintJson(p);
  } else {
    ctx.Print(o.id + " run " + number + ": " + LastRunText(run) + "\n");
    if (run.is_object()) {
      for (const auto& s : run.value("snapshots", json::array())) {
        ctx.Note("  snapshot " + (s.is_string() ? s.get<std::string>() : s.dump()) + "\n");
      }
    }
  }
  if (!run.is_object() || run.value("result", "") != "ok") {
    return IoError("policy " + o.id + ": run " + number + " failed: " +
                   (run.is_object() ? run.value("message", "(no message)") : "(no last run)"));
  }
  return Status::OK();
}

}  // namespace

void RegisterPolicyCommands(CLI::App& policy, Context& ctx) {
  CLI::App* list = policy.add_subcommand("list", "List policies");
  list->callback([&ctx] { ctx.SetAction([&ctx] { return RunList(ctx); }); });

  auto show_id = std::make_shared<std::string>();
  CLI::App* show = policy.add_subcommand("show", "Show one policy, its last run and events");
  show->add_option("POLICY", *show_id, "The policy id (pol-…)")->required();
  show->callback(
      [&ctx, show_id] { ctx.SetAction([&ctx, show_id] { return RunShow(ctx, *show_id); }); });

  auto delete_id = std::make_shared<std::string>();
  CLI::App* del = policy.add_subcommand("delete", "Delete a policy (the snapshots it made stay)");
  del->add_option("POLICY", *delete_id, "The policy id (pol-…)")->required();
  del->callback([&ctx, delete_id] {
    ctx.SetAction([&ctx, delete_id] { return RunDelete(ctx, *delete_id); });
  });

  auto o = std::make_shared<RunOptions>();
  CLI::App* run = policy.add_subcommand("run", "Run a policy now");
  run->add_option("POLICY", o->id, "The policy id (pol-…)")->required();
  run->add_flag("--wait", o->wait, "Wait for the run to end; exit 1 if it failed");
  run->add_option("--timeout", o->timeout,
                  "With --wait: give up waiting after SECONDS (exit 1; the run goes on; "
                  "default 0: no limit)");
  run->callback([&ctx, o] { ctx.SetAction([&ctx, o] { return RunNow(ctx, *o); }); });
}

}  // namespace cairn::cli
