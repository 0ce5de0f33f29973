// Daemon: snapshot lifecycle policies (service/policy.h) — the API's
// create/list/show/delete/run, and what one run does.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "core/passphrase_file.h"
#include "core/units.h"
#include "repo/copy.h"
#include "repo/recycle_bin.h"
#include "repo/retention.h"
#include "service/daemon.h"
#include "service/schedule.h"
#include "storage/open.h"

namespace cairn::service {
namespace {

using Clock = std::chrono::system_clock;

constexpr auto kUploadPoll = std::chrono::milliseconds(100);

// Opens a copy target the way a run does: its URL (S3 settings from the
// daemon's AWS_* environment) and the passphrase in its password file.
Result<std::unique_ptr<repo::Repository>> OpenCopyTarget(const PolicyCopyTarget& t) {
  const std::string what = "copy target " + t.url;
  ASSIGN_OR_RETURN_CTX(auto backend, storage::OpenBackend(t.url, /*create=*/false), what);
  std::string passphrase;
  if (!t.password_file.empty()) {
    ASSIGN_OR_RETURN_CTX(passphrase, ReadPassphraseFile(t.password_file), what);
  }
  auto repository = repo::Repository::Open(std::move(backend), passphrase);
  if (!repository.ok() && repository.status().code() == StatusCode::kUnauthenticated &&
      t.password_file.empty()) {
    return repository.status().WithContext(
        what + " is encrypted and the policy has no --copy-password-file");
  }
  if (!repository.ok()) return repository.status().WithContext(what);
  return repository;
}

// Applies `keep` to the live snapshots of `repository` tagged with the
// policy, per source (volume); removes the others into the recycle bin,
// never one of `taken` (this run's: created times have whole seconds, so
// snapshots of one second may rank in any order). Appends the removed ids
// to `removed`; returns the ids of the policy's snapshots left live (what
// the copies send).
Result<std::vector<repo::SnapshotId>> ApplyPolicyRetention(repo::Repository& repository,
                                                           const PolicyRecord& p,
                                                           const std::vector<std::string>& taken,
                                                           std::vector<std::string>& removed) {
  ASSIGN_OR_RETURN(repo::Repository::SnapshotList list, repository.ListSnapshots());
  const auto groups =
      repo::ApplyRetentionByGroup(list.snapshots, p.definition.keep, {{kPolicyTag, p.id}});
  const auto now = Clock::now();
  std::vector<repo::SnapshotId> kept;
  for (const repo::RetentionGroup& g : groups) {
    for (const repo::RetentionDecision& d : g.decisions) {
      if (d.keep || std::count(taken.begin(), taken.end(), d.snapshot.id.str()) > 0) {
        kept.push_back(d.snapshot.id);
        continue;
      }
      RETURN_IF_ERROR_CTX(repo::RemoveSnapshot(repository, d.snapshot.id, false, now).status(),
                          "removing " + d.snapshot.id.str() + " (retention)");
      removed.push_back(d.snapshot.id.str());
    }
  }
  return kept;
}

std::string JoinIds(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ", ") + id;
  return out;
}

}  // namespace

Result<std::unique_ptr<repo::Repository>> OpenPolicyCopyTarget(const PolicyCopyTarget& t) {
  return OpenCopyTarget(t);
}

void Daemon::StartPolicies() {
  policies_ = std::make_unique<PolicyScheduler>(
      *catalog_, *events_, [this](const PolicyRecord& p, uint64_t n, std::stop_token stop) {
        return RunPolicyOnce(p, n, stop);
      });
  policies_->Start();
}

Result<PolicyStatus> Daemon::CreatePolicy(const PolicyDefinition& definition, bool enabled) {
  RETURN_IF_ERROR(ValidateDefinition(definition));
  for (const std::string& id : definition.volume_ids) {
    RETURN_IF_ERROR(catalog_->GetVolume(id).status().WithContext("--volume"));
  }
  for (const PolicyCopyTarget& t : definition.copy_to) {
    RETURN_IF_ERROR(OpenCopyTarget(t).status().WithContext("--copy-to"));
  }
  PolicyRecord p;
  p.id = NewPolicyId();
  p.created = NowUtc();
  p.definition = definition;
  p.state.enabled = enabled;
  if (enabled) p.state.next_run = PolicyScheduler::FirstRun(definition.schedule, Clock::now());
  RETURN_IF_ERROR(catalog_->InsertPolicy(p));
  events_->State(p.id, fmt::format("created{}: {}, {}, keep {}{}",
                                   definition.name.empty() ? "" : " (" + definition.name + ")",
                                   DescribeTargets(definition), definition.schedule,
                                   definition.keep.Describe(),
                                   enabled ? ", first run " + p.state.next_run : ", disabled"));
  policies_->Wake();
  return PolicyStatus{p, false};
}

Result<std::vector<PolicyStatus>> Daemon::ListPolicies() {
  ASSIGN_OR_RETURN(auto list, catalog_->ListPolicies());
  const std::string running = policies_->Running();
  std::vector<PolicyStatus> out;
  for (auto& p : list) {
    const bool now = p.id == running;
    out.push_back({std::move(p), now});
  }
  return out;
}

Result<PolicyStatus> Daemon::GetPolicy(const std::string& id) {
  RETURN_IF_ERROR(CheckPolicyId(id));
  ASSIGN_OR_RETURN(PolicyRecord p, catalog_->GetPolicy(id));
  return PolicyStatus{p, policies_->Running() == id};
}

