#include "cli/recycle.h"

#include <cstdlib>

#include "cli/context.h"
#include "cli/output.h"
#include "cli/tags.h"
#include "core/log.h"
#include "core/units.h"

namespace cairn::cli {

Result<repo::TimePoint> CommandNow() {
  const char* test_now = std::getenv("CAIRN_TEST_NOW");
  if (test_now == nullptr || *test_now == '\0') return std::chrono::system_clock::now();
  Result<repo::TimePoint> t = ParseTimeUtc(test_now);
  if (!t.ok()) return t.status().WithContext("CAIRN_TEST_NOW");
  return t;
}

Result<Removal> RemoveOrRecycle(repo::Repository& repository, const repo::SnapshotId& id,
                                bool skip_bin, repo::TimePoint now) {
  ASSIGN_OR_RETURN(std::optional<repo::BinRecord> record,
                   repo::RemoveSnapshot(repository, id, skip_bin, now));
  Removal r;
  r.id = id;
  r.binned = record.has_value();
  if (record) r.expires = record->expires;
  return r;
}

Status PrintRecycleBin(Context& ctx, repo::Repository& repository,
                       const std::function<bool(const std::string&)>& source_matches,
                       const std::map<std::string, std::string>& tags) {
  ASSIGN_OR_RETURN(repo::TimePoint now, CommandNow());
  ASSIGN_OR_RETURN(repo::BinList bin, repo::ListRecycleBin(repository));
  for (const auto& [key, why] : bin.damaged) {
    LogWarning(key + " unreadable: " + why.message() + " (run `cairn repo check`)");
  }
  nlohmann::json doc = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  for (const repo::BinEntry& e : bin.entries) {
    if (!source_matches(e.header.source) || !TagsMatch(e.header.tags, tags)) continue;
    const bool expired = e.record.Expired(now);
    nlohmann::json j = SnapshotHeaderJson(e.header);
    j["deleted"] = e.record.deleted;
    j["expires"] = e.record.expires;
    j["expired"] = expired;
    doc.push_back(std::move(j));
    rows.push_back({e.header.id.str(), e.header.source, FormatBytes(e.header.size),
                    e.header.created, e.record.deleted,
                    expired ? e.record.expires + " (expired, gc removes it)" : e.record.expires});
  }
  if (ctx.json()) {
    ctx.PrintJson(doc);
    return Status::OK();
  }
  ctx.Print(FormatTable({"id", "source", "size", "created", "deleted", "expires"}, rows));
  ctx.Note(std::to_string(rows.size()) + " snapshot" + (rows.size() == 1 ? "" : "s") +
           " in the recycle bin (period " + std::to_string(repository.config().recycle_days) +
           " days); `cairn snapshot undelete SNAP` brings one back\n");
  return Status::OK();
}

}  // namespace cairn::cli
