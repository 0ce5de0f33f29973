#include "service/policy_change.h"

#include <fmt/format.h>

#include <utility>

#include "service/schedule.h"

namespace cairn::service {
namespace {

using nlohmann::json;

constexpr std::pair<const char*, int repo::KeepRules::*> kKeepRules[] = {
    {"last", &repo::KeepRules::last},       {"hourly", &repo::KeepRules::hourly},
    {"daily", &repo::KeepRules::daily},     {"weekly", &repo::KeepRules::weekly},
    {"monthly", &repo::KeepRules::monthly}, {"yearly", &repo::KeepRules::yearly}};

constexpr const char* kFields[] = {"name", "description", "every",        "cron",
                                   "keep", "copy_to",     "snapshot_tags"};

// A field that is absent or null is no change.
const json* Field(const json& body, const char* name) {
  auto it = body.find(name);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

Result<std::optional<std::string>> OptionalString(const json& body, const char* name) {
  const json* v = Field(body, name);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string())
    return InvalidArgumentError(fmt::format("field \"{}\" must be a string", name));
  return std::optional<std::string>(v->get<std::string>());
}

Status CheckFieldNames(const json& body) {
  for (const auto& [key, value] : body.items()) {
    if (key == "volume_ids" || key == "tags") {
      return InvalidArgumentError(fmt::format(
          "field \"{}\": a policy's targets (--volume, --tag) cannot change; create a policy for "
          "the other volumes, then delete this one (its snapshots stay)",
          key));
    }
    if (key == "enabled") {
      return InvalidArgumentError(
          "field \"enabled\": modify does not enable or disable a policy; use POST "
          "/v1/policies/{id}/enable or …/disable (`cairn policy enable|disable POL`)");
    }
    bool known = false;
    for (const char* f : kFields) known = known || key == f;
    if (!known) {
      return InvalidArgumentError(fmt::format(
          "field \"{}\" is unknown to policy modify (name, description, every, cron, keep, "
          "copy_to, snapshot_tags)",
          key));
    }
  }
  return Status::OK();
}

Result<std::map<std::string, int>> KeepField(const json& body) {
  std::map<std::string, int> out;
  const json* keep = Field(body, "keep");
  if (keep == nullptr) return out;
  if (!keep->is_object()) {
    return InvalidArgumentError(
        "field \"keep\" must be an object of counts (e.g. {\"daily\": 14})");
  }
  for (const auto& [name, value] : keep->items()) {
    bool known = false;
    for (const auto& rule : kKeepRules) known = known || name == rule.first;
    if (!known) {
      return InvalidArgumentError(fmt::format(
          "field \"keep.{}\" is unknown (last, hourly, daily, weekly, monthly, yearly)", name));
    }
    if (value.is_null()) continue;
    if (!value.is_number_integer()) {
      return InvalidArgumentError(
          fmt::format("--keep-{} (field \"keep.{}\") must be an integer", name, name));
    }
    out[name] = value.get<int>();
  }
  return out;
}

Result<std::optional<std::vector<PolicyCopyTarget>>> CopyToField(const json& body) {
  const json* copy = Field(body, "copy_to");
  if (copy == nullptr) return std::optional<std::vector<PolicyCopyTarget>>();
  if (!copy->is_array()) return InvalidArgumentError("field \"copy_to\" must be an array");
  std::vector<PolicyCopyTarget> out;
  for (const auto& t : *copy) {
    if (!t.is_object()) {
      return InvalidArgumentError(
          "field \"copy_to\" holds a non-object ({\"url\", \"password_file\"})");
    }
    ASSIGN_OR_RETURN(auto url, OptionalString(t, "url"));
    ASSIGN_OR_RETURN(auto password_file, OptionalString(t, "password_file"));
    out.push_back({url.value_or(""), password_file.value_or("")});
  }
  return std::optional<std::vector<PolicyCopyTarget>>(std::move(out));
}

Result<std::optional<std::map<std::string, std::string>>> SnapshotTagsField(const json& body) {
  const json* tags = Field(body, "snapshot_tags");
  if (tags == nullptr) return std::optional<std::map<std::string, std::string>>();
  if (!tags->is_object()) {
    return InvalidArgumentError("field \"snapshot_tags\" must be an object of strings");
  }
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : tags->items()) {
    if (!v.is_string()) {
      return InvalidArgumentError(fmt::format("field \"snapshot_tags.{}\" must be a string", k));
    }
    out[k] = v.get<std::string>();
  }
  return std::optional<std::map<std::string, std::string>>(std::move(out));
}

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

std::string OrNone(const std::string& s) { return s.empty() ? "none" : s; }

std::string Urls(const std::vector<PolicyCopyTarget>& targets) {
  if (targets.empty()) return "none";
  std::string out;
  for (size_t i = 0; i < targets.size(); ++i) {
    out += (i == 0 ? "" : ", ") + (targets[i].url.empty() ? Quoted("") : targets[i].url);
  }
  return out;
}

std::string PasswordFiles(const std::vector<PolicyCopyTarget>& targets) {
  std::string out;
  for (size_t i = 0; i < targets.size(); ++i) {
    const std::string& f = targets[i].password_file;
    out += (i == 0 ? "" : ", ") + (f.empty() ? std::string("none") : f);
  }
  return OrNone(out);
}

std::string TagsText(const std::map<std::string, std::string>& tags) {
  std::string out;
  for (const auto& [k, v] : tags) out += (out.empty() ? "" : ", ") + k + "=" + v;
  return OrNone(out);
}

}  // namespace

