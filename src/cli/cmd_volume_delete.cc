// cairn volume delete VOL [--force]
//
// Deletes a volume and its data. Refused (exit 8) while it is attached or a
// snapshot of it is still uploading, unless --force (which disconnects its
// NBD clients and abandons the uploads). JSON: {"deleted": "vol-…"}.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/daemon_client.h"

namespace cairn::cli {
namespace {

struct Options {
  std::string id;
  bool force = false;
};

Status Run(Context& ctx, const Options& o) {
  ASSIGN_OR_RETURN(nlohmann::json doc,
                   CallDaemon("DELETE", "/v1/volumes/" + o.id + (o.force ? "?force=true" : "")));
  if (ctx.json()) {
    ctx.PrintJson(doc);
  } else {
    ctx.Note("deleted " + o.id + "\n");
  }
  return Status::OK();
}

}  // namespace

void RegisterVolumeDelete(CLI::App& volume, Context& ctx) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = volume.add_subcommand("delete", "Delete a volume and its data");
  cmd->add_option("VOLUME", o->id, "The volume id (vol-…)")->required();
  cmd->add_flag("--force", o->force,
                "Delete even while attached (clients are disconnected) or uploading");
  cmd->callback([&ctx, o] { ctx.SetAction([&ctx, o] { return Run(ctx, *o); }); });
}

}  // namespace cairn::cli
