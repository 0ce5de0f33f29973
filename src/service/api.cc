#include "service/api.h"

#include <fmt/format.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "repo/ids.h"
#include "service/daemon.h"
#include "service/policy.h"
#include "service/schedule.h"
#include "volume/volume_id.h"

namespace cairn::service {
namespace {

using nlohmann::json;

constexpr std::pair<StatusCode, const char*> kCodeNames[] = {
    {StatusCode::kInvalidArgument, "invalid_argument"},
    {StatusCode::kNotFound, "not_found"},
    {StatusCode::kAlreadyExists, "already_exists"},
    {StatusCode::kFailedPrecondition, "failed_precondition"},
    {StatusCode::kUnavailable, "unavailable"},
    {StatusCode::kUnauthenticated, "unauthenticated"},
    {StatusCode::kPermissionDenied, "permission_denied"},
    {StatusCode::kResourceExhausted, "resource_exhausted"},
    {StatusCode::kAborted, "aborted"},
    {StatusCode::kCorruption, "corruption"},
    {StatusCode::kIoError, "io_error"},
    {StatusCode::kCancelled, "cancelled"},
    {StatusCode::kInternal, "internal"},
};

json OrNull(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

// null for a volume not made from a snapshot.
json HydrationJson(const VolumeStatus& v) {
  const HydrationStatus& h = v.hydration;
  if (v.record.origin_snapshot.empty()) return nullptr;
  return {{"state", h.state},
          {"mode", v.record.hydrate_mode},
          {"total", h.total_bytes},
          {"done", h.done_bytes},
          {"percent", h.percent},
          {"rate", h.bytes_per_sec},
          {"rate_limit", h.rate_limit},
          {"eta", h.eta_seconds < 0 ? json(nullptr) : json(h.eta_seconds)},
          {"error", OrNull(h.error)}};
}

json VolumeJson(const VolumeStatus& v) {
  const VolumeRecord& r = v.record;
  json attachments = json::array();
  if (!r.attached.empty()) {
    attachments.push_back(
        {{"uri", v.nbd_uri}, {"attached", r.attached}, {"connections", v.connections}});
  }
  return {{"id", r.id},
          {"size", r.size},
          {"volume_type", r.volume_type},
          {"iops", r.iops},
          {"throughput", r.throughput_mibps},
          {"limits", v.limits},
          {"encrypted", r.encrypted},
          {"state", r.state},
          {"created", r.created},
          {"tags", r.tags},
          {"attachments", attachments},
          {"last_snapshot", OrNull(r.last_snapshot)},
          {"pending_snapshots", v.pending_snapshots},
          {"origin_snapshot", OrNull(r.origin_snapshot)},
          {"hydration", HydrationJson(v)},
          {"error", OrNull(r.error)}};
}

json SnapshotJson(const SnapshotRecord& s) {
  return {{"id", s.id},
          {"volume_id", s.volume_id},
          {"state", s.state},
          {"created", s.created},
          {"completed", OrNull(s.completed)},
          {"description", s.description},
          {"tags", s.tags},
          {"parent", OrNull(s.parent)},
          {"group_id", OrNull(s.group_id)},
          {"size", s.size},
          {"progress", {{"bytes_done", s.bytes_done}, {"bytes_total", s.bytes_total}}},
          {"read_mode", OrNull(s.read_mode)},
          {"read_reason", OrNull(s.read_reason)},
          {"stats",
           {{"bytes_read", s.bytes_read},
            {"bytes_new", s.bytes_new},
            {"bytes_stored", s.bytes_stored}}},
          {"error", OrNull(s.error)}};
}

json EventJson(const EventRecord& e) {
  return {{"seq", e.seq},
          {"time", e.time},
          {"object", e.object},
          {"kind", e.kind},
          {"message", e.message}};
}

HttpResponse Ok(const json& doc, int status = 200) { return {status, doc.dump()}; }

HttpResponse Error(const Status& s) {
  json doc = {{"error", {{"code", ApiErrorCode(s.code())}, {"message", s.message()}}}};
  return {HttpStatusFor(s.code()), doc.dump()};
}

template <typename T>
HttpResponse Render(const Result<T>& r, json (*to_json)(const T&), int status = 200) {
  if (!r.ok()) return Error(r.status());
  return Ok(to_json(*r), status);
}

// The request body as a JSON object ("" is {}).
Result<json> Body(const HttpRequest& req) {
  if (req.body.empty()) return json::object();
  json doc = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return InvalidArgumentError("request body of " + req.method + " " + req.path +
                                " is not a JSON object");
  }
  return doc;
}

Result<uint64_t> UintField(const json& doc, const char* name, bool required) {
  auto it = doc.find(name);
  if (it == doc.end() || it->is_null()) {
    if (required) return InvalidArgumentError(fmt::format("field \"{}\" is required", name));
    return uint64_t{0};
  }
  if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<int64_t>() >= 0)) {
    return InvalidArgumentError(fmt::format("field \"{}\" must be a non-negative integer", name));
  }
  return it->get<uint64_t>();
}

