// cairn snapshot show SNAP
//
// All metadata of one snapshot: "key: value" lines, or the snapshot object
// in JSON (cli/output.h SnapshotHeaderJson). A snapshot the volume daemon
// is still uploading (no manifest yet) is shown as the daemon reports it:
// state pending, progress; one whose upload failed is not found, with the
// daemon's reason.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "cli/tags.h"
#include "cli/volume_snapshots.h"
#include "core/units.h"

namespace cairn::cli {
namespace {

std::string Line(std::string_view key, const std::string& value) {
  std::string line(key);
  line += ':';
  line.append(line.size() < 14 ? 14 - line.size() : 1, ' ');
  return line + value + "\n";
}

Status Run(Context& ctx, const std::string& snap) {
  ASSIGN_OR_RETURN(repo::SnapshotId id, repo::SnapshotId::Parse(snap));
  ASSIGN_OR_RETURN(auto repository, ctx.OpenRepository());
  Result<repo::SnapshotHeader> loaded = repository->LoadSnapshotHeader(id);
  if (!loaded.ok() && loaded.status().code() == StatusCode::kNotFound) {
    // No manifest: a snapshot the volume daemon is still uploading is known
    // to the daemon only (shown with its progress); one whose upload failed
    // never reaches the repository (not found, with the daemon's reason).
    const nlohmann::json d = DaemonSnapshot(id.str());
    const std::string state = d.is_null() ? "" : d.value("state", "");
    if (state == "pending") {
      if (ctx.json()) {
        ctx.PrintJson(d);
      } else {
        ctx.Print(DaemonSnapshotDetails(d));
      }
      return Status::OK();
    }
    if (state == "completed") loaded = repository->LoadSnapshotHeader(id);  // just finished
    if (state == "error") {
      const nlohmann::json why = d.value("error", nlohmann::json());
      return NotFoundError(loaded.status().message() +
                           " (the volume daemon's upload of it failed: " +
                           (why.is_string() ? why.get<std::string>() : "no reason given") + ")");
    }
  }
  if (!loaded.ok()) return loaded.status();
  const repo::SnapshotHeader& h = *loaded;
  if (ctx.json()) {
    ctx.PrintJson(SnapshotHeaderJson(h));
    return Status::OK();
  }
  const repo::SnapshotStats& s = h.stats;
  std::string out;
  out += Line("id", h.id.str());
  out += Line("state", h.state);
  out += Line("source", h.source);
  out += Line("host", h.host);
  out += Line("size", FormatBytes(h.size) + " (" + std::to_string(h.size) + " bytes)");
  out += Line("block size", FormatBytes(h.block_size));
  out += Line("blocks", std::to_string(h.block_count));
  out += Line("created", h.created);
  out += Line("completed", h.completed);
  out += Line("description", h.description);
  out += Line("tags", FormatTags(h.tags));
  out += Line("parent", h.parent && !h.parent->empty() ? h.parent->str() : "(none)");
  out += Line("read", FormatBytes(s.bytes_read));
  out += Line("new", FormatBytes(s.bytes_new) + " in " + std::to_string(s.chunks_new) +
                         " chunks");
  out += Line("stored", FormatBytes(s.bytes_stored));
  out += Line("duration", FormatSeconds(s.seconds));
  out += Line("map sha256", h.map_sha256);
  ctx.Print(out);
  return Status::OK();
}

}  // namespace

void RegisterSnapshotShow(CLI::App& snapshot, Context& ctx) {
  auto snap = std::make_shared<std::string>();
  CLI::App* cmd = snapshot.add_subcommand("show", "All metadata of one snapshot");
  cmd->add_option("SNAP", *snap, "Snapshot id (snap-…)")->required();
  cmd->callback([&ctx, snap] { ctx.SetAction([&ctx, snap] { return Run(ctx, *snap); }); });
}

}  // namespace cairn::cli
