// cairn snapshot list [--source S] [--tag K=V]... [--deleted]
//
// A table (id, source, size, created, state, description), oldest first; or
// in JSON an array of snapshot objects (cli/output.h SnapshotHeaderJson).
// Manifests that cannot be read are reported as warnings on stderr. When a
// volume daemon answers (--api-socket), its snapshots that are `pending` or
// ended in `error` follow, with "progress" and "error" in JSON. --deleted
// lists the recycle bin instead (cli/recycle.h PrintRecycleBin).
#include <filesystem>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "cli/recycle.h"
#include "cli/tags.h"
#include "cli/volume_snapshots.h"
#include "core/log.h"
#include "core/units.h"

namespace cairn::cli {
namespace {

struct Options {
  std::string source;
  std::vector<std::string> tags;
  bool deleted = false;
};

// --source matches the recorded name as given, or as an absolute path.
bool SourceMatches(const std::string& recorded, const std::string& wanted) {
  if (wanted.empty() || recorded == wanted) return true;
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(wanted, ec).lexically_normal();
  return !ec && recorded == absolute.string();
}

Status Run(Context& ctx, const Options& o) {
  ASSIGN_OR_RETURN(auto wanted_tags, ParseTags(o.tags));
  ASSIGN_OR_RETURN(auto repository, ctx.OpenRepository());
  if (o.deleted) {
    return PrintRecycleBin(
        ctx, *repository, [&](const std::string& s) { return SourceMatches(s, o.source); },
        wanted_tags);
  }
  ASSIGN_OR_RETURN(repo::Repository::SnapshotList list, repository->ListSnapshots());
  for (const auto& [key, why] : list.damaged) {
    LogWarning(key + " unreadable: " + why.message() + " (run `cairn repo check`)");
  }
  std::vector<const repo::SnapshotHeader*> shown;
  for (const auto& h : list.snapshots) {
    if (SourceMatches(h.source, o.source) && TagsMatch(h.tags, wanted_tags)) {
      shown.push_back(&h);
    }
  }
  // The daemon's snapshots not (yet) in the repository.
  std::vector<nlohmann::json> from_daemon;
  for (auto& s : DaemonSnapshotsNotInRepository()) {
    const std::string id = s.value("id", "");
    bool in_repo = false;
    for (const auto& h : list.snapshots) in_repo = in_repo || h.id.str() == id;
    std::map<std::string, std::string> tags;
    const nlohmann::json tag_doc = s.value("tags", nlohmann::json::object());
    for (auto it = tag_doc.begin(); it != tag_doc.end(); ++it) {
      if (it->is_string()) tags[it.key()] = it->get<std::string>();
    }
    if (!in_repo && SourceMatches(s.value("source", ""), o.source) &&
        TagsMatch(tags, wanted_tags)) {
      from_daemon.push_back(std::move(s));
    }
  }
  if (ctx.json()) {
    nlohmann::json doc = nlohmann::json::array();
    for (const auto* h : shown) doc.push_back(SnapshotHeaderJson(*h));
    for (const auto& s : from_daemon) doc.push_back(s);
    ctx.PrintJson(doc);
    return Status::OK();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto* h : shown) {
    rows.push_back({h->id.str(), h->source, FormatBytes(h->size), h->created,
                    h->state, h->description});
  }
  for (const auto& s : from_daemon) {
    std::string state = s.value("state", "");
    const auto progress = s.value("progress", nlohmann::json::object());
    const uint64_t total = progress.value("bytes_total", uint64_t{0});
    if (state == "pending" && total > 0) {
      state += " " + std::to_string(progress.value("bytes_done", uint64_t{0}) * 100 / total) + "%";
    }
    rows.push_back({s.value("id", ""), s.value("source", ""),
                    FormatBytes(s.value("size", uint64_t{0})), s.value("created", ""), state,
                    s.value("description", "")});
  }
  ctx.Print(FormatTable({"id", "source", "size", "created", "state", "description"}, rows));
  ctx.Note(std::to_string(rows.size()) + " snapshot" + (rows.size() == 1 ? "" : "s") + "\n");
  return Status::OK();
}

}  // namespace

void RegisterSnapshotList(CLI::App& snapshot, Context& ctx) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = snapshot.add_subcommand("list", "List snapshots");
  cmd->add_option("--source", o->source, "Only snapshots of this source");
  cmd->add_option("--tag", o->tags, "Only snapshots with this KEY=VALUE tag (repeatable)")
      ->allow_extra_args(false);
  cmd->add_flag("--deleted", o->deleted,
                "List the recycle bin: deleted snapshots, when they were deleted and until "
                "when `snapshot undelete` can bring them back");
  cmd->callback([&ctx, o] { ctx.SetAction([&ctx, o] { return Run(ctx, *o); }); });
}

}  // namespace cairn::cli
