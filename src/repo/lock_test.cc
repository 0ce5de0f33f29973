#include "repo/lock.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/units.h"
#include "repo/host_info.h"
#include "repo/ids.h"
#include "storage/memory_backend.h"

namespace cairn::repo {
namespace {

using std::chrono::seconds;

LockOptions Opts(bool exclusive, std::string op = "test") {
  LockOptions o;
  o.exclusive = exclusive;
  o.operation = std::move(op);
  return o;
}

size_t LockCount(storage::MemoryBackend& b) {
  size_t n = 0;
  EXPECT_TRUE(b.List(kLocksPrefix, [&](const storage::ObjectInfo&) {
                 ++n;
                 return Status::OK();
               }).ok());
  return n;
}

TEST(LockInfoTest, JsonRoundTripAndDescribe) {
  LockInfo l;
  l.id = "0011223344556677";
  l.host = "db1";
  l.pid = 4242;
  l.exclusive = true;
  l.operation = "gc";
  l.created = ParseTimeUtc("2026-11-24T09:00:00Z").value();
  l.expires = ParseTimeUtc("2026-11-24T09:05:00Z").value();
  Result<LockInfo> d = LockInfo::FromJson(l.ToJson());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->id, l.id);
  EXPECT_EQ(d->pid, 4242);
  EXPECT_TRUE(d->exclusive);
  EXPECT_EQ(d->expires, l.expires);
  EXPECT_EQ(d->Describe(),
            "exclusive lock held by host db1 pid 4242 (gc) since 2026-11-24T09:00:00Z, "
            "expires 2026-11-24T09:05:00Z");
  EXPECT_FALSE(LockInfo::FromJson("{\"id\":1}").ok());
}

TEST(LockInfoTest, Staleness) {
  const auto now = std::chrono::system_clock::now();
  LockInfo l;
  l.host = Hostname();
  l.pid = static_cast<int>(getpid());
  l.expires = now + seconds(60);
  EXPECT_FALSE(l.IsStale(now));
  EXPECT_TRUE(l.IsStale(now + seconds(61)));  // lease passed
  pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_GT(child, 0);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  l.pid = child;  // reaped: no such process
  EXPECT_TRUE(l.IsStale(now));
  l.host = "some-other-host-" + Hostname();  // cannot tell there
  EXPECT_FALSE(l.IsStale(now));
}

struct Case {
  bool first_exclusive, second_exclusive, conflict;
};

class LockMatrixTest : public ::testing::TestWithParam<Case> {};

TEST_P(LockMatrixTest, ConflictsAsSpecified) {
  const Case c = GetParam();
  storage::MemoryBackend backend;
  auto first = RepoLock::Acquire(backend, Opts(c.first_exclusive, "first op"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = RepoLock::Acquire(backend, Opts(c.second_exclusive));
  if (c.conflict) {
    ASSERT_EQ(second.status().code(), StatusCode::kAborted);
    EXPECT_NE(second.status().message().find("first op"), std::string::npos);
    EXPECT_NE(second.status().message().find("cairn repo unlock"), std::string::npos);
    EXPECT_EQ(LockCount(backend), 1u);  // the loser removed its own lock
  } else {
    ASSERT_TRUE(second.ok()) << second.status().ToString();
    EXPECT_EQ(LockCount(backend), 2u);
  }
}

INSTANTIATE_TEST_SUITE_P(All, LockMatrixTest,
                         ::testing::Values(Case{false, false, false}, Case{false, true, true},
                                           Case{true, false, true}, Case{true, true, true}));

// Writes a lock as another process would.
void PutForeignLock(storage::Backend& b, LockInfo l) {
  ASSERT_TRUE(b.Put(std::string(kLocksPrefix) + l.id, AsBytes(l.ToJson())).ok());
}

TEST(RepoLockTest, StaleLocksAreIgnoredAndRemovable) {
  storage::MemoryBackend backend;
  const auto now = std::chrono::system_clock::now();
  LockInfo expired{"aaaaaaaaaaaaaaaa", "elsewhere",       1, true, "gc",
                   now - seconds(600), now - seconds(300)};
  PutForeignLock(backend, expired);
  pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  LockInfo dead{"bbbbbbbbbbbbbbbb", Hostname(), child, true, "gc", now, now + seconds(300)};
  PutForeignLock(backend, dead);
  {
    auto lock = RepoLock::Acquire(backend, Opts(true));
    ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  }
  EXPECT_EQ(ListLocks(backend)->size(), 2u);
  Result<size_t> removed = RemoveLocks(backend, false);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 2u);
  EXPECT_EQ(LockCount(backend), 0u);
}

TEST(RepoLockTest, LiveForeignLockBlocksUntilRemoved) {
  storage::MemoryBackend backend;
  const auto now = std::chrono::system_clock::now();
  PutForeignLock(backend,
                 {"cccccccccccccccc", "elsewhere", 1, true, "gc", now, now + seconds(300)});
  EXPECT_EQ(RepoLock::Acquire(backend, Opts(false)).status().code(), StatusCode::kAborted);
  EXPECT_EQ(*RemoveLocks(backend, false), 0u);  // live: kept
  EXPECT_EQ(*RemoveLocks(backend, true), 1u);
  EXPECT_TRUE(RepoLock::Acquire(backend, Opts(false)).ok());
}

TEST(RepoLockTest, ReleasedOnDestructionAndIdempotent) {
  storage::MemoryBackend backend;
  {
    auto lock = RepoLock::Acquire(backend, Opts(true));
    ASSERT_TRUE(lock.ok());
    EXPECT_EQ(LockCount(backend), 1u);
  }
  EXPECT_EQ(LockCount(backend), 0u);
  auto lock = RepoLock::Acquire(backend, Opts(true));
  ASSERT_TRUE(lock.ok());
  EXPECT_TRUE((*lock)->Release().ok());
  EXPECT_TRUE((*lock)->Release().ok());
  EXPECT_EQ(LockCount(backend), 0u);
  EXPECT_TRUE(RepoLock::Acquire(backend, Opts(true)).ok());
}

TEST(RepoLockTest, WaitsForTheHolder) {
  storage::MemoryBackend backend;
  auto holder = RepoLock::Acquire(backend, Opts(true));
  ASSERT_TRUE(holder.ok());
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    (*holder)->Release().IgnoreError();
  });
  LockOptions o = Opts(false);
  o.wait = seconds(10);
  auto start = std::chrono::steady_clock::now();
  auto waiter = RepoLock::Acquire(backend, o);
  releaser.join();
  ASSERT_TRUE(waiter.ok()) << waiter.status().ToString();
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(250));
}

TEST(RepoLockTest, RefresherExtendsTheLease) {
  storage::MemoryBackend backend;
  LockOptions o = Opts(false);
  o.lease = seconds(30);
  o.refresh_every = seconds(1);
  auto lock = RepoLock::Acquire(backend, o);
  ASSERT_TRUE(lock.ok());
  auto before = ListLocks(backend).value().at(0).expires;
  std::this_thread::sleep_for(std::chrono::milliseconds(2300));
  auto after = ListLocks(backend).value().at(0).expires;
  EXPECT_GT(after, before);
  EXPECT_TRUE((*lock)->health().ok());
}

}  // namespace
}  // namespace cairn::repo
