// cairn volume create --size N[G|T] [--volume-type gp3|io2|st1|sc1|standard]
//                     [--iops N] [--throughput MiBps] [--encrypted] [--tag K=V]...
// cairn volume create --snapshot-id SNAP [--size N] [--initialization-rate MiBps]
//                     [--hydrate lazy|eager] ...
//
// Asks the daemon for a new volume. Text: the volume id on stdout; JSON: the
// volume object (docs/api.md). From a snapshot, a lazy volume is available at
// once and fills in behind; with --hydrate eager the command waits (with a
// progress bar) until the volume is fully hydrated and available.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <thread>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/daemon_client.h"
#include "cli/tags.h"
#include "core/units.h"

namespace cairn::cli {
namespace {

struct Options {
  std::string size;
  std::string volume_type = "gp3";
  uint32_t iops = 0;
  uint32_t throughput = 0;
  bool encrypted = false;
  std::vector<std::string> tags;
  std::string snapshot_id;
  uint64_t initialization_rate = 0;
  std::string hydrate = "lazy";
};

// Eager: polls the volume until it leaves `creating`, drawing the bar.
Result<nlohmann::json> WaitHydrated(Context& ctx, nlohmann::json v) {
  const std::string id = v.value("id", "?");
  const nlohmann::json h0 = v.value("hydration", nlohmann::json::object());
  Progress bar(ctx.progress_mode(), "hydrating " + id, h0.value("total", uint64_t{0}));
  uint64_t shown = 0;
  for (;;) {
    const nlohmann::json h = v.value("hydration", nlohmann::json::object());
    const uint64_t done = h.value("done", uint64_t{0});
    if (done > shown) {
      bar.Add(done - shown);
      shown = done;
    }
    const std::string state = v.value("state", "?");
    if (state != "creating") {
      bar.Finish();
      if (state == "error") {
        return IoError(fmt::format("volume {} failed to hydrate: {}", id,
                                   v.value("error", nlohmann::json("?")).dump()));
      }
      return v;
    }
    if (ctx.stop_token().stop_requested()) {
      bar.Finish();
      return CancelledError(fmt::format(
          "stopped waiting; volume {} keeps hydrating in the daemon (`cairn volume show {}`)", id,
          id));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    ASSIGN_OR_RETURN(v, CallDaemon("GET", "/v1/volumes/" + id));
  }
}

Status Run(Context& ctx, const Options& o) {
  if (o.size.empty() && o.snapshot_id.empty()) {
    return InvalidArgumentError(
        "--size is required (or --snapshot-id to make the volume from a snapshot, with the "
        "snapshot's size)");
  }
  uint64_t size = 0;
  if (!o.size.empty()) {
    ASSIGN_OR_RETURN_CTX(size, ParseSize(o.size), "--size");
  }
  ASSIGN_OR_RETURN(auto tags, ParseTags(o.tags));
  nlohmann::json body = {
      {"volume_type", o.volume_type}, {"encrypted", o.encrypted}, {"tags", tags}};
  if (size > 0) body["size"] = size;
  if (o.iops > 0) body["iops"] = o.iops;
  if (o.throughput > 0) body["throughput"] = o.throughput;
  if (!o.snapshot_id.empty()) body["snapshot_id"] = o.snapshot_id;
  if (o.initialization_rate > 0) body["initialization_rate"] = o.initialization_rate;
  if (o.hydrate != "lazy") body["hydrate"] = o.hydrate;
  ASSIGN_OR_RETURN(nlohmann::json v, CallDaemon("POST", "/v1/volumes", body));
  if (o.hydrate == "eager" && v.value("state", "") == "creating") {
    ctx.set_cancellable(true);
    Result<nlohmann::json> waited = WaitHydrated(ctx, v);
    ctx.set_cancellable(false);
    ASSIGN_OR_RETURN(v, std::move(waited));
  }
  if (ctx.json()) {
    ctx.PrintJson(v);
    return Status::OK();
  }
  ctx.Print(v.value("id", "?") + "\n");
  ctx.Note(v.value("id", "?") + ": " + FormatBytes(v.value("size", uint64_t{0})) + ", " +
           v.value("limits", v.value("volume_type", "")) +
           (v.value("encrypted", false) ? ", encrypted" : "") + ", " + v.value("state", "?") +
           (HydrationText(v).empty() ? "" : ", " + HydrationText(v)) + "\n");
  return Status::OK();
}

}  // namespace

void RegisterVolumeCreate(CLI::App& volume, Context& ctx) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = volume.add_subcommand("create", "Create a volume (prints its id)");
  cmd->add_option("--size", o->size,
                  "Size: 10G, 1T, 512M (a multiple of 4 KiB); from a snapshot: at least its "
                  "size (default: the snapshot's)");
  cmd->add_option("--snapshot-id", o->snapshot_id,
                  "Make the volume from this snapshot (snap-…): usable at once, filled in behind");
  cmd->add_option("--initialization-rate", o->initialization_rate,
                  "Background hydration rate in MiB/s (default: unlimited)");
  cmd->add_option("--hydrate", o->hydrate,
                  "lazy: available at once; eager: wait until fully hydrated")
      ->check(CLI::IsMember({"lazy", "eager"}))
      ->capture_default_str();
  cmd->add_option("--volume-type", o->volume_type, "gp3, io2, st1, sc1 or standard")
      ->capture_default_str();
  cmd->add_option("--iops", o->iops, "Provisioned IOPS (gp3: 3000-16000; io2: required)");
  cmd->add_option("--throughput", o->throughput, "Throughput in MiB/s (gp3: 125-1000)");
  cmd->add_flag("--encrypted", o->encrypted, "Encrypt the volume at rest (AES-XTS)");
  cmd->add_option("--tag", o->tags, "KEY=VALUE (repeatable)")->allow_extra_args(false);
  cmd->callback([&ctx, o] { ctx.SetAction([&ctx, o] { return Run(ctx, *o); }); });
}

}  // namespace cairn::cli
