// cairn volume list            describe-volumes: id, size, type, state, attachments, created
// cairn volume show VOL        everything about one volume
//
// JSON: list → an array of volume objects; show → one (docs/api.md).
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/daemon_client.h"
#include "cli/output.h"

namespace cairn::cli {
namespace {

Status RunList(Context& ctx) {
  ASSIGN_OR_RETURN(nlohmann::json doc, CallDaemon("GET", "/v1/volumes"));
  const nlohmann::json volumes = doc.value("volumes", nlohmann::json::array());
  if (ctx.json()) {
    ctx.PrintJson(volumes);
    return Status::OK();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& v : volumes) rows.push_back(VolumeTableRow(v));
  ctx.Print(FormatTable(VolumeTableHeader(), rows));
  ctx.Note(std::to_string(rows.size()) + " volume" + (rows.size() == 1 ? "" : "s") + "\n");
  return Status::OK();
}

Status RunShow(Context& ctx, const std::string& id) {
  ASSIGN_OR_RETURN(nlohmann::json v, CallDaemon("GET", "/v1/volumes/" + id));
  if (ctx.json()) {
    ctx.PrintJson(v);
  } else {
    ctx.Print(VolumeDetails(v));
  }
  return Status::OK();
}

}  // namespace

void RegisterVolumeList(CLI::App& volume, Context& ctx) {
  CLI::App* list = volume.add_subcommand("list", "List volumes");
  list->callback([&ctx] { ctx.SetAction([&ctx] { return RunList(ctx); }); });

  auto id = std::make_shared<std::string>();
  CLI::App* show = volume.add_subcommand("show", "Show one volume");
  show->add_option("VOLUME", *id, "The volume id (vol-…)")->required();
  show->callback([&ctx, id] { ctx.SetAction([&ctx, id] { return RunShow(ctx, *id); }); });
}

}  // namespace cairn::cli
