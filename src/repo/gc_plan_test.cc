#include <gtest/gtest.h>

#include "repo/gc.h"

namespace cairn::repo {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

const Clock::time_point kNow = Clock::from_time_t(1'800'000'000);

ChunkId Chunk(int n) {
  ChunkId id;
  id.bytes[0] = std::byte(n);
  id.bytes[1] = std::byte{0xc0};
  return id;
}
PackId Pack(int n) {
  PackId id;
  id.bytes[0] = std::byte(n);
  id.bytes[1] = std::byte{0x9a};
  return id;
}

// A pack of `chunks` chunks of 100 blob bytes each (chunk ids first..).
IndexedPack MakePack(int pack, int first, int chunks) {
  IndexedPack p{Pack(pack), 0, {}};
  for (int i = 0; i < chunks; ++i) {
    p.entries.push_back({Chunk(first + i), uint64_t(i) * 100, 100, 4096});
  }
  p.size = uint64_t(chunks) * 100 + 60;
  return p;
}

storage::ObjectInfo Listed(const PackId& id, uint64_t size, std::chrono::seconds age) {
  return {PackKey(id), size, kNow - age};
}

enum class Fate { kKept, kRemoved, kRepacked, kKeptYoung, kMissing };

struct Case {
  const char* name;
  int chunks;               // in the pack
  int used;                 // how many of them some manifest names
  std::chrono::seconds age;  // of the pack object
  bool listed = true;
  Fate fate;
};

Fate FateOf(const GcPlan& plan, const PackId& id) {
  auto in = [&](const std::vector<PackId>& v) {
    return std::find(v.begin(), v.end(), id) != v.end();
  };
  if (in(plan.remove)) return Fate::kRemoved;
  if (in(plan.repack)) return Fate::kRepacked;
  if (in(plan.kept_young)) return Fate::kKeptYoung;
  if (in(plan.missing)) return Fate::kMissing;
  return Fate::kKept;
}

TEST(GcPlanTest, IndexedPacks) {
  const Case cases[] = {
      {"unused pack removed", 4, 0, 2h, true, Fate::kRemoved},
      {"unused young pack kept", 4, 0, 10min, true, Fate::kKeptYoung},
      {"unused pack from the future kept", 4, 0, -1h, true, Fate::kKeptYoung},
      {"mostly unused repacked", 4, 1, 2h, true, Fate::kRepacked},
      {"mostly unused young kept", 4, 1, 30min, true, Fate::kKeptYoung},
      {"half used kept", 4, 2, 2h, true, Fate::kKept},
      {"mostly used kept", 4, 3, 2h, true, Fate::kKept},
      {"fully used kept", 4, 4, 2h, true, Fate::kKept},
      {"empty pack removed", 0, 0, 2h, true, Fate::kRemoved},
      {"missing pack reported", 4, 1, 2h, false, Fate::kMissing},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    GcInputs in;
    in.now = kNow;
    in.packs.push_back(MakePack(1, 0, c.chunks));
    for (int i = 0; i < c.used; ++i) in.used.insert(Chunk(i));
    if (c.listed) in.listing.push_back(Listed(Pack(1), in.packs[0].size, c.age));
    GcPlan plan = PlanGc(in, GcOptions{});
    EXPECT_EQ(FateOf(plan, Pack(1)), c.fate);
    EXPECT_EQ(plan.chunks_used, uint64_t(c.used));
    EXPECT_EQ(plan.chunks_unused, uint64_t(c.chunks - c.used));
    EXPECT_TRUE(plan.unindexed.empty());
    uint64_t size = in.packs[0].size;
    switch (c.fate) {
      case Fate::kRemoved: EXPECT_EQ(plan.bytes_freed, size); break;
      case Fate::kRepacked:
        EXPECT_EQ(plan.bytes_repacked, uint64_t(c.used) * 100);
        EXPECT_EQ(plan.bytes_freed, size - uint64_t(c.used) * 100);
        break;
      default: EXPECT_EQ(plan.bytes_freed, 0u); EXPECT_EQ(plan.bytes_repacked, 0u);
    }
  }
}

TEST(GcPlanTest, UnindexedPacks) {
  struct UCase {
    const char* name;
    std::string key;
    std::chrono::seconds age;
    bool unindexed;
    bool removed;
  };
  const UCase cases[] = {
      {"old unindexed removed", PackKey(Pack(7)), 3h, true, true},
      {"young unindexed kept", PackKey(Pack(7)), 59min, true, false},
      {"at exactly grace removed", PackKey(Pack(7)), 1h, true, true},
      {"not a pack key left alone", "packs/07/notes.txt", 3h, false, false},
      {"wrong folder left alone", "packs/ff/" + Pack(7).Hex(), 3h, false, false},
  };
  for (const UCase& c : cases) {
    SCOPED_TRACE(c.name);
    GcInputs in;
    in.now = kNow;
    in.listing.push_back({c.key, 1000, kNow - c.age});
    GcPlan plan = PlanGc(in, GcOptions{});
    EXPECT_EQ(plan.unindexed.size(), c.unindexed ? 1u : 0u);
    EXPECT_EQ(plan.remove_unindexed.size(), c.removed ? 1u : 0u);
    EXPECT_EQ(plan.bytes_freed, c.removed ? 1000u : 0u);
    EXPECT_TRUE(plan.remove.empty());
    EXPECT_TRUE(plan.repack.empty());
  }
}

TEST(GcPlanTest, GraceAndThresholdAreOptions) {
  GcInputs in;
  in.now = kNow;
  in.packs.push_back(MakePack(1, 0, 4));
  in.used.insert(Chunk(0));
  in.used.insert(Chunk(1));
  in.listing.push_back(Listed(Pack(1), in.packs[0].size, 0s));
  GcOptions options;
  options.grace = 0s;
  EXPECT_EQ(FateOf(PlanGc(in, options), Pack(1)), Fate::kKept);  // half used
  options.repack_below = 0.75;
  EXPECT_EQ(FateOf(PlanGc(in, options), Pack(1)), Fate::kRepacked);
  options.grace = 1s;
  EXPECT_EQ(FateOf(PlanGc(in, options), Pack(1)), Fate::kKeptYoung);
}

TEST(GcPlanTest, ManyPacksSortedAndTotalled) {
  GcInputs in;
  in.now = kNow;
  for (int p = 5; p >= 1; --p) {
    in.packs.push_back(MakePack(p, p * 10, 2));
    in.listing.push_back(Listed(Pack(p), in.packs.back().size, 2h));
  }
  in.listing.push_back(Listed(Pack(9), 500, 2h));  // unindexed
  in.used.insert(Chunk(30));                        // pack 3: half used
  GcPlan plan = PlanGc(in, GcOptions{});
  EXPECT_EQ(plan.remove, (std::vector<PackId>{Pack(1), Pack(2), Pack(4), Pack(5)}));
  EXPECT_TRUE(plan.repack.empty());
  EXPECT_EQ(plan.remove_unindexed, std::vector<std::string>{PackKey(Pack(9))});
  EXPECT_EQ(plan.bytes_freed, 4 * 260u + 500u);
  EXPECT_EQ(plan.chunks_used, 1u);
  EXPECT_EQ(plan.chunks_unused, 9u);
}

}  // namespace
}  // namespace cairn::repo
