#include "repo/retention.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <tuple>

#include "core/units.h"

namespace cairn::repo {
namespace {

using namespace std::chrono;

// The ISO 8601 week ("2026-W48") of a UTC day: weeks start on Monday, and
// week 1 is the one holding the year's first Thursday.
std::string IsoWeek(sys_days day) {
  const weekday wd{day};
  const int iso_wd = wd.iso_encoding();  // Monday 1 … Sunday 7
  const sys_days thursday = day + days(4 - iso_wd);
  const year_month_day t{thursday};
  const sys_days jan1 = sys_days{t.year() / January / 1};
  const int week = static_cast<int>((thursday - jan1).count() / 7) + 1;
  return fmt::format("{:04}-W{:02}", static_cast<int>(t.year()), week);
}

struct Buckets {
  std::string hour, day, week, month, year;
};

Buckets BucketsOf(system_clock::time_point t) {
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{floor<seconds>(t - day)};
  const int y = static_cast<int>(ymd.year());
  const unsigned m = static_cast<unsigned>(ymd.month());
  const unsigned d = static_cast<unsigned>(ymd.day());
  Buckets b;
  b.year = fmt::format("{:04}", y);
  b.month = fmt::format("{:04}-{:02}", y, m);
  b.day = fmt::format("{:04}-{:02}-{:02}", y, m, d);
  b.hour = fmt::format("{}T{:02}", b.day, hms.hours().count());
  b.week = IsoWeek(day);
  return b;
}

// One bucketed rule: keeps the newest snapshot of each of the first `count`
// distinct buckets met going newest first.
struct Rule {
  const char* name;
  int count;  // remaining; -1 = unlimited
  std::string Buckets::*field;
  std::optional<std::string> last_bucket;

  void Apply(const Buckets& b, RetentionDecision& d) {
    if (count == 0) return;
    const std::string& bucket = b.*field;
    if (last_bucket == bucket) return;
    last_bucket = bucket;
    d.keep = true;
    d.reasons.push_back(std::string(name) + " " + bucket);
    if (count > 0) --count;
  }
};

}  // namespace

std::string KeepRules::Describe() const {
  std::string out;
  auto add = [&](const char* name, int n) {
    if (n == 0) return;
    if (!out.empty()) out += ", ";
    out += fmt::format("{} {}", name, n < 0 ? std::string("all") : std::to_string(n));
  };
  add("last", last);
  add("hourly", hourly);
  add("daily", daily);
  add("weekly", weekly);
  add("monthly", monthly);
  add("yearly", yearly);
  return out;
}

Status KeepRules::Validate() const {
  for (auto [name, n] : {std::pair{"last", last},
                         {"hourly", hourly},
                         {"daily", daily},
                         {"weekly", weekly},
                         {"monthly", monthly},
                         {"yearly", yearly}}) {
    if (n < -1) {
      return InvalidArgumentError(
          fmt::format("--keep-{} {}: a count is 0 or more, or -1 for no limit", name, n));
    }
  }
  return Status::OK();
}

std::vector<RetentionDecision> ApplyRetention(std::vector<SnapshotHeader> snapshots,
                                              const KeepRules& rules) {
  // Newest first; equal created times order by id so the result is stable.
  std::sort(snapshots.begin(), snapshots.end(),
            [](const SnapshotHeader& a, const SnapshotHeader& b) {
              return std::tie(a.created, a.id) > std::tie(b.created, b.id);
            });
  Rule bucketed[] = {{"hourly", rules.hourly, &Buckets::hour, std::nullopt},
                     {"daily", rules.daily, &Buckets::day, std::nullopt},
                     {"weekly", rules.weekly, &Buckets::week, std::nullopt},
                     {"monthly", rules.monthly, &Buckets::month, std::nullopt},
                     {"yearly", rules.yearly, &Buckets::year, std::nullopt}};
  std::vector<RetentionDecision> out;
  int last_kept = 0;
  for (SnapshotHeader& h : snapshots) {
    RetentionDecision d;
    d.snapshot = std::move(h);
    if (rules.last < 0 || last_kept < rules.last) {
      ++last_kept;
      d.keep = true;
      d.reasons.push_back(fmt::format("last {}", last_kept));
    }
    Result<system_clock::time_point> created = ParseTimeUtc(d.snapshot.created);
    if (!created.ok()) {
      d.keep = true;
      d.reasons.push_back("created time unreadable");
    } else {
      const Buckets b = BucketsOf(*created);
      for (Rule& rule : bucketed) rule.Apply(b, d);
    }
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<RetentionGroup> ApplyRetentionByGroup(const std::vector<SnapshotHeader>& snapshots,
                                                  const KeepRules& rules,
                                                  const std::map<std::string, std::string>& tags) {
  std::map<std::pair<std::string, std::string>, std::vector<SnapshotHeader>> groups;
  for (const SnapshotHeader& h : snapshots) {
    bool tagged = std::all_of(tags.begin(), tags.end(), [&](const auto& kv) {
      auto it = h.tags.find(kv.first);
      return it != h.tags.end() && it->second == kv.second;
    });
    if (tagged) groups[{h.host, h.source}].push_back(h);
  }
  std::vector<RetentionGroup> out;
  for (auto& [key, members] : groups) {
    out.push_back({key.first, key.second, ApplyRetention(std::move(members), rules)});
  }
  return out;
}

}  // namespace cairn::repo
