// cairn snapshot partitions SNAP
//
// The partition table (GPT or MBR) of a disk snapshot, with the filesystem
// found in each partition: a table "NUMBER START SIZE TYPE NAME FILESYSTEM",
// or, for a snapshot without a partition table, one line naming the
// filesystem on the whole device. JSON: {"snapshot_id","scheme" ("gpt",
// "mbr" or "none"),"filesystem" (whole device, when no table),
// "partitions":[{"number","offset","size","type","name","filesystem"}]}.
#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "cli/snapshot_fs.h"
#include "core/units.h"
#include "fs/fs_probe.h"
#include "fs/partition_table.h"

namespace cairn::cli {
namespace {

// Well-known partition types, for people (the raw type stays in JSON).
std::string TypeName(const fs::Partition& p) {
  static const std::pair<const char*, const char*> kKnown[] = {
      {"0fc63daf-8483-4772-8e79-3d69d8477de4", "linux"},
      {"c12a7328-f81f-11d2-ba4b-00a0c93ec93b", "efi"},
      {"0657fd6d-a4ab-43c4-84e5-0933c84b4f4f", "linux-swap"},
      {"e6d6d379-f507-44c2-a23c-238f2a3df928", "linux-lvm"},
      {"a19d880f-05fc-4d3b-a006-743f0f84911e", "linux-raid"},
      {"21686148-6449-6e6f-744e-656564454649", "bios-boot"},
      {"4f68bce3-e8cd-4db1-96e7-fbcaf984b709", "linux-root-x86-64"},
      {"ebd0a0a2-b9e5-4433-87c0-68b6b72699c7", "microsoft-basic-data"},
      {"0x83", "linux"},
      {"0x82", "linux-swap"},
      {"0x8e", "linux-lvm"},
      {"0x05", "extended"},
      {"0x0f", "extended"},
      {"0x85", "extended"},
      {"0xef", "efi"},
      {"0x07", "ntfs/exfat"},
      {"0x0b", "fat32"},
      {"0x0c", "fat32"},
  };
  for (const auto& [type, name] : kKnown) {
    if (p.type == type) return fmt::format("{} ({})", name, p.type);
  }
  return p.type;
}

Status Run(Context& ctx, const std::string& snap) {
  ASSIGN_OR_RETURN(auto opened, OpenSnapshotDevice(ctx, snap));
  std::shared_ptr<volume::BlockDevice> whole = opened->device;
  ASSIGN_OR_RETURN_CTX(std::vector<fs::Partition> parts, fs::ReadPartitions(*whole), snap);
  std::vector<std::string> types;
  for (const fs::Partition& p : parts) {
    ASSIGN_OR_RETURN(std::string type, fs::ProbeFilesystem(*fs::PartitionDevice(whole, p)));
    types.push_back(type);
  }
  std::string whole_type;
  if (parts.empty()) {
    ASSIGN_OR_RETURN(whole_type, fs::ProbeFilesystem(*whole));
  }
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (size_t i = 0; i < parts.size(); ++i) {
      list.push_back({{"number", parts[i].number},
                      {"offset", parts[i].offset},
                      {"size", parts[i].size},
                      {"type", parts[i].type},
                      {"name", parts[i].name},
                      {"filesystem", types[i]}});
    }
    nlohmann::json doc = {{"snapshot_id", opened->snapshot_id},
                          {"scheme", parts.empty() ? "none" : parts[0].scheme},
                          {"partitions", std::move(list)}};
    if (parts.empty()) doc["filesystem"] = whole_type;
    ctx.PrintJson(doc);
    return Status::OK();
  }
  if (parts.empty()) {
    ctx.Print(fmt::format("{}: no partition table; the whole device holds {}\n", snap,
                          whole_type.empty() ? "no known filesystem" : whole_type));
    return Status::OK();
  }
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < parts.size(); ++i) {
    const fs::Partition& p = parts[i];
    rows.push_back({std::to_string(p.number), std::to_string(p.offset), FormatBytes(p.size),
                    TypeName(p), p.name, types[i].empty() ? "-" : types[i]});
  }
  ctx.Print(
      fmt::format("{} ({} partition table)\n", snap, parts[0].scheme == "gpt" ? "GPT" : "MBR"));
  ctx.Print(FormatTable({"NUMBER", "START", "SIZE", "TYPE", "NAME", "FILESYSTEM"}, rows));
  return Status::OK();
}

}  // namespace

void RegisterSnapshotPartitions(CLI::App& snapshot, Context& ctx) {
  auto snap = std::make_shared<std::string>();
  CLI::App* cmd = snapshot.add_subcommand(
      "partitions", "List the partitions (GPT or MBR) of a disk snapshot and their filesystems");
  cmd->add_option("SNAP", *snap, "Snapshot id (snap-…)")->required();
  cmd->callback([&ctx, snap] { ctx.SetAction([&ctx, snap] { return Run(ctx, *snap); }); });
}

}  // namespace cairn::cli
