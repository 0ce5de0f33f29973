#include "repo/lock.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <random>

#include "core/encoding.h"
#include "core/log.h"
#include "core/units.h"
#include "repo/host_info.h"
#include "repo/ids.h"

namespace cairn::repo {

namespace {

using Json = nlohmann::ordered_json;
using Clock = std::chrono::system_clock;

std::string LockKey(std::string_view id) { return std::string(kLocksPrefix) + std::string(id); }

std::string NewLockId() {
  std::array<std::byte, 8> b;
  RandomBytes(b);
  return HexEncode(b);
}

bool Conflicts(bool exclusive, const LockInfo& other) { return exclusive || other.exclusive; }

// Lists locks with their keys; unparseable objects are skipped with a warning.
Result<std::vector<std::pair<std::string, LockInfo>>> ReadLocks(storage::Backend& backend) {
  std::vector<std::string> keys;
  RETURN_IF_ERROR_CTX(backend.List(kLocksPrefix,
                                   [&](const storage::ObjectInfo& info) {
                                     keys.push_back(info.key);
                                     return Status::OK();
                                   }),
                      "listing locks/ in " + backend.Describe());
  std::vector<std::pair<std::string, LockInfo>> locks;
  for (const std::string& key : keys) {
    Result<Buffer> data = backend.Get(key);
    if (!data.ok()) {
      if (data.status().code() == StatusCode::kNotFound) continue;  // released meanwhile
      return data.status().WithContext("reading " + key);
    }
    Result<LockInfo> info = LockInfo::FromJson(AsStringView(*data));
    if (!info.ok()) {
      LogWarning("ignoring unreadable lock " + key + ": " + info.status().message());
      continue;
    }
    locks.emplace_back(key, std::move(info).value());
  }
  return locks;
}

}  // namespace

std::string LockInfo::ToJson() const {
  Json j;
  j["id"] = id;
  j["host"] = host;
  j["pid"] = pid;
  j["exclusive"] = exclusive;
  j["operation"] = operation;
  j["created"] = FormatTimeUtc(created);
  j["expires"] = FormatTimeUtc(expires);
  return j.dump();
}

Result<LockInfo> LockInfo::FromJson(std::string_view json) {
  LockInfo l;
  std::string created, expires;
  try {
    Json j = Json::parse(json);
    l.id = j.at("id").get<std::string>();
    l.host = j.at("host").get<std::string>();
    l.pid = j.at("pid").get<int>();
    l.exclusive = j.at("exclusive").get<bool>();
    l.operation = j.value("operation", "");
    created = j.at("created").get<std::string>();
    expires = j.at("expires").get<std::string>();
  } catch (const Json::exception& e) {
    return CorruptionError(std::string("lock: malformed JSON: ") + e.what());
  }
  ASSIGN_OR_RETURN_CTX(l.created, ParseTimeUtc(created), "lock created");
  ASSIGN_OR_RETURN_CTX(l.expires, ParseTimeUtc(expires), "lock expires");
  return l;
}

bool LockInfo::IsStale(Clock::time_point now) const {
  if (now > expires) return true;
  if (host == Hostname() && pid > 0 && kill(pid, 0) != 0 && errno == ESRCH) return true;
  return false;
}

std::string LockInfo::Describe() const {
  return fmt::format("{} lock held by host {} pid {} ({}) since {}, expires {}",
                     exclusive ? "exclusive" : "shared", host, pid,
                     operation.empty() ? "unknown operation" : operation, FormatTimeUtc(created),
                     FormatTimeUtc(expires));
}

RepoLock::RepoLock(storage::Backend& backend, LockInfo info, LockOptions options)
    : backend_(backend), info_(std::move(info)), options_(std::move(options)) {
  refresher_ = std::thread([this] { RefreshLoop(); });
}

RepoLock::~RepoLock() { Release().IgnoreError(); }

Result<std::unique_ptr<RepoLock>> RepoLock::Acquire(storage::Backend& backend,
                                                    const LockOptions& options) {
  const Clock::time_point deadline = Clock::now() + options.wait;
  std::mt19937_64 rng(std::random_device{}());
  std::chrono::milliseconds backoff{100};
  while (true) {
    LockInfo info;
    info.id = NewLockId();
    info.host = Hostname();
    info.pid = static_cast<int>(getpid());
    info.exclusive = options.exclusive;
    info.operation = options.operation;
    info.created = Clock::now();
    info.expires = info.created + options.lease;
    const std::string key = LockKey(info.id);
    RETURN_IF_ERROR_CTX(backend.Put(key, AsBytes(info.ToJson())),
                        "writing lock to " + backend.Describe());

    Result<std::vector<std::pair<std::string, LockInfo>>> locks = ReadLocks(backend);
    if (!locks.ok()) {
      backend.Remove(key).IgnoreError();
      return locks.status();
    }
    const Clock::time_point now = Clock::now();
    const LockInfo* conflict = nullptr;
    for (const auto& [other_key, other] : *locks) {
      if (other_key == key || other.IsStale(now)) continue;
      if (Conflicts(options.exclusive, other)) {
        conflict = &other;
        break;
      }
    }
    if (conflict == nullptr) {
      return std::unique_ptr<RepoLock>(new RepoLock(backend, std::move(info), options));
    }
    // Back off; both sides of a race do, and retry after a random delay.
    RETURN_IF_ERROR_CTX(backend.Remove(key), "removing own lock after a conflict");
    if (Clock::now() >= deadline) {
      return AbortedError(fmt::format(
          "repository {} is locked: {}; wait for it to finish; if that process is gone, run "
          "`cairn repo unlock`",
          backend.Describe(), conflict->Describe()));
    }
    std::uniform_int_distribution<int64_t> jitter(backoff.count() / 2, backoff.count());
    auto sleep = std::chrono::milliseconds(jitter(rng));
    sleep = std::min(
        sleep, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()) +
                   std::chrono::milliseconds(1));
    std::this_thread::sleep_for(sleep);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
}

void RepoLock::RefreshLoop() {
  std::unique_lock lock(mu_);
  Clock::time_point last_ok = info_.created;
  auto wait = options_.refresh_every;
  while (!cv_.wait_for(lock, wait, [&] { return stop_; })) {
    LockInfo updated = info_;
    updated.expires = Clock::now() + options_.lease;
    lock.unlock();
    Status s = backend_.Put(LockKey(updated.id), AsBytes(updated.ToJson()));
    lock.lock();
    const Clock::time_point now = Clock::now();
    if (s.ok()) {
      if (now <= info_.expires) {  // the lease never lapsed: still ours
        info_.expires = updated.expires;
        last_ok = now;
      }
      wait = options_.refresh_every;
    } else {
      LogWarning("cannot refresh repository lock: " + s.ToString());
      wait = std::max(std::chrono::seconds(1), options_.refresh_every / 4);
    }
    if (now > info_.expires && health_.ok()) {
      health_ = AbortedError(fmt::format(
          "repository lock lease expired at {} (last refreshed {}): another process may "
          "consider it stale",
          FormatTimeUtc(info_.expires), FormatTimeUtc(last_ok)));
    }
  }
}

Status RepoLock::Release() {
  {
    std::lock_guard lock(mu_);
    if (released_) return Status::OK();
    released_ = true;
    stop_ = true;
  }
  cv_.notify_all();
  if (refresher_.joinable()) refresher_.join();
  RETURN_IF_ERROR_CTX(backend_.Remove(LockKey(info_.id)), "removing repository lock");
  return Status::OK();
}

Status RepoLock::health() const {
  std::lock_guard lock(mu_);
  return health_;
}

Result<std::vector<LockInfo>> ListLocks(storage::Backend& backend) {
  ASSIGN_OR_RETURN(auto locks, ReadLocks(backend));
  std::vector<LockInfo> out;
  out.reserve(locks.size());
  for (auto& [key, info] : locks) out.push_back(std::move(info));
  return out;
}

Result<size_t> RemoveLocks(storage::Backend& backend, bool all) {
  if (all) {  // every object, readable or not
    std::vector<std::string> keys;
    RETURN_IF_ERROR(backend.List(kLocksPrefix, [&](const storage::ObjectInfo& info) {
      keys.push_back(info.key);
      return Status::OK();
    }));
    for (const std::string& key : keys) RETURN_IF_ERROR_CTX(backend.Remove(key), "removing " + key);
    return keys.size();
  }
  ASSIGN_OR_RETURN(auto locks, ReadLocks(backend));
  const Clock::time_point now = Clock::now();
  size_t removed = 0;
  for (const auto& [key, info] : locks) {
    if (!info.IsStale(now)) continue;
    RETURN_IF_ERROR_CTX(backend.Remove(key), "removing " + key);
    ++removed;
  }
  return removed;
}

}  // namespace cairn::repo
