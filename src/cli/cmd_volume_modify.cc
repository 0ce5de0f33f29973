// cairn volume modify VOL [--volume-type T] [--iops N] [--throughput MiBps]
//
// Changes a volume's type and limits (AWS modify-volume), online: the daemon
// applies them at once, also to NBD clients already connected. Flags not
// given keep the volume's values while the type stays; a new type starts
// from its own defaults (docs/volumes.md). JSON: the volume object.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/daemon_client.h"

namespace cairn::cli {
namespace {

struct Options {
  std::string id;
  std::string volume_type;
  uint32_t iops = 0;
  uint32_t throughput = 0;
};

Status Run(Context& ctx, const Options& o) {
  nlohmann::json body = nlohmann::json::object();
  if (!o.volume_type.empty()) body["volume_type"] = o.volume_type;
  if (o.iops > 0) body["iops"] = o.iops;
  if (o.throughput > 0) body["throughput"] = o.throughput;
  ASSIGN_OR_RETURN(nlohmann::json v, CallDaemon("POST", "/v1/volumes/" + o.id + "/modify", body));
  if (ctx.json()) {
    ctx.PrintJson(v);
  } else {
    ctx.Note(o.id + " is now " + v.value("limits", v.value("volume_type", "?")) +
             " (applies at once, also to connected NBD clients)\n");
  }
  return Status::OK();
}

}  // namespace

void RegisterVolumeModify(CLI::App& volume, Context& ctx) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = volume.add_subcommand("modify", "Change a volume's type, IOPS or throughput");
  cmd->add_option("VOLUME", o->id, "The volume id (vol-…)")->required();
  cmd->add_option("--volume-type", o->volume_type,
                  "gp3, io2, st1, sc1 or standard (default: keep the type)");
  cmd->add_option("--iops", o->iops, "Provisioned IOPS (gp3: 3000-16000; io2: 100-64000)");
  cmd->add_option("--throughput", o->throughput, "Throughput in MiB/s (gp3: 125-1000)");
  cmd->callback([&ctx, o] { ctx.SetAction([&ctx, o] { return Run(ctx, *o); }); });
}

}  // namespace cairn::cli
