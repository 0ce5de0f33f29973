#include "repo/lock.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <thread>

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

RepoLock::RepoLock(storage::Backend& backend, std::string key, LockInfo info, LockOptions options)
    : backend_(backend),
      key_(std::move(key)),
      info_(std::move(info)),
      options_(std::move(options)) {
  refresher_ = std::thread([this] { RefreshLoop(); });
}

RepoLock::~RepoLock() { Release().IgnoreError(); }

namespace {

const std::string kExclusiveSlot = std::string(kLocksPrefix) + "exclusive";

// (created, id) order: which of two racing locks came first.
bool Earlier(const LockInfo& a, const LockInfo& b) {
  return a.created != b.created ? a.created < b.created : a.id < b.id;
}

// Live locks that conflict with `self`, other than the object at `own_key`.
Result<std::vector<LockInfo>> LiveConflicts(storage::Backend& backend, const LockInfo& self,
                                            const std::string& own_key) {
  ASSIGN_OR_RETURN(auto locks, ReadLocks(backend));
  const Clock::time_point now = Clock::now();
  std::vector<LockInfo> out;
  for (auto& [key, other] : locks) {
    if (key == own_key || other.IsStale(now)) continue;
    if (Conflicts(self.exclusive, other)) out.push_back(std::move(other));
  }
  return out;
}

enum class SlotResult { kCreated, kHeld, kUnsupported };

// Creates locks/exclusive with `info` (PutIfAbsent). kHeld fills `holder`
// with the live lock there; a stale one is removed and the create retried,
// and a lock made by such a take-over is re-read after `settle` to make sure
// no one else took the stale one over at the same time.
Result<SlotResult> CreateExclusiveSlot(storage::Backend& backend, const LockInfo& info,
                                       std::chrono::milliseconds settle, LockInfo& holder) {
  const std::string json = info.ToJson();
  bool took_over = false;
  for (int attempt = 0; attempt < 3; ++attempt) {
    Status s = backend.PutIfAbsent(kExclusiveSlot, AsBytes(json));
    if (s.code() == StatusCode::kFailedPrecondition) return SlotResult::kUnsupported;
    if (s.ok() && !took_over) return SlotResult::kCreated;
    if (!s.ok() && s.code() != StatusCode::kAlreadyExists) {
      return s.WithContext("writing lock " + kExclusiveSlot + " to " + backend.Describe());
    }
    Result<Buffer> data = backend.Get(kExclusiveSlot);
    if (!data.ok()) {
      if (data.status().code() == StatusCode::kNotFound) continue;  // released meanwhile
      return data.status().WithContext("reading lock " + kExclusiveSlot);
    }
    Result<LockInfo> other = LockInfo::FromJson(AsStringView(*data));
    if (other.ok() && other->id == info.id) {
      if (!took_over) return SlotResult::kCreated;  // our own retried create landed
      std::this_thread::sleep_for(settle);
      ASSIGN_OR_RETURN_CTX(Buffer again, backend.Get(kExclusiveSlot),
                           "re-reading lock " + kExclusiveSlot);
      Result<LockInfo> now_there = LockInfo::FromJson(AsStringView(again));
      if (now_there.ok() && now_there->id == info.id) return SlotResult::kCreated;
      if (!now_there.ok()) return now_there.status().WithContext("lock " + kExclusiveSlot);
      holder = *now_there;
      return SlotResult::kHeld;
    }
    if (other.ok() && !other->IsStale(Clock::now())) {
      holder = *other;
      return SlotResult::kHeld;
    }
    LogInfo(fmt::format("taking over the stale lock {}: {}", kExclusiveSlot,
                        other.ok() ? other->Describe() : other.status().message()));
    RETURN_IF_ERROR_CTX(backend.Remove(kExclusiveSlot), "removing stale lock " + kExclusiveSlot);
    took_over = true;
  }
  return AbortedError("lock " + kExclusiveSlot + " keeps changing; try again");
}

struct Attempt {
  std::string key;                  // own lock object, if acquired
  std::optional<LockInfo> blocker;  // set when the attempt lost
};

// One try at taking the lock described by `info`; on a conflict nothing of
// ours is left behind.
Result<Attempt> TryAcquire(storage::Backend& backend, const LockInfo& info,
                           const LockOptions& options) {
  Attempt out;
  bool conditional = false;
  if (info.exclusive) {
    LockInfo holder;
    ASSIGN_OR_RETURN(SlotResult slot, CreateExclusiveSlot(backend, info, options.settle, holder));
    if (slot == SlotResult::kHeld) {
      out.blocker = std::move(holder);
      return out;
    }
    conditional = slot == SlotResult::kCreated;
  }
  const std::string key = conditional ? kExclusiveSlot : LockKey(info.id);
  if (!conditional) {
    // A shared lock's key is ours alone (random id): PutIfAbsent only tells
    // whether the backend can create conditionally, i.e. is a strongly
    // consistent store. kAlreadyExists is our own retried write.
    Status s = info.exclusive ? storage::ConditionalPutUnsupported(backend.Describe())
                              : backend.PutIfAbsent(key, AsBytes(info.ToJson()));
    const bool unsupported = s.code() == StatusCode::kFailedPrecondition;
    if (unsupported) s = backend.Put(key, AsBytes(info.ToJson()));
    if (!s.ok() && s.code() != StatusCode::kAlreadyExists) {
      return s.WithContext("writing lock " + key + " to " + backend.Describe());
    }
    // Give listings of an eventually consistent store time to show a lock
    // written by a racing process (see lock.h).
    if (unsupported) std::this_thread::sleep_for(options.settle);
  }
  auto give_up = [&](LockInfo blocker) -> Result<Attempt> {
    RETURN_IF_ERROR_CTX(backend.Remove(key), "removing own lock " + key + " after a conflict");
    out.blocker = std::move(blocker);
    return out;
  };
  Result<std::vector<LockInfo>> conflicts = LiveConflicts(backend, info, key);
  if (!conflicts.ok()) {
    backend.Remove(key).IgnoreError();
    return conflicts.status();
  }
  if (!conflicts->empty()) {
    if (!info.exclusive) return give_up(conflicts->front());
    for (const LockInfo& other : *conflicts) {
      if (other.exclusive && Earlier(other, info)) return give_up(other);
    }
    // Only shared locks or younger exclusive ones: racing newcomers yield to
    // us, established holders stay. Look again once they have had the time.
    std::this_thread::sleep_for(2 * options.settle);
    conflicts = LiveConflicts(backend, info, key);
    if (!conflicts.ok()) {
      backend.Remove(key).IgnoreError();
      return conflicts.status();
    }
    if (!conflicts->empty()) return give_up(conflicts->front());
  }
  out.key = key;
  return out;
}

}  // namespace

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
    ASSIGN_OR_RETURN(Attempt attempt, TryAcquire(backend, info, options));
    if (!attempt.blocker) {
      return std::unique_ptr<RepoLock>(
          new RepoLock(backend, std::move(attempt.key), std::move(info), options));
    }
    if (Clock::now() >= deadline) {
      return AbortedError(fmt::format(
          "repository {} is locked: {}; wait for it to finish; if that process is gone, run "
          "`cairn repo unlock`",
          backend.Describe(), attempt.blocker->Describe()));
    }
    // Back off (both sides of a race may) and retry after a random delay.
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
    Status s;
    if (key_ == kExclusiveSlot) {
      // The one shared key: rewrite it only while it is still ours.
      Result<Buffer> data = backend_.Get(key_);
      Result<LockInfo> there =
          data.ok() ? LockInfo::FromJson(AsStringView(*data)) : Result<LockInfo>(data.status());
      if (there.ok() && there->id != updated.id) {
        s = AbortedError(fmt::format("lock {} was taken over: {}", key_, there->Describe()));
      } else if (!there.ok() && there.status().code() != StatusCode::kNotFound) {
        s = there.status();
      }
    }
    if (s.ok()) s = backend_.Put(key_, AsBytes(updated.ToJson()));
    lock.lock();
    const Clock::time_point now = Clock::now();
    if (s.code() == StatusCode::kAborted) {
      if (health_.ok()) health_ = s;
      wait = options_.refresh_every;
      continue;
    }
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
  if (key_ == kExclusiveSlot) {
    // Never remove a take-over's lock: only ours.
    Result<Buffer> data = backend_.Get(key_);
    if (!data.ok()) {
      if (data.status().code() == StatusCode::kNotFound) return Status::OK();
      return data.status().WithContext("removing repository lock " + key_);
    }
    Result<LockInfo> there = LockInfo::FromJson(AsStringView(*data));
    if (there.ok() && there->id != info_.id) return Status::OK();
  }
  RETURN_IF_ERROR_CTX(backend_.Remove(key_), "removing repository lock " + key_);
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
