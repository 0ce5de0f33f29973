// cairn events [--after SEQ] [--object ID] [--limit N] [--follow]
//
// The daemon's events (volumes, snapshots, policies, the daemon itself),
// oldest first, one per line: "SEQ TIME OBJECT KIND: MESSAGE". --after shows
// only those after a sequence number, --object only one object's, --limit
// only the newest N of those. --follow then keeps polling (every second)
// and prints new ones as they come, until Ctrl-C (exit 0).
//
// JSON: an array of event objects {"seq", "time", "object", "kind",
// "message"}; with --follow, one compact event object per line instead
// (JSON Lines), since the output never ends.
//
// The daemon keeps a bounded log (`serve --events-keep-days/--events-keep`):
// when events that were asked for are gone, one line says so, "events
// before SEQ were removed by retention" (stdout in text with --follow, where
// it sits between the events; stderr otherwise).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <thread>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/events.h"

namespace cairn::cli {
namespace {

struct Options {
  int64_t after = 0;
  std::string object;
  size_t limit = 0;
  bool follow = false;
};

void PrintEvent(Context& ctx, const nlohmann::json& e) {
  ctx.Print((ctx.json() ? e.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                        : EventLine(e)) +
            "\n");
}

void NoteRemoved(Context& ctx, int64_t removed_before, bool follow) {
  if (removed_before <= 0) return;
  const std::string line =
      "events before " + std::to_string(removed_before) + " were removed by retention\n";
  if (follow && !ctx.json()) {
    ctx.Print(line);
  } else {
    ctx.Note(line);
  }
}

// Prints new events every second until Ctrl-C; `after` is the last seq seen.
Status Follow(Context& ctx, const Options& o, int64_t after) {
  ctx.set_cancellable(true);
  const auto stop = ctx.stop_token();
  while (!stop.stop_requested()) {
    for (int i = 0; i < 10 && !stop.stop_requested(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (stop.stop_requested()) break;
    Result<EventList> fresh = ReadEvents({.after = after, .object = o.object});
    if (!fresh.ok()) {
      ctx.set_cancellable(false);
      return fresh.status().WithContext("events --follow");
    }
    NoteRemoved(ctx, fresh->removed_before, /*follow=*/true);
    for (const auto& e : fresh->events) PrintEvent(ctx, e);
    // Past the cut too, so a gap is told once even if no event of
    // --object follows it.
    after = std::max(fresh->last_seq, fresh->removed_before - 1);
  }
  ctx.set_cancellable(false);
  return Status::OK();  // Ctrl-C is how --follow ends
}

Status Run(Context& ctx, const Options& o) {
  if (o.after < 0) return InvalidArgumentError("--after: a sequence number is 0 or more");
  ASSIGN_OR_RETURN(EventList list,
                   ReadEvents({.after = o.after, .object = o.object, .newest = o.limit}));
  NoteRemoved(ctx, list.removed_before, o.follow);
  if (o.follow) {
    for (const auto& e : list.events) PrintEvent(ctx, e);
    return Follow(ctx, o, std::max(list.last_seq, list.removed_before - 1));
  }
  if (ctx.json()) {
    ctx.PrintJson(list.events);
    return Status::OK();
  }
  for (const auto& e : list.events) PrintEvent(ctx, e);
  if (list.events.empty()) ctx.Note("no events\n");
  return Status::OK();
}

}  // namespace

void RegisterEvents(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "events", "The daemon's events: state changes, snapshots, policy runs (oldest first)");
  cmd->add_option("--after", o->after, "Only events after this sequence number (the first column)");
  cmd->add_option("--object", o->object, "Only the events of this object (vol-…, snap-…, pol-…)");
  cmd->add_option("--limit", o->limit, "Only the newest N (default: all)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--follow,-f", o->follow,
                "Keep printing new events as they come (polls every second) until Ctrl-C");
  cmd->callback([&ctx, o] { ctx.SetAction([&ctx, o] { return Run(ctx, *o); }); });
}

}  // namespace cairn::cli