Result<std::string> StringField(const json& doc, const char* name, std::string fallback) {
  auto it = doc.find(name);
  if (it == doc.end() || it->is_null()) return fallback;
  if (!it->is_string())
    return InvalidArgumentError(fmt::format("field \"{}\" must be a string", name));
  return it->get<std::string>();
}

Result<std::map<std::string, std::string>> TagsField(const json& doc) {
  std::map<std::string, std::string> tags;
  auto it = doc.find("tags");
  if (it == doc.end() || it->is_null()) return tags;
  if (!it->is_object()) return InvalidArgumentError("field \"tags\" must be an object of strings");
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) return InvalidArgumentError("tag \"" + k + "\" must be a string");
    tags[k] = v.get<std::string>();
  }
  return tags;
}

Result<std::string> VolumeIdArg(const std::string& text) {
  ASSIGN_OR_RETURN(volume::VolumeId id, volume::VolumeId::Parse(text));
  return id.str();
}

// "iops" and "throughput" (optional; 0 when absent), each within 32 bits.
Status LimitFields(const json& doc, uint32_t& iops, uint32_t& throughput) {
  ASSIGN_OR_RETURN(uint64_t i, UintField(doc, "iops", false));
  ASSIGN_OR_RETURN(uint64_t t, UintField(doc, "throughput", false));
  if (i > UINT32_MAX || t > UINT32_MAX) {
    return InvalidArgumentError("--iops / --throughput: value out of range");
  }
  iops = static_cast<uint32_t>(i);
  throughput = static_cast<uint32_t>(t);
  return Status::OK();
}

Result<CreateVolumeRequest> ParseCreateVolume(const HttpRequest& req) {
  ASSIGN_OR_RETURN(json doc, Body(req));
  CreateVolumeRequest r;
  ASSIGN_OR_RETURN(r.snapshot_id, StringField(doc, "snapshot_id", ""));
  // From a snapshot the size defaults to the snapshot's.
  ASSIGN_OR_RETURN(r.size, UintField(doc, "size", r.snapshot_id.empty()));
  ASSIGN_OR_RETURN(r.initialization_rate, UintField(doc, "initialization_rate", false));
  ASSIGN_OR_RETURN(r.hydrate, StringField(doc, "hydrate", "lazy"));
  ASSIGN_OR_RETURN(r.volume_type, StringField(doc, "volume_type", "gp3"));
  RETURN_IF_ERROR(LimitFields(doc, r.iops, r.throughput));
  auto enc = doc.find("encrypted");
  if (enc != doc.end() && !enc->is_null()) {
    if (!enc->is_boolean())
      return InvalidArgumentError("field \"encrypted\" must be true or false");
    r.encrypted = enc->get<bool>();
  }
  ASSIGN_OR_RETURN(r.tags, TagsField(doc));
  return r;
}

Result<ModifyVolumeRequest> ParseModifyVolume(const HttpRequest& req) {
  ASSIGN_OR_RETURN(json doc, Body(req));
  ModifyVolumeRequest r;
  ASSIGN_OR_RETURN(r.volume_type, StringField(doc, "volume_type", ""));
  RETURN_IF_ERROR(LimitFields(doc, r.iops, r.throughput));
  return r;
}

Result<CreateSnapshotsRequest> ParseCreateSnapshots(const HttpRequest& req) {
  ASSIGN_OR_RETURN(json doc, Body(req));
  CreateSnapshotsRequest r;
  auto ids = doc.find("volume_ids");
  if (ids == doc.end() || !ids->is_array() || ids->empty()) {
    return InvalidArgumentError("field \"volume_ids\" must be a non-empty array of vol-… ids");
  }
  for (const auto& id : *ids) {
    if (!id.is_string()) return InvalidArgumentError("field \"volume_ids\" holds a non-string");
    ASSIGN_OR_RETURN(std::string v, VolumeIdArg(id.get<std::string>()));
    r.volume_ids.push_back(v);
  }
  ASSIGN_OR_RETURN(r.description, StringField(doc, "description", ""));
  ASSIGN_OR_RETURN(r.tags, TagsField(doc));
  return r;
}

std::string Query(const HttpRequest& req, const std::string& key) {
  auto it = req.query.find(key);
  return it == req.query.end() ? "" : it->second;
}

