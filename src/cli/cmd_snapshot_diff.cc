// cairn snapshot diff SNAP1 SNAP2
//
// Changed block ranges between two snapshots (of the same repository, so of
// the same block size): "blocks 12-15 (offset 6291456, 2 MiB)" per range and
// a total; in JSON {"snapshot1","snapshot2","block_size","size1","size2",
// "ranges":[{"first_block","last_block","offset","length"}...],
// "changed_blocks","changed_bytes"}.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/diff.h"
#include "core/units.h"

namespace cairn::cli {
namespace {

Status Run(Context& ctx, const std::string& snap1, const std::string& snap2) {
  ASSIGN_OR_RETURN(repo::SnapshotId id1, repo::SnapshotId::Parse(snap1));
  ASSIGN_OR_RETURN(repo::SnapshotId id2, repo::SnapshotId::Parse(snap2));
  ASSIGN_OR_RETURN(auto repository, ctx.OpenRepository());
  ASSIGN_OR_RETURN(repo::Manifest a, repository->LoadManifest(id1));
  ASSIGN_OR_RETURN(repo::Manifest b, repository->LoadManifest(id2));
  const uint32_t bs = a.header.block_size;
  if (b.header.block_size != bs) {
    return FailedPreconditionError("snapshots have different block sizes (" +
                                   FormatBytes(bs) + ", " +
                                   FormatBytes(b.header.block_size) + ")");
  }
  const auto ranges = ChangedRanges(a.blocks, a.header.size, b.blocks, b.header.size, bs);
  uint64_t blocks = 0, bytes = 0;
  for (const auto& r : ranges) {
    blocks += r.last_block - r.first_block + 1;
    bytes += r.length;
  }
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& r : ranges) {
      list.push_back({{"first_block", r.first_block}, {"last_block", r.last_block},
                      {"offset", r.offset}, {"length", r.length}});
    }
    ctx.PrintJson({{"snapshot1", id1.str()}, {"snapshot2", id2.str()},
                   {"block_size", bs}, {"size1", a.header.size},
                   {"size2", b.header.size}, {"ranges", list},
                   {"changed_blocks", blocks}, {"changed_bytes", bytes}});
    return Status::OK();
  }
  std::string out;
  for (const auto& r : ranges) {
    out += r.first_block == r.last_block
               ? "block " + std::to_string(r.first_block)
               : "blocks " + std::to_string(r.first_block) + "-" +
                     std::to_string(r.last_block);
    out += " (offset " + std::to_string(r.offset) + ", " + FormatBytes(r.length) + ")\n";
  }
  if (a.header.size != b.header.size) {
    out += "size changed: " + FormatBytes(a.header.size) + " -> " +
           FormatBytes(b.header.size) + "\n";
  }
  out += std::to_string(blocks) + " of " +
         std::to_string(std::max(a.blocks.size(), b.blocks.size())) + " blocks changed (" +
         FormatBytes(bytes) + ") in " + std::to_string(ranges.size()) + " range" +
         (ranges.size() == 1 ? "" : "s") + "\n";
  ctx.Print(out);
  return Status::OK();
}

}  // namespace

void RegisterSnapshotDiff(CLI::App& snapshot, Context& ctx) {
  auto snap1 = std::make_shared<std::string>();
  auto snap2 = std::make_shared<std::string>();
  CLI::App* cmd = snapshot.add_subcommand("diff", "Changed block ranges between two snapshots");
  cmd->add_option("SNAP1", *snap1, "The older snapshot")->required();
  cmd->add_option("SNAP2", *snap2, "The newer snapshot")->required();
  cmd->callback([&ctx, snap1, snap2] {
    ctx.SetAction([&ctx, snap1, snap2] { return Run(ctx, *snap1, *snap2); });
  });
}

}  // namespace cairn::cli
