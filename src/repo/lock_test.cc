#include "repo/lock.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

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
  o.settle = std::chrono::milliseconds(20);
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

// A backend without conditional create: every call but PutIfAbsent goes to a
// MemoryBackend; PutIfAbsent is the Backend default (kFailedPrecondition).
class NoConditionalBackend : public storage::Backend {
 public:
  Status Put(std::string_view key, ByteSpan data) override { return mem_.Put(key, data); }
  Result<Buffer> Get(std::string_view key) override { return mem_.Get(key); }
  Result<Buffer> GetRange(std::string_view key, uint64_t offset, uint64_t length) override {
    return mem_.GetRange(key, offset, length);
  }
  Result<storage::ObjectInfo> Stat(std::string_view key) override { return mem_.Stat(key); }
  Status List(std::string_view prefix,
              const std::function<Status(const storage::ObjectInfo&)>& fn) override {
    return mem_.List(prefix, fn);
  }
  Status Remove(std::string_view key) override { return mem_.Remove(key); }
  std::string Describe() const override { return "memory without PutIfAbsent"; }

 private:
  storage::MemoryBackend mem_;
};

std::set<std::string> LockKeys(storage::Backend& b) {
  std::set<std::string> keys;
  EXPECT_TRUE(b.List(kLocksPrefix, [&](const storage::ObjectInfo& info) {
                 keys.insert(info.key);
                 return Status::OK();
               }).ok());
  return keys;
}

std::unique_ptr<storage::Backend> MakeBackend(bool conditional) {
  if (conditional) return std::make_unique<storage::MemoryBackend>();
  return std::make_unique<NoConditionalBackend>();
}

class LockProtocolTest : public ::testing::TestWithParam<bool> {};  // PutIfAbsent?

TEST_P(LockProtocolTest, ExclusiveKeyDependsOnConditionalCreate) {
  auto backend = MakeBackend(GetParam());
  auto lock = RepoLock::Acquire(*backend, Opts(true));
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  std::set<std::string> keys = LockKeys(*backend);
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(*keys.begin() == "locks/exclusive", GetParam()) << *keys.begin();
  ASSERT_TRUE((*lock)->Release().ok());
  EXPECT_TRUE(LockKeys(*backend).empty());
}

// Several processes (threads here) race for the lock again and again, with
// no delay between release and the next attempt. The invariant is the
// documented one: never two exclusive holders, never an exclusive and a
// shared holder at once; and everyone gets the lock in the end (wait).
void Race(storage::Backend& backend, int exclusive_threads, int shared_threads) {
  constexpr int kRounds = 12;
  std::atomic<int> exclusive_holders{0}, shared_holders{0}, violations{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < exclusive_threads + shared_threads; ++t) {
    const bool exclusive = t < exclusive_threads;
    threads.emplace_back([&, exclusive] {
      for (int i = 0; i < kRounds; ++i) {
        LockOptions o = Opts(exclusive);
        o.settle = std::chrono::milliseconds(5);
        o.wait = seconds(60);
        auto lock = RepoLock::Acquire(backend, o);
        if (!lock.ok()) {
          ADD_FAILURE() << lock.status().ToString();
          ++failures;
          continue;
        }
        if (exclusive) {
          if (++exclusive_holders != 1 || shared_holders.load() != 0) ++violations;
        } else {
          ++shared_holders;
          if (exclusive_holders.load() != 0) ++violations;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        if (exclusive) {
          --exclusive_holders;
        } else {
          --shared_holders;
        }
        EXPECT_TRUE((*lock)->Release().ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_EQ(failures.load(), 0);
  EXPECT_TRUE(LockKeys(backend).empty());
}

TEST_P(LockProtocolTest, TwoExclusiveLocksRacing) {
  auto backend = MakeBackend(GetParam());
  Race(*backend, 2, 0);
}

TEST_P(LockProtocolTest, ExclusiveAndSharedLocksRacing) {
  auto backend = MakeBackend(GetParam());
  Race(*backend, 2, 2);
}

// An established exclusive holder whose clock runs ahead (its lock looks
// younger than a newcomer's): the newcomer must not win the tie-break
// against it. It looks again after the settle time, finds it still there,
// and yields.
TEST_P(LockProtocolTest, NewcomerYieldsToEstablishedHolderWithYoungerClock) {
  auto backend = MakeBackend(GetParam());
  const auto now = std::chrono::system_clock::now();
  PutForeignLock(*backend, {"dddddddddddddddd", "elsewhere", 1, true, "gc", now + seconds(3600),
                            now + seconds(7200)});
  auto lock = RepoLock::Acquire(*backend, Opts(true, "newcomer"));
  ASSERT_EQ(lock.status().code(), StatusCode::kAborted) << lock.status().ToString();
  EXPECT_NE(lock.status().message().find("host elsewhere"), std::string::npos);
  EXPECT_EQ(LockKeys(*backend), std::set<std::string>{"locks/dddddddddddddddd"});
}

INSTANTIATE_TEST_SUITE_P(WithAndWithoutPutIfAbsent, LockProtocolTest, ::testing::Bool(),
                         [](const auto& info) {
                           return info.param ? "PutIfAbsent" : "NoPutIfAbsent";
                         });

TEST(RepoLockTest, StaleExclusiveSlotIsTakenOver) {
  storage::MemoryBackend backend;
  const auto now = std::chrono::system_clock::now();
  LockInfo stale{"eeeeeeeeeeeeeeee", "elsewhere",       1, true, "gc",
                 now - seconds(600), now - seconds(300)};
  ASSERT_TRUE(backend.Put("locks/exclusive", AsBytes(stale.ToJson())).ok());
  auto lock = RepoLock::Acquire(backend, Opts(true, "new gc"));
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  auto locks = ListLocks(backend).value();
  ASSERT_EQ(locks.size(), 1u);
  EXPECT_EQ(locks[0].operation, "new gc");
  // A live one is not.
  ASSERT_TRUE((*lock)->Release().ok());
  LockInfo live{"ffffffffffffffff", "elsewhere", 1, true, "gc", now, now + seconds(300)};
  ASSERT_TRUE(backend.Put("locks/exclusive", AsBytes(live.ToJson())).ok());
  auto blocked = RepoLock::Acquire(backend, Opts(true));
  ASSERT_EQ(blocked.status().code(), StatusCode::kAborted);
  EXPECT_NE(blocked.status().message().find("exclusive lock held by host elsewhere pid 1 (gc)"),
            std::string::npos)
      << blocked.status().ToString();
}

// A holder whose slot was taken over (its lease lapsed) notices at the next
// refresh and never removes the new holder's lock.
TEST(RepoLockTest, TakenOverSlotIsNotRemovedByTheOldHolder) {
  storage::MemoryBackend backend;
  LockOptions o = Opts(true);
  o.refresh_every = seconds(1);
  auto lock = RepoLock::Acquire(backend, o);
  ASSERT_TRUE(lock.ok());
  const auto now = std::chrono::system_clock::now();
  LockInfo other{"9999999999999999", "elsewhere", 1, true, "gc", now, now + seconds(300)};
  ASSERT_TRUE(backend.Put("locks/exclusive", AsBytes(other.ToJson())).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ((*lock)->health().code(), StatusCode::kAborted);
  EXPECT_TRUE((*lock)->Release().ok());
  auto locks = ListLocks(backend).value();
  ASSERT_EQ(locks.size(), 1u);
  EXPECT_EQ(locks[0].id, other.id);
}

}  // namespace
}  // namespace cairn::repo
