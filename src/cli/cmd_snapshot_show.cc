// cairn snapshot show SNAP
//
// All metadata of one snapshot: "key: value" lines, or the snapshot object
// in JSON (cli/output.h SnapshotHeaderJson).
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "cli/tags.h"
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
  ASSIGN_OR_RETURN(repo::SnapshotHeader h, repository->LoadSnapshotHeader(id));
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
