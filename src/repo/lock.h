// RepoLock: a lease on the repository (docs/format.md "locks").
//
// Shared locks (backup, restore, check) exclude exclusive ones; an exclusive
// lock (gc, key remove) excludes all. The holder refreshes the lease from a
// background thread; a crashed holder's lock expires by itself, and a lock of
// a dead pid on this host is stale at once.
//
// Taking a lock never relies on atomic create alone, and is safe when two
// processes race (docs/format.md has the argument):
//   shared     Put locks/<id>; [settle]; list. Any live exclusive lock →
//              remove ours, conflict (a shared lock always yields).
//   exclusive  with Backend::PutIfAbsent: create locks/exclusive (one
//              exclusive holder at a time, atomically; a stale one is taken
//              over and re-read after `settle`); without it: Put
//              locks/<id>; settle. Then list: a live exclusive lock older
//              than ours (created, then id) → yield; any other live lock →
//              look again after 2×settle (a racing newcomer has removed
//              its own by then, an established holder has not) and yield
//              if it is still there.
// [settle] is waited only when the backend cannot PutIfAbsent: it gives
// listings of eventually consistent stores time to show the other's lock.
//
// Thread-safety: a RepoLock is owned by one thread; its refresher thread is
// internal and joined by Release()/the destructor.
#ifndef CAIRN_REPO_LOCK_H_
#define CAIRN_REPO_LOCK_H_

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "storage/backend.h"

namespace cairn::repo {

struct LockInfo {
  std::string id;
  std::string host;
  int pid = 0;
  bool exclusive = false;
  std::string operation;
  std::chrono::system_clock::time_point created;
  std::chrono::system_clock::time_point expires;

  std::string ToJson() const;
  static Result<LockInfo> FromJson(std::string_view json);
  // Past its lease, or held by a dead pid on this host.
  bool IsStale(std::chrono::system_clock::time_point now) const;
  // "exclusive lock held by host db1 pid 4242 (gc) since …, expires …"
  std::string Describe() const;
};

struct LockOptions {
  bool exclusive = false;
  std::string operation;
  std::chrono::seconds lease{300};
  std::chrono::seconds refresh_every{60};
  std::chrono::seconds wait{0};  // how long to retry a conflict
  // Delay between writing a lock and trusting a listing (see above).
  std::chrono::milliseconds settle{500};
};

class RepoLock {
 public:
  // Takes the lock or returns kAborted describing the conflicting holder and
  // what to do ("wait until it finishes, or if that process is gone run
  // `cairn repo unlock`").
  static Result<std::unique_ptr<RepoLock>> Acquire(storage::Backend& backend,
                                                   const LockOptions& options);
  ~RepoLock();  // Release()s
  RepoLock(const RepoLock&) = delete;
  RepoLock& operator=(const RepoLock&) = delete;

  // Stops refreshing and removes the lock object. Idempotent.
  Status Release();
  // Non-OK if the lease could not be refreshed in time (the holder must then
  // stop before committing, since another process may treat it as stale).
  Status health() const;

 private:
  RepoLock(storage::Backend& backend, std::string key, LockInfo info, LockOptions options);
  void RefreshLoop();

  storage::Backend& backend_;
  const std::string key_;  // locks/<id> or locks/exclusive
  LockInfo info_;
  const LockOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;     // guarded by mu_
  Status health_;         // guarded by mu_
  bool released_ = false;  // guarded by mu_
  std::thread refresher_;
};

// All lock objects, parsed (unparseable ones are skipped with a warning).
Result<std::vector<LockInfo>> ListLocks(storage::Backend& backend);
// Removes stale locks (all locks if `all`). Returns how many were removed.
Result<size_t> RemoveLocks(storage::Backend& backend, bool all);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_LOCK_H_