json VolumeList(const std::vector<VolumeStatus>& list) {
  json arr = json::array();
  for (const auto& v : list) arr.push_back(VolumeJson(v));
  return {{"volumes", arr}};
}

json SnapshotList(const std::vector<SnapshotRecord>& list) {
  json arr = json::array();
  for (const auto& s : list) arr.push_back(SnapshotJson(s));
  return {{"snapshots", arr}};
}

// Policies (service/policy.h); the shape is docs/api.md's.
json PolicyJson(const PolicyStatus& st) {
  const PolicyRecord& p = st.record;
  const PolicyDefinition& d = p.definition;
  const json stored = DefinitionToJson(d);  // copy_to as the catalog stores it
  return {{"id", p.id},
          {"name", d.name},
          {"description", d.description},
          {"targets", {{"volume_ids", d.volume_ids}, {"tags", d.target_tags}}},
          {"schedule", d.schedule},
          {"keep", KeepToJson(d.keep)},
          {"keep_text", d.keep.Describe()},
          {"copy_to", stored["copy_to"]},
          {"snapshot_tags", d.snapshot_tags},
          {"enabled", p.state.enabled},
          {"created", p.created},
          {"next_run", OrNull(p.state.next_run)},
          {"running", st.running},
          {"runs", p.state.runs},
          {"failures", p.state.failures},
          {"last_run", p.state.last_run ? RunToJson(*p.state.last_run) : json(nullptr)}};
}

json PolicyList(const std::vector<PolicyStatus>& list) {
  json arr = json::array();
  for (const auto& p : list) arr.push_back(PolicyJson(p));
  return {{"policies", arr}};
}

Result<std::map<std::string, std::string>> StringMapField(const json& doc, const char* name) {
  std::map<std::string, std::string> out;
  auto it = doc.find(name);
  if (it == doc.end() || it->is_null()) return out;
  if (!it->is_object()) {
    return InvalidArgumentError(fmt::format("field \"{}\" must be an object of strings", name));
  }
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) {
      return InvalidArgumentError(fmt::format("field \"{}.{}\" must be a string", name, k));
    }
    out[k] = v.get<std::string>();
  }
  return out;
}

struct CreatePolicyRequest {
  PolicyDefinition definition;
  bool enabled = true;
};

Result<CreatePolicyRequest> ParseCreatePolicy(const HttpRequest& req) {
  ASSIGN_OR_RETURN(json doc, Body(req));
  CreatePolicyRequest r;
  PolicyDefinition& d = r.definition;
  ASSIGN_OR_RETURN(d.name, StringField(doc, "name", ""));
  ASSIGN_OR_RETURN(d.description, StringField(doc, "description", ""));
  if (auto ids = doc.find("volume_ids"); ids != doc.end() && !ids->is_null()) {
    if (!ids->is_array()) return InvalidArgumentError("field \"volume_ids\" must be an array");
    for (const auto& id : *ids) {
      if (!id.is_string()) return InvalidArgumentError("field \"volume_ids\" holds a non-string");
      ASSIGN_OR_RETURN(std::string v, VolumeIdArg(id.get<std::string>()));
      d.volume_ids.push_back(v);
    }
  }
  ASSIGN_OR_RETURN(d.target_tags, StringMapField(doc, "tags"));
  ASSIGN_OR_RETURN(std::string every, StringField(doc, "every", ""));
  ASSIGN_OR_RETURN(std::string cron, StringField(doc, "cron", ""));
  if (every.empty() == cron.empty()) {
    return InvalidArgumentError(
        "policy create: give when it runs with --every DURATION (e.g. 1h) or --cron \"M H DOM MON "
        "DOW\" (UTC), one of the two");
  }
  ASSIGN_OR_RETURN(Schedule schedule,
                   every.empty() ? Schedule::Cron(cron) : Schedule::Every(every));
  d.schedule = schedule.ToString();
  ASSIGN_OR_RETURN(d.keep, KeepFromJson(doc.value("keep", json())));
  if (auto copy = doc.find("copy_to"); copy != doc.end() && !copy->is_null()) {
    if (!copy->is_array()) return InvalidArgumentError("field \"copy_to\" must be an array");
    for (const auto& t : *copy) {
      if (!t.is_object()) {
        return InvalidArgumentError(
            "field \"copy_to\" holds a non-object ({\"url\", \"password_file\"})");
      }
      PolicyCopyTarget target;
      ASSIGN_OR_RETURN(target.url, StringField(t, "url", ""));
      ASSIGN_OR_RETURN(target.password_file, StringField(t, "password_file", ""));
      d.copy_to.push_back(std::move(target));
    }
  }
  ASSIGN_OR_RETURN(d.snapshot_tags, StringMapField(doc, "snapshot_tags"));
  if (auto enabled = doc.find("enabled"); enabled != doc.end() && !enabled->is_null()) {
    if (!enabled->is_boolean())
      return InvalidArgumentError("field \"enabled\" must be true or false");
    r.enabled = enabled->get<bool>();
  }
  return r;
}