Status Daemon::DeletePolicy(const std::string& id) {
  RETURN_IF_ERROR(CheckPolicyId(id));
  RETURN_IF_ERROR(catalog_->DeletePolicy(id));
  events_->State(id, "deleted (the snapshots it made stay)");
  policies_->Wake();
  return Status::OK();
}

Result<PolicyStatus> Daemon::RunPolicy(const std::string& id) {
  ASSIGN_OR_RETURN(PolicyStatus p, GetPolicy(id));
  policies_->RequestRun(id);
  return p;
}

PolicyRun Daemon::RunPolicyOnce(const PolicyRecord& p, uint64_t number, std::stop_token stop) {
  PolicyRun run;
  run.result = "failed";
  std::vector<std::string> notes;  // what went right or was skipped, in order
  auto finish = [&](const std::string& failure) {
    if (!failure.empty()) notes.push_back(failure);
    if (failure.empty()) run.result = "ok";
    for (const auto& n : notes) run.message += (run.message.empty() ? "" : "; ") + n;
    return run;
  };

  // 1. The volumes: named ones, or those carrying every target tag now.
  std::vector<std::string> volumes;
  auto records = catalog_->ListVolumes();
  if (!records.ok()) return finish("reading the volumes: " + records.status().ToString());
  const PolicyDefinition& d = p.definition;
  for (const VolumeRecord& v : *records) {
    bool wanted = true;
    if (!d.volume_ids.empty()) {
      wanted = std::find(d.volume_ids.begin(), d.volume_ids.end(), v.id) != d.volume_ids.end();
    } else {
      for (const auto& [k, val] : d.target_tags) {
        auto it = v.tags.find(k);
        wanted = wanted && it != v.tags.end() && it->second == val;
      }
    }
    if (!wanted) continue;
    if (v.state == kVolumeAvailable || v.state == kVolumeInUse) {
      volumes.push_back(v.id);
    } else {
      notes.push_back(fmt::format("skipped {} ({})", v.id, v.state));
    }
  }
  for (const std::string& id : d.volume_ids) {
    bool found = false;
    for (const VolumeRecord& v : *records) found = found || v.id == id;
    if (!found) notes.push_back(id + " no longer exists (skipped)");
  }
  if (volumes.empty()) {
    return finish("no volume to snapshot (" + DescribeTargets(d) +
                  "): create or tag one, or delete the policy");
  }

  // 2. One instant for all of them; wait for the uploads.
  CreateSnapshotsRequest req;
  req.volume_ids = volumes;
  req.description =
      fmt::format("policy {}{} run {}", p.id, d.name.empty() ? "" : " (" + d.name + ")", number);
  req.tags = d.snapshot_tags;
  req.tags[kPolicyTag] = p.id;
  auto taken = CreateSnapshots(req);
  if (!taken.ok()) return finish("snapshot: " + taken.status().ToString());
  std::vector<std::string> failed;
  for (const SnapshotRecord& s : *taken) {
    Result<SnapshotRecord> now = s;
    while (now.ok() && now->state == kSnapshotPending && !stop.stop_requested()) {
      std::this_thread::sleep_for(kUploadPoll);
      now = catalog_->GetSnapshot(s.id);
    }
    if (stop.stop_requested()) {
      return finish("the daemon stopped during the run (" + s.id + " was still uploading)");
    }
    if (!now.ok() || now->state != kSnapshotCompleted) {
      failed.push_back(fmt::format("{} of {}: {}", s.id, s.volume_id,
                                   now.ok() ? now->error : now.status().ToString()));
    } else {
      run.snapshots.push_back(s.id);
    }
  }
  if (!run.snapshots.empty()) notes.push_back("snapshots " + JoinIds(run.snapshots));
  if (!failed.empty()) {
    // Nothing is removed when a snapshot failed: the older ones may be the
    // newest good copies.
    return finish("snapshot failed: " + JoinIds(failed) +
                  " (retention and copies skipped; see `cairn snapshot show` for why)");
  }

  // 3. Retention here, then copies of what it keeps, then retention there.
  auto kept = ApplyPolicyRetention(*repo_, p, run.snapshots, run.removed);
  if (!kept.ok()) {
    return finish("retention in " + repo_->Describe() + ": " + kept.status().ToString());
  }
  if (!run.removed.empty()) {
    notes.push_back("removed " + JoinIds(run.removed) + " (recycle bin)");
  }
  std::vector<std::string> copy_failures;
  for (const PolicyCopyTarget& t : d.copy_to) {
    auto to = OpenCopyTarget(t);
    if (!to.ok()) {
      copy_failures.push_back(to.status().ToString());
      continue;
    }
    repo::CopyOptions options;
    options.threads = 2;
    options.stop = stop;
    auto copied = repo::CopySnapshots(*repo_, **to, *kept, options);
    if (!copied.ok()) {
      copy_failures.push_back("copy to " + t.url + ": " + copied.status().ToString());
      continue;
    }
    run.copied += copied->copied;
    std::vector<std::string> removed_there;
    if (auto there = ApplyPolicyRetention(**to, p, run.snapshots, removed_there); !there.ok()) {
      copy_failures.push_back("retention in " + t.url + ": " + there.status().ToString());
      continue;
    }
    notes.push_back(
        fmt::format("copied {} to {}{}", copied->copied, t.url,
                    removed_there.empty() ? "" : ", removed there " + JoinIds(removed_there)));
    run.removed.insert(run.removed.end(), removed_there.begin(), removed_there.end());
  }
  if (!copy_failures.empty()) {
    return finish(JoinIds(copy_failures) +
                  " (the snapshots stay in the primary repository; the next run copies what is "
                  "missing)");
  }
  return finish("");
}

}  // namespace cairn::service
