#include "cli/policy_text.h"

#include <fmt/format.h>

#include <chrono>

#include "cli/output.h"
#include "core/units.h"

namespace cairn::cli {
namespace {

using nlohmann::json;

// The value as text: strings as they are, null/missing "-", others dumped.
std::string Str(const json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

std::string Field(const json& obj, const char* key) {
  return obj.is_object() && obj.contains(key) ? Str(obj[key]) : "-";
}

std::string JoinStrings(const json& arr) {
  std::string out;
  if (!arr.is_array()) return out;
  for (const auto& s : arr) out += (out.empty() ? "" : ", ") + Str(s);
  return out;
}

std::string TagsText(const json& tags) {
  std::string out;
  if (!tags.is_object()) return out;
  for (auto it = tags.begin(); it != tags.end(); ++it) {
    out += (out.empty() ? "" : ",") + it.key() + "=" + Str(*it);
  }
  return out;
}

// Seconds from `started` to `finished` (RFC 3339), or -1 when unknown.
double RunSeconds(const json& run) {
  if (!run.value("started", json()).is_string() || !run.value("finished", json()).is_string()) {
    return -1;
  }
  auto a = ParseTimeUtc(run["started"].get<std::string>());
  auto b = ParseTimeUtc(run["finished"].get<std::string>());
  if (!a.ok() || !b.ok() || *b < *a) return -1;
  return std::chrono::duration<double>(*b - *a).count();
}

std::string RunsText(const json& p) {
  const int64_t runs = p.value("runs", int64_t{0});
  const int64_t failures = p.value("failures", int64_t{0});
  return std::to_string(runs) + (failures > 0 ? " (" + std::to_string(failures) + " failed)" : "");
}

std::string CopyTargetsText(const json& p) {
  std::string out;
  for (const auto& c : p.value("copy_to", json::array())) {
    std::string one = Field(c, "url");
    const std::string file = c.value("password_file", "");
    if (!file.empty()) one += " (password file " + file + ")";
    out += (out.empty() ? "" : ", ") + one;
  }
  return out.empty() ? "-" : out;
}

std::string NextRunText(const json& p) {
  if (!p.value("enabled", true)) return "- (disabled)";
  return Field(p, "next_run");
}

}  // namespace

Status CheckPolicyId(std::string_view id, std::string_view flag) {
  bool ok = id.starts_with("pol-") && id.size() > 4;
  for (char c : id.substr(std::min<size_t>(4, id.size()))) {
    ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
  }
  if (ok) return Status::OK();
  return InvalidArgumentError(fmt::format(
      "{}: \"{}\" is not a policy id (pol- and 17 hex digits); `cairn policy list` shows them",
      flag, id));
}

std::string PolicyTargetsText(const json& p) {
  const json targets = p.value("targets", json::object());
  const std::string volumes = JoinStrings(targets.value("volume_ids", json::array()));
  if (!volumes.empty()) return volumes;
  const std::string tags = TagsText(targets.value("tags", json::object()));
  return tags.empty() ? "-" : "tags " + tags;
}

std::string LastRunText(const json& run) {
  if (!run.is_object()) return "-";
  std::string out = Field(run, "result") + " at " + Field(run, "finished");
  if (const double s = RunSeconds(run); s >= 0) out += " in " + FormatSeconds(s);
  if (run.value("result", "") != "ok") {
    return out + ": " + Field(run, "message");
  }
  const size_t taken = run.value("snapshots", json::array()).size();
  const size_t removed = run.value("removed", json::array()).size();
  out += fmt::format(": {} snapshot{}, {} removed", taken, taken == 1 ? "" : "s", removed);
  if (const int64_t copied = run.value("copied", int64_t{0}); copied > 0) {
    out += fmt::format(", copied {}", copied);
  }
  return out;
}

std::string LastResultWord(const json& p) {
  if (p.value("running", false)) return "running";
  const json run = p.value("last_run", json());
  return run.is_object() ? Field(run, "result") : "-";
}

std::vector<std::string> PolicyTableHeader() {
  return {"id", "name", "targets", "schedule", "keep", "next run", "last result", "runs"};
}

std::vector<std::string> PolicyTableRow(const json& p) {
  const std::string name = p.value("name", "");
  return {Field(p, "id"),        name.empty() ? "-" : name,
          PolicyTargetsText(p),  Field(p, "schedule"),
          Field(p, "keep_text"), NextRunText(p),
          LastResultWord(p),     RunsText(p)};
}

std::string PolicyDetails(const json& p) {
  std::string out;
  auto line = [&out](std::string_view key, const std::string& value) {
    const size_t pad = key.size() < 18 ? 18 - key.size() : 1;
    out += std::string(key) + ":" + std::string(pad, ' ') + (value.empty() ? "-" : value) + "\n";
  };
  line("id", Field(p, "id"));
  line("name", p.value("name", ""));
  line("description", p.value("description", ""));
  const json targets = p.value("targets", json::object());
  if (!targets.value("volume_ids", json::array()).empty()) {
    line("volumes", JoinStrings(targets["volume_ids"]));
  } else {
    line("volumes tagged", TagsText(targets.value("tags", json::object())));
  }
  line("schedule", Field(p, "schedule"));
  line("keep", Field(p, "keep_text"));
  line("copy to", CopyTargetsText(p));
  line("snapshot tags", TagsText(p.value("snapshot_tags", json::object())));
  line("enabled", p.value("enabled", true) ? "yes" : "no");
  line("created", Field(p, "created"));
  line("next run", NextRunText(p));
  line("running", p.value("running", false) ? "yes" : "no");
  line("runs", RunsText(p));
  const json run = p.value("last_run", json());
  if (!run.is_object()) {
    line("last run", "-");
    return out;
  }
  line("last run", LastRunText(run));
  line("  started", Field(run, "started"));
  line("  message", run.value("message", ""));
  line("  snapshots", JoinStrings(run.value("snapshots", json::array())));
  line("  removed", JoinStrings(run.value("removed", json::array())));
  line("  copied", Field(run, "copied"));
  return out;
}

}  // namespace cairn::cli