// "first_seq": events before it were removed by retention (event_log.h).
json EventPageJson(const EventPage& page) {
  json arr = json::array();
  for (const auto& e : page.events) arr.push_back(EventJson(e));
  return {{"events", arr}, {"first_seq", page.first_seq}};
}

}  // namespace

std::string ApiErrorCode(StatusCode code) {
  for (const auto& [c, name] : kCodeNames) {
    if (c == code) return name;
  }
  return "internal";
}

StatusCode StatusCodeFromApi(std::string_view name) {
  for (const auto& [c, n] : kCodeNames) {
    if (name == n) return c;
  }
  return StatusCode::kInternal;
}

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kAborted:
      return 423;
    case StatusCode::kResourceExhausted:
      return 507;
    case StatusCode::kUnavailable:
    case StatusCode::kCancelled:
      return 503;
    default:
      return 500;
  }
}

ApiServer::ApiServer(Daemon& daemon) : daemon_(daemon) {
  Daemon& d = daemon_;
  const std::string kId = "([^/]+)";
  http_.Route("GET", "/v1/daemon", [&d](const HttpRequest&) {
    const auto& o = d.options();
    return Ok({{"pid", ::getpid()},
               {"version", o.version},
               {"data_dir", o.data_dir},
               {"repository", o.repository},
               {"api_socket", d.api_socket()},
               {"nbd_uri_example", d.NbdUri("VOLUME")},
               {"events_keep_days", o.event_retention.keep_days},
               {"events_keep", o.event_retention.keep_events}});
  });

  http_.Route("GET", "/v1/volumes", [&d](const HttpRequest&) {
    return Render<std::vector<VolumeStatus>>(d.ListVolumes(), VolumeList);
  });
  http_.Route("POST", "/v1/volumes", [&d](const HttpRequest& req) {
    auto r = ParseCreateVolume(req);
    if (!r.ok()) return Error(r.status());
    return Render<VolumeStatus>(d.CreateVolume(*r), VolumeJson, 201);
  });
  http_.Route("GET", "/v1/volumes/" + kId, [&d](const HttpRequest& req) {
    auto id = VolumeIdArg(req.captures[0]);
    if (!id.ok()) return Error(id.status());
    return Render<VolumeStatus>(d.GetVolume(*id), VolumeJson);
  });
  http_.Route("DELETE", "/v1/volumes/" + kId, [&d](const HttpRequest& req) {
    auto id = VolumeIdArg(req.captures[0]);
    if (!id.ok()) return Error(id.status());
    const std::string force = Query(req, "force");
    Status s = d.DeleteVolume(*id, force == "true" || force == "1");
    if (!s.ok()) return Error(s);
    return Ok({{"deleted", *id}});
  });
  http_.Route("POST", "/v1/volumes/" + kId + "/resize", [&d](const HttpRequest& req) {
    auto id = VolumeIdArg(req.captures[0]);
    if (!id.ok()) return Error(id.status());
    auto body = Body(req);
    if (!body.ok()) return Error(body.status());
    auto size = UintField(*body, "size", true);
    if (!size.ok()) return Error(size.status());
    return Render<VolumeStatus>(d.ResizeVolume(*id, *size), VolumeJson);
  });
  http_.Route("POST", "/v1/volumes/" + kId + "/modify", [&d](const HttpRequest& req) {
    auto id = VolumeIdArg(req.captures[0]);
    if (!id.ok()) return Error(id.status());
    auto r = ParseModifyVolume(req);
    if (!r.ok()) return Error(r.status());
    return Render<VolumeStatus>(d.ModifyVolume(*id, *r), VolumeJson);
  });
  http_.Route("POST", "/v1/volumes/" + kId + "/attach", [&d](const HttpRequest& req) {
    auto id = VolumeIdArg(req.captures[0]);
    if (!id.ok()) return Error(id.status());
    return Render<VolumeStatus>(d.AttachVolume(*id), VolumeJson);
  });
  http_.Route("POST", "/v1/volumes/" + kId + "/detach", [&d](const HttpRequest& req) {
    auto id = VolumeIdArg(req.captures[0]);
    if (!id.ok()) return Error(id.status());
    return Render<VolumeStatus>(d.DetachVolume(*id), VolumeJson);
  });
  http_.Route("POST", "/v1/volumes/" + kId + "/check", [&d](const HttpRequest& req) {
    auto id = VolumeIdArg(req.captures[0]);
    if (!id.ok()) return Error(id.status());
    auto r = d.CheckVolume(*id);
    if (!r.ok()) return Error(r.status());
    const fs::FsckVerdict& v = r->verdict;
    return Ok({{"volume_id", r->volume_id},
               {"state", r->state},
               {"size", r->size},
               {"clean", v.clean},
               {"exit_code", v.exit_code},
               {"meaning", v.meaning},
               {"summary", v.summary},
               {"output", v.output},
               {"seconds", r->seconds}});
  });

  http_.Route("GET", "/v1/snapshots", [&d](const HttpRequest& req) {
    return Render<std::vector<SnapshotRecord>>(
        d.ListSnapshots(Query(req, "volume_id"), Query(req, "state")), SnapshotList);
  });
  http_.Route("POST", "/v1/snapshots", [&d](const HttpRequest& req) {
    auto r = ParseCreateSnapshots(req);
    if (!r.ok()) return Error(r.status());
    return Render<std::vector<SnapshotRecord>>(d.CreateSnapshots(*r), SnapshotList, 201);
  });
  http_.Route("GET", "/v1/snapshots/" + kId, [&d](const HttpRequest& req) {
    auto id = repo::SnapshotId::Parse(req.captures[0]);
    if (!id.ok()) return Error(id.status());
    return Render<SnapshotRecord>(d.GetSnapshot(id->str()), SnapshotJson);
  });

  http_.Route("GET", "/v1/policies", [&d](const HttpRequest&) {
    return Render<std::vector<PolicyStatus>>(d.ListPolicies(), PolicyList);
  });
  http_.Route("POST", "/v1/policies", [&d](const HttpRequest& req) {
    auto r = ParseCreatePolicy(req);
    if (!r.ok()) return Error(r.status());
    return Render<PolicyStatus>(d.CreatePolicy(r->definition, r->enabled), PolicyJson, 201);
  });
  http_.Route("GET", "/v1/policies/" + kId, [&d](const HttpRequest& req) {
    return Render<PolicyStatus>(d.GetPolicy(req.captures[0]), PolicyJson);
  });
  http_.Route("DELETE", "/v1/policies/" + kId, [&d](const HttpRequest& req) {
    Status s = d.DeletePolicy(req.captures[0]);
    if (!s.ok()) return Error(s);
    return Ok({{"deleted", req.captures[0]}});
  });
  http_.Route("POST", "/v1/policies/" + kId + "/run", [&d](const HttpRequest& req) {
    return Render<PolicyStatus>(d.RunPolicy(req.captures[0]), PolicyJson, 202);
  });
  http_.Route("POST", "/v1/policies/" + kId + "/modify", [&d](const HttpRequest& req) {
    auto body = Body(req);
    if (!body.ok()) return Error(body.status());
    auto change = PolicyChangeFromJson(*body);
    if (!change.ok()) return Error(change.status());
    auto r = d.ModifyPolicy(req.captures[0], *change);
    if (!r.ok()) return Error(r.status());
    json doc = PolicyJson(r->policy);
    doc["changes"] = r->changes;
    return Ok(doc);
  });
  http_.Route("POST", "/v1/policies/" + kId + "/enable", [&d](const HttpRequest& req) {
    return Render<PolicyStatus>(d.SetPolicyEnabled(req.captures[0], true), PolicyJson);
  });
  http_.Route("POST", "/v1/policies/" + kId + "/disable", [&d](const HttpRequest& req) {
    return Render<PolicyStatus>(d.SetPolicyEnabled(req.captures[0], false), PolicyJson);
  });

  http_.Route("GET", "/v1/events", [&d](const HttpRequest& req) {
    EventFilter f;
    try {
      if (auto a = Query(req, "after"); !a.empty()) f.after = std::stoll(a);
      if (auto l = Query(req, "limit"); !l.empty()) f.limit = std::stoll(l);
      if (auto n = Query(req, "last"); !n.empty()) {
        f.limit = std::stoll(n);
        f.newest = true;
      }
    } catch (const std::exception&) {
      return Error(InvalidArgumentError("after / limit / last must be integers"));
    }
    f.object = Query(req, "object");
    return Render<EventPage>(d.ListEventPage(f), EventPageJson);
  });
}

Status ApiServer::Start(const std::string& socket_path) { return http_.Start(socket_path); }

void ApiServer::Stop() { http_.Stop(); }

}  // namespace cairn::service
