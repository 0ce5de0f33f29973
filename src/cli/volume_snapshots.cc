#include "cli/volume_snapshots.h"

#include <chrono>
#include <thread>

#include "cli/context.h"
#include "cli/daemon_client.h"
#include "core/log.h"
#include "core/units.h"

namespace cairn::cli {
namespace {

// The string at `key`, or "" when absent, null or not a string.
std::string Text(const nlohmann::json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : "";
}

// A daemon snapshot object (docs/api.md) in the shape of a repository
// snapshot object (docs/cli.md), plus "progress" and "error".
nlohmann::json AsSnapshotObject(const nlohmann::json& s) {
  return {{"id", s.value("id", "")},
          {"state", s.value("state", "")},
          {"source", s.value("volume_id", "")},
          {"host", nullptr},
          {"size", s.value("size", uint64_t{0})},
          {"created", s.value("created", "")},
          {"completed", s.value("completed", nlohmann::json())},
          {"description", s.value("description", "")},
          {"tags", s.value("tags", nlohmann::json::object())},
          {"parent", s.value("parent", nlohmann::json())},
          {"progress", s.value("progress", nlohmann::json::object())},
          {"read_mode", s.value("read_mode", nlohmann::json())},
          {"read_reason", s.value("read_reason", nlohmann::json())},
          {"stats", s.value("stats", nlohmann::json::object())},
          {"error", s.value("error", nlohmann::json())}};
}

}  // namespace

Result<std::vector<nlohmann::json>> TakeVolumeSnapshots(Context& ctx,
                                                        const VolumeSnapshotOptions& o) {
  nlohmann::json body = {
      {"volume_ids", o.volumes}, {"description", o.description}, {"tags", o.tags}};
  ASSIGN_OR_RETURN(nlohmann::json doc, CallDaemon("POST", "/v1/snapshots", body));
  std::vector<nlohmann::json> snapshots;
  for (const auto& s : doc.value("snapshots", nlohmann::json::array())) snapshots.push_back(s);
  if (o.wait) {
    ctx.set_cancellable(true);  // Ctrl-C stops waiting, not the upload
    const auto stop = ctx.stop_token();
    for (auto& s : snapshots) {
      while (s.value("state", "") == "pending") {
        if (stop.stop_requested()) {
          ctx.set_cancellable(false);
          return CancelledError("stopped waiting; the daemon goes on uploading " +
                                s.value("id", ""));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        ASSIGN_OR_RETURN(s, CallDaemon("GET", "/v1/snapshots/" + s.value("id", "")));
      }
    }
    ctx.set_cancellable(false);
  }
  return snapshots;
}

Status CreateVolumeSnapshots(Context& ctx, const VolumeSnapshotOptions& o) {
  ASSIGN_OR_RETURN(std::vector<nlohmann::json> snapshots, TakeVolumeSnapshots(ctx, o));
  std::vector<std::string> ids;
  for (const auto& s : snapshots) ids.push_back(s.value("id", ""));

  std::string failed;
  for (const auto& s : snapshots) {
    if (s.value("state", "") == "error") {
      failed += (failed.empty() ? "" : "; ") + s.value("id", "") + " of " +
                s.value("volume_id", "") + ": " + Text(s, "error");
    }
  }
  if (ctx.json()) {
    ctx.PrintJson({{"snapshot_id", ids.empty() ? "" : ids.front()},
                   {"snapshot_ids", ids},
                   {"snapshots", snapshots}});
  } else {
    for (const auto& s : snapshots) {
      ctx.Print(s.value("id", "") + "\n");
      const std::string state = s.value("state", "");
      std::string note = s.value("id", "") + " of " + s.value("volume_id", "") + " at " +
                         s.value("created", "") + ": " + state;
      if (state == "completed") {
        const auto& st = s.value("stats", nlohmann::json::object());
        note += ", " + FormatBytes(st.value("bytes_read", uint64_t{0})) + " read (" +
                Text(s, "read_mode") + "), " + FormatBytes(st.value("bytes_new", uint64_t{0})) +
                " new";
      } else if (state == "pending") {
        note += " (uploading in the background; `cairn snapshot list` shows progress)";
      }
      ctx.Note(note + "\n");
    }
  }
  if (!failed.empty()) return IoError("snapshot failed: " + failed);
  return Status::OK();
}

std::vector<nlohmann::json> DaemonSnapshotsNotInRepository() {
  std::vector<nlohmann::json> out;
  for (const char* state : {"pending", "error"}) {
    auto doc = CallDaemon("GET", std::string("/v1/snapshots?state=") + state);
    if (!doc.ok()) {
      if (doc.status().code() != StatusCode::kUnavailable) {
        LogWarning("daemon snapshots not listed: " + doc.status().message());
      } else {
        LogInfo("no daemon at " + ApiSocket() + ": listing the repository only");
      }
      return out;
    }
    for (const auto& s : doc->value("snapshots", nlohmann::json::array())) {
      out.push_back(AsSnapshotObject(s));
    }
  }
  return out;
}

nlohmann::json DaemonSnapshot(const std::string& id) {
  auto doc = CallDaemon("GET", "/v1/snapshots/" + id);
  if (!doc.ok()) {
    if (doc.status().code() != StatusCode::kNotFound &&
        doc.status().code() != StatusCode::kUnavailable) {
      LogWarning("daemon not asked about " + id + ": " + doc.status().message());
    }
    return nullptr;
  }
  return AsSnapshotObject(*doc);
}

std::string DaemonSnapshotDetails(const nlohmann::json& s) {
  std::string out;
  auto line = [&out](std::string_view key, const std::string& value) {
    out += std::string(key) + ":" + std::string(key.size() < 13 ? 13 - key.size() : 1, ' ') +
           value + "\n";
  };
  const uint64_t size = s.value("size", uint64_t{0});
  const std::string state = s.value("state", "");
  line("id", s.value("id", ""));
  line("state", state + (state == "pending" ? " (the daemon is uploading it)" : ""));
  line("source", s.value("source", ""));
  line("size", FormatBytes(size) + " (" + std::to_string(size) + " bytes)");
  line("created", s.value("created", ""));
  if (state == "pending") {
    const auto p = s.value("progress", nlohmann::json::object());
    const uint64_t done = p.value("bytes_done", uint64_t{0});
    const uint64_t total = p.value("bytes_total", uint64_t{0});
    line("progress", std::to_string(total > 0 ? done * 100 / total : 0) + "% (" +
                         FormatBytes(done) + " of " + FormatBytes(total) + ", " +
                         std::to_string(done) + " of " + std::to_string(total) + " bytes)");
  } else {
    line("completed", Text(s, "completed"));
  }
  line("description", s.value("description", ""));
  line("parent", Text(s, "parent").empty() ? "(none)" : Text(s, "parent"));
  if (!Text(s, "read_mode").empty()) {
    line("read mode",
         Text(s, "read_mode") +
             (Text(s, "read_reason").empty() ? "" : " (" + Text(s, "read_reason") + ")"));
  }
  if (!Text(s, "error").empty()) line("error", Text(s, "error"));
  return out;
}

}  // namespace cairn::cli
