// Catalog: the policies table (service/policy.h). Each row keeps the
// definition and the state as two JSON documents.
#include <nlohmann/json.hpp>

#include "service/catalog.h"

namespace cairn::service {
namespace {

Result<PolicyRecord> PolicyFromRow(const SqlRow& row) {
  PolicyRecord p;
  p.id = SqlText(row[0]);
  p.created = SqlText(row[1]);
  const auto definition = nlohmann::json::parse(SqlText(row[2]), nullptr, false);
  const auto state = nlohmann::json::parse(SqlText(row[3]), nullptr, false);
  auto d = DefinitionFromJson(definition);
  auto s = StateFromJson(state);
  if (!d.ok()) return d.status().WithContext("catalog: policy " + p.id);
  if (!s.ok()) return s.status().WithContext("catalog: policy " + p.id);
  p.definition = std::move(*d);
  p.state = std::move(*s);
  return p;
}

}  // namespace

Status Catalog::InsertPolicy(const PolicyRecord& p) {
  std::lock_guard lock(mu_);
  auto r = db_->Query(
      "INSERT INTO policies (id, created, definition, state) VALUES (?1, ?2, ?3, ?4)",
      {p.id, p.created, DefinitionToJson(p.definition).dump(), StateToJson(p.state).dump()});
  if (r.status().code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("policy " + p.id + " already exists in the catalog");
  }
  return r.status();
}

Status Catalog::UpdatePolicyState(const std::string& id, const PolicyState& state) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(
      db_->Query("UPDATE policies SET state = ?2 WHERE id = ?1", {id, StateToJson(state).dump()})
          .status());
  if (db_->Changes() == 0) return NotFoundError("policy " + id + " not found");
  return Status::OK();
}

Status Catalog::UpdatePolicy(const std::string& id,
                             const std::function<Status(PolicyRecord&)>& change) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(PolicyRecord p, GetPolicyLocked(id));
  RETURN_IF_ERROR(change(p));
  return db_
      ->Query("UPDATE policies SET definition = ?2, state = ?3 WHERE id = ?1",
              {id, DefinitionToJson(p.definition).dump(), StateToJson(p.state).dump()})
      .status();
}

Status Catalog::DeletePolicy(const std::string& id) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(db_->Query("DELETE FROM policies WHERE id = ?1", {id}).status());
  if (db_->Changes() == 0) return NotFoundError("policy " + id + " not found");
  return Status::OK();
}

Result<PolicyRecord> Catalog::GetPolicy(const std::string& id) {
  std::lock_guard lock(mu_);
  return GetPolicyLocked(id);
}

Result<PolicyRecord> Catalog::GetPolicyLocked(const std::string& id) {
  ASSIGN_OR_RETURN(
      auto rows,
      db_->Query("SELECT id, created, definition, state FROM policies WHERE id = ?1", {id}));
  if (rows.empty()) {
    return NotFoundError("policy " + id + " not found (`cairn policy list` shows the policies)");
  }
  return PolicyFromRow(rows[0]);
}

Result<std::vector<PolicyRecord>> Catalog::ListPolicies() {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(
      auto rows,
      db_->Query("SELECT id, created, definition, state FROM policies ORDER BY created, id"));
  std::vector<PolicyRecord> out;
  for (const auto& row : rows) {
    ASSIGN_OR_RETURN(PolicyRecord p, PolicyFromRow(row));
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace cairn::service
