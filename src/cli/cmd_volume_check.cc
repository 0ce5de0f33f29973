// cairn volume check VOL
//
// Runs the real `e2fsck -fn` (forced, read-only) against the volume's bytes:
// the daemon serves the volume read-only on a private NBD socket, nbdfuse
// shows it as a file and e2fsck checks that (docs/api.md, POST
// /v1/volumes/VOL/check). The volume is not attached or detached; nothing
// of it is written. A volume in use by a client may change during the check.
//
// Exit: 0 clean (e2fsck exit 0); 6 errors found (e2fsck exit 4); 1 when
// e2fsck could not check (exit 8: no ext2/3/4 filesystem, ...).
// Text: one verdict line on stdout; when not clean e2fsck's report follows
// on stderr. JSON: {"volume_id","state","size","clean","exit_code",
// "meaning","summary","output","seconds"}.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/daemon_client.h"
#include "cli/output.h"
#include "service/api_client.h"

namespace cairn::cli {
namespace {

Status Run(Context& ctx, const std::string& id) {
  // e2fsck of a large volume takes as long as it takes: no 300 s limit.
  ASSIGN_OR_RETURN(nlohmann::json v, CallDaemon("POST", "/v1/volumes/" + id + "/check", nullptr,
                                                service::kApiLongTimeout));
  const bool clean = v.value("clean", false);
  const int code = v.value("exit_code", -1);
  const std::string meaning = v.value("meaning", "");
  const std::string summary = v.value("summary", "");
  if (ctx.json()) {
    ctx.PrintJson(v);
  } else {
    ctx.Print(id + ": " + (clean ? "clean" : "NOT CLEAN") + " (e2fsck -fn exit " +
              std::to_string(code) + ": " + meaning + ") in " +
              FormatSeconds(v.value("seconds", 0.0)) + "\n");
    if (!clean) ctx.Note(v.value("output", "") + "\n");
  }
  if (clean) return Status::OK();
  const std::string what = "volume " + id + ": e2fsck -fn exit " + std::to_string(code) + " (" +
                           meaning + "): " + summary;
  if (code >= 0 && (code & 4) != 0) {
    return CorruptionError(what +
                           "; the filesystem has errors: repair it from a client (e2fsck -fy "
                           "on the attached volume) or restore a snapshot");
  }
  return IoError(what + "; nothing was checked: does the volume hold an ext2/3/4 filesystem?");
}

}  // namespace

void RegisterVolumeCheck(CLI::App& volume, Context& ctx) {
  auto id = std::make_shared<std::string>();
  CLI::App* cmd = volume.add_subcommand(
      "check", "Check a volume's ext2/3/4 filesystem with e2fsck -fn (read-only)");
  cmd->add_option("VOLUME", *id, "The volume id (vol-…)")->required();
  cmd->callback([&ctx, id] { ctx.SetAction([&ctx, id] { return Run(ctx, *id); }); });
}

}  // namespace cairn::cli
