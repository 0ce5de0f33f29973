// cairn volume resize VOL --size N[G|T]
//
// Grows a volume online (it never shrinks); NBD clients see the new size
// when they reconnect. JSON: the volume object.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/daemon_client.h"
#include "core/units.h"

namespace cairn::cli {
namespace {

struct Options {
  std::string id;
  std::string size;
};

Status Run(Context& ctx, const Options& o) {
  ASSIGN_OR_RETURN_CTX(uint64_t size, ParseSize(o.size), "--size");
  ASSIGN_OR_RETURN(nlohmann::json v,
                   CallDaemon("POST", "/v1/volumes/" + o.id + "/resize", {{"size", size}}));
  if (ctx.json()) {
    ctx.PrintJson(v);
  } else {
    ctx.Note(o.id + " is now " + FormatBytes(v.value("size", uint64_t{0})) +
             " (NBD clients see it when they reconnect)\n");
  }
  return Status::OK();
}

}  // namespace

void RegisterVolumeResize(CLI::App& volume, Context& ctx) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = volume.add_subcommand("resize", "Grow a volume (online)");
  cmd->add_option("VOLUME", o->id, "The volume id (vol-…)")->required();
  cmd->add_option("--size", o->size, "The new size: 20G, 1T")->required();
  cmd->callback([&ctx, o] { ctx.SetAction([&ctx, o] { return Run(ctx, *o); }); });
}

}  // namespace cairn::cli
