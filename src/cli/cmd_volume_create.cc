// cairn volume create --size N[G|T] [--volume-type gp3|io2|st1|sc1|standard]
//                     [--iops N] [--throughput MiBps] [--encrypted] [--tag K=V]...
//
// Asks the daemon for a new volume. Text: the volume id on stdout; JSON: the
// volume object (docs/api.md).
#include <CLI/CLI.hpp>

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
};

Status Run(Context& ctx, const Options& o) {
  ASSIGN_OR_RETURN_CTX(uint64_t size, ParseSize(o.size), "--size");
  ASSIGN_OR_RETURN(auto tags, ParseTags(o.tags));
  nlohmann::json body = {
      {"size", size}, {"volume_type", o.volume_type}, {"encrypted", o.encrypted}, {"tags", tags}};
  if (o.iops > 0) body["iops"] = o.iops;
  if (o.throughput > 0) body["throughput"] = o.throughput;
  ASSIGN_OR_RETURN(nlohmann::json v, CallDaemon("POST", "/v1/volumes", body));
  if (ctx.json()) {
    ctx.PrintJson(v);
    return Status::OK();
  }
  ctx.Print(v.value("id", "?") + "\n");
  ctx.Note(v.value("id", "?") + ": " + FormatBytes(v.value("size", uint64_t{0})) + ", " +
           v.value("limits", v.value("volume_type", "")) +
           (v.value("encrypted", false) ? ", encrypted" : "") + ", " + v.value("state", "?") +
           "\n");
  return Status::OK();
}

}  // namespace

void RegisterVolumeCreate(CLI::App& volume, Context& ctx) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = volume.add_subcommand("create", "Create a volume (prints its id)");
  cmd->add_option("--size", o->size, "Size: 10G, 1T, 512M (a multiple of 4 KiB)")->required();
  cmd->add_option("--volume-type", o->volume_type, "gp3, io2, st1, sc1 or standard")
      ->capture_default_str();
  cmd->add_option("--iops", o->iops, "Provisioned IOPS (gp3: 3000-16000; io2: required)");
  cmd->add_option("--throughput", o->throughput, "Throughput in MiB/s (gp3: 125-1000)");
  cmd->add_flag("--encrypted", o->encrypted, "Encrypt the volume at rest (AES-XTS)");
  cmd->add_option("--tag", o->tags, "KEY=VALUE (repeatable)")->allow_extra_args(false);
  cmd->callback([&ctx, o] { ctx.SetAction([&ctx, o] { return Run(ctx, *o); }); });
}

}  // namespace cairn::cli
