// cairn volume attach VOL      export it over NBD; prints the NBD URI
// cairn volume detach VOL      stop exporting it; its NBD clients are disconnected
//
// Only attached volumes are served to NBD clients. JSON: the volume object
// (attach adds "uri").
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/daemon_client.h"

namespace cairn::cli {
namespace {

Status RunAttach(Context& ctx, const std::string& id) {
  ASSIGN_OR_RETURN(nlohmann::json v, CallDaemon("POST", "/v1/volumes/" + id + "/attach"));
  std::string uri;
  for (const auto& a : v.value("attachments", nlohmann::json::array())) {
    uri = a.value("uri", "");
  }
  if (ctx.json()) {
    v["uri"] = uri;
    ctx.PrintJson(v);
  } else {
    ctx.Print(uri + "\n");
  }
  return Status::OK();
}

Status RunDetach(Context& ctx, const std::string& id) {
  ASSIGN_OR_RETURN(nlohmann::json v, CallDaemon("POST", "/v1/volumes/" + id + "/detach"));
  if (ctx.json()) {
    ctx.PrintJson(v);
  } else {
    ctx.Note(id + " detached (" + v.value("state", "?") + ")\n");
  }
  return Status::OK();
}

}  // namespace

void RegisterVolumeAttach(CLI::App& volume, Context& ctx) {
  auto attach_id = std::make_shared<std::string>();
  CLI::App* attach =
      volume.add_subcommand("attach", "Export a volume over NBD (prints the NBD URI)");
  attach->add_option("VOLUME", *attach_id, "The volume id (vol-…)")->required();
  attach->callback([&ctx, attach_id] {
    ctx.SetAction([&ctx, attach_id] { return RunAttach(ctx, *attach_id); });
  });

  auto detach_id = std::make_shared<std::string>();
  CLI::App* detach =
      volume.add_subcommand("detach", "Stop exporting a volume (its NBD clients are disconnected)");
  detach->add_option("VOLUME", *detach_id, "The volume id (vol-…)")->required();
  detach->callback([&ctx, detach_id] {
    ctx.SetAction([&ctx, detach_id] { return RunDetach(ctx, *detach_id); });
  });
}

}  // namespace cairn::cli
