#include "service/policy.h"

#include <fmt/format.h>

#include <array>
#include <cstddef>

#include "core/crypto.h"
#include "service/schedule.h"

namespace cairn::service {
namespace {

using nlohmann::json;

constexpr char kPolicyPrefix[] = "pol-";
constexpr size_t kPolicyHexDigits = 17;

std::map<std::string, std::string> StringMap(const json& j) {
  std::map<std::string, std::string> out;
  if (!j.is_object()) return out;
  for (const auto& [k, v] : j.items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

std::vector<std::string> StringList(const json& j) {
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const auto& v : j) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

std::string Text(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

uint64_t Count(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

}  // namespace

std::string NewPolicyId() {
  std::array<std::byte, 9> random{};
  RandomBytes(random);
  std::string hex;
  for (std::byte b : random) hex += fmt::format("{:02x}", static_cast<unsigned>(b));
  return kPolicyPrefix + hex.substr(0, kPolicyHexDigits);
}

Status CheckPolicyId(std::string_view text) {
  const std::string_view prefix = kPolicyPrefix;
  bool ok = text.size() == prefix.size() + kPolicyHexDigits && text.starts_with(prefix);
  for (size_t i = prefix.size(); ok && i < text.size(); ++i) {
    const char c = text[i];
    ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  }
  if (ok) return Status::OK();
  return InvalidArgumentError(fmt::format(
      "\"{}\" is not a policy id (pol- and 17 hex digits; `cairn policy list` shows them)", text));
}

json KeepToJson(const repo::KeepRules& k) {
  return {{"last", k.last},     {"hourly", k.hourly},   {"daily", k.daily},
          {"weekly", k.weekly}, {"monthly", k.monthly}, {"yearly", k.yearly}};
}

Result<repo::KeepRules> KeepFromJson(const json& j) {
  repo::KeepRules k;
  if (j.is_null()) return k;
  if (!j.is_object()) return InvalidArgumentError("field \"keep\" must be an object of counts");
  const std::pair<const char*, int*> fields[] = {{"last", &k.last},       {"hourly", &k.hourly},
                                                 {"daily", &k.daily},     {"weekly", &k.weekly},
                                                 {"monthly", &k.monthly}, {"yearly", &k.yearly}};
  for (const auto& [name, value] : fields) {
    auto it = j.find(name);
    if (it == j.end() || it->is_null()) continue;
    if (!it->is_number_integer()) {
      return InvalidArgumentError(fmt::format("field \"keep.{}\" must be an integer", name));
    }
    *value = it->get<int>();
  }
  for (const auto& [name, value] : j.items()) {
    bool known = false;
    for (const auto& f : fields) known = known || name == f.first;
    if (!known) {
      return InvalidArgumentError(fmt::format(
          "field \"keep.{}\" is unknown (last, hourly, daily, weekly, monthly, yearly)", name));
    }
  }
  return k;
}

json DefinitionToJson(const PolicyDefinition& d) {
  json copy = json::array();
  for (const auto& t : d.copy_to)
    copy.push_back({{"url", t.url}, {"password_file", t.password_file}});
  return {{"name", d.name},
          {"description", d.description},
          {"volume_ids", d.volume_ids},
          {"target_tags", d.target_tags},
          {"schedule", d.schedule},
          {"keep", KeepToJson(d.keep)},
          {"copy_to", copy},
          {"snapshot_tags", d.snapshot_tags}};
}

Result<PolicyDefinition> DefinitionFromJson(const json& j) {
  if (!j.is_object()) return CorruptionError("policy definition is not a JSON object");
  PolicyDefinition d;
  d.name = Text(j, "name");
  d.description = Text(j, "description");
  d.volume_ids = StringList(j.value("volume_ids", json::array()));
  d.target_tags = StringMap(j.value("target_tags", json::object()));
  d.schedule = Text(j, "schedule");
  auto keep = KeepFromJson(j.value("keep", json()));
  if (!keep.ok()) return CorruptionError("policy definition: " + keep.status().message());
  d.keep = *keep;
  for (const auto& t : j.value("copy_to", json::array())) {
    if (t.is_object()) d.copy_to.push_back({Text(t, "url"), Text(t, "password_file")});
  }
  d.snapshot_tags = StringMap(j.value("snapshot_tags", json::object()));
  return d;
}

json RunToJson(const PolicyRun& r) {
  return {{"started", r.started}, {"finished", r.finished},   {"result", r.result},
          {"message", r.message}, {"snapshots", r.snapshots}, {"removed", r.removed},
          {"copied", r.copied}};
}

json StateToJson(const PolicyState& s) {
  return {{"enabled", s.enabled},
          {"next_run", s.next_run},
          {"runs", s.runs},
          {"failures", s.failures},
          {"last_run", s.last_run ? RunToJson(*s.last_run) : json(nullptr)}};
}

Result<PolicyState> StateFromJson(const json& j) {
  if (!j.is_object()) return CorruptionError("policy state is not a JSON object");
  PolicyState s;
  s.enabled = j.value("enabled", true);
  s.next_run = Text(j, "next_run");
  s.runs = Count(j, "runs");
  s.failures = Count(j, "failures");
  auto last = j.find("last_run");
  if (last != j.end() && last->is_object()) {
    PolicyRun r;
    r.started = Text(*last, "started");
    r.finished = Text(*last, "finished");
    r.result = Text(*last, "result");
    r.message = Text(*last, "message");
    r.snapshots = StringList(last->value("snapshots", json::array()));
    r.removed = StringList(last->value("removed", json::array()));
    r.copied = Count(*last, "copied");
    s.last_run = std::move(r);
  }
  return s;
}

Status ValidateDefinition(const PolicyDefinition& d) {
  if (d.volume_ids.empty() == d.target_tags.empty()) {
    return InvalidArgumentError(
        "policy create: name the volumes with --volume VOL, or select them by tag with --tag "
        "K=V (one of the two, not both)");
  }
  RETURN_IF_ERROR(Schedule::Parse(d.schedule).status());
  RETURN_IF_ERROR(d.keep.Validate());
  if (d.keep.empty()) {
    return InvalidArgumentError(
        "policy create: no --keep-… rule given, so every snapshot the policy takes would be "
        "removed again; give at least one (--keep-last 7 keeps the newest 7 of each volume)");
  }
  for (const auto& t : d.copy_to) {
    if (t.url.empty()) return InvalidArgumentError("--copy-to: a repository URL is required");
  }
  for (const auto& [k, v] : d.snapshot_tags) {
    if (k.empty() || k.starts_with("cairn:")) {
      return InvalidArgumentError(fmt::format(
          "--snapshot-tag \"{}\": keys starting with \"cairn:\" are cairn's own (the policy tags "
          "its snapshots {}=<id> itself)",
          k, kPolicyTag));
    }
  }
  return Status::OK();
}

std::string DescribeTargets(const PolicyDefinition& d) {
  std::string out;
  if (!d.volume_ids.empty()) {
    for (const auto& v : d.volume_ids) out += (out.empty() ? "" : ", ") + v;
    return out;
  }
  for (const auto& [k, v] : d.target_tags) out += (out.empty() ? "tag " : ", tag ") + k + "=" + v;
  return out;
}

}  // namespace cairn::service