Result<PolicyChange> PolicyChangeFromJson(const json& body) {
  if (!body.is_object())
    return InvalidArgumentError("policy modify: the body must be a JSON object");
  RETURN_IF_ERROR(CheckFieldNames(body));
  PolicyChange c;
  ASSIGN_OR_RETURN(c.name, OptionalString(body, "name"));
  ASSIGN_OR_RETURN(c.description, OptionalString(body, "description"));
  ASSIGN_OR_RETURN(auto every, OptionalString(body, "every"));
  ASSIGN_OR_RETURN(auto cron, OptionalString(body, "cron"));
  if (every && cron) {
    return InvalidArgumentError(
        "policy modify: --every and --cron cannot be combined: give one schedule");
  }
  if (every || cron) {
    ASSIGN_OR_RETURN(Schedule s, every ? Schedule::Every(*every) : Schedule::Cron(*cron));
    c.schedule = s.ToString();
  }
  ASSIGN_OR_RETURN(c.keep, KeepField(body));
  ASSIGN_OR_RETURN(c.copy_to, CopyToField(body));
  ASSIGN_OR_RETURN(c.snapshot_tags, SnapshotTagsField(body));
  return c;
}

AppliedPolicyChange ApplyPolicyChange(const PolicyDefinition& before, const PolicyChange& c) {
  AppliedPolicyChange out{before, {}, false};
  PolicyDefinition& d = out.definition;
  auto note = [&](const char* what, const std::string& from, const std::string& to) {
    out.changes.push_back(fmt::format("{} {} → {}", what, from, to));
  };
  if (c.name && *c.name != d.name) {
    note("name", Quoted(d.name), Quoted(*c.name));
    d.name = *c.name;
  }
  if (c.description && *c.description != d.description) {
    note("description", Quoted(d.description), Quoted(*c.description));
    d.description = *c.description;
  }
  if (c.schedule && *c.schedule != d.schedule) {
    note("schedule", d.schedule, *c.schedule);
    d.schedule = *c.schedule;
    out.schedule_changed = true;
  }
  repo::KeepRules keep = d.keep;
  for (const auto& [name, count] : c.keep) {
    for (const auto& [rule, member] : kKeepRules) {
      if (name == rule) keep.*member = count;
    }
  }
  // Describe() names every rule with its count, so equal text is equal rules.
  if (keep.Describe() != d.keep.Describe()) {
    note("keep", OrNone(d.keep.Describe()), OrNone(keep.Describe()));
    d.keep = keep;
  }
  if (c.copy_to) {
    if (Urls(*c.copy_to) != Urls(d.copy_to)) {
      note("copy to", Urls(d.copy_to), Urls(*c.copy_to));
    } else if (PasswordFiles(*c.copy_to) != PasswordFiles(d.copy_to)) {
      note("copy password file", PasswordFiles(d.copy_to), PasswordFiles(*c.copy_to));
    }
    d.copy_to = *c.copy_to;
  }
  if (c.snapshot_tags && *c.snapshot_tags != d.snapshot_tags) {
    note("snapshot tags", TagsText(d.snapshot_tags), TagsText(*c.snapshot_tags));
    d.snapshot_tags = *c.snapshot_tags;
  }
  return out;
}

Status ValidateChangedDefinition(const PolicyDefinition& d) {
  RETURN_IF_ERROR(d.keep.Validate());
  if (d.keep.empty()) {
    return InvalidArgumentError(
        "policy modify: these --keep-… values leave no keep rule, so every snapshot the policy "
        "takes would be removed; keep at least one above 0 (--keep-last 7 keeps the newest 7 of "
        "each volume)");
  }
  return ValidateDefinition(d);
}

}  // namespace cairn::service
