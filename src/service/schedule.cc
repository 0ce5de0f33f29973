#include "service/schedule.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <optional>
#include <vector>

namespace cairn::service {

namespace {

namespace chr = std::chrono;

constexpr int64_t kMinEvery = 1;
constexpr int64_t kMaxEvery = int64_t{366} * 86400;

// Largest first, as ToString prints them.
constexpr std::array<std::pair<char, int64_t>, 5> kEveryUnits = {{
    {'w', 7 * 86400},
    {'d', 86400},
    {'h', 3600},
    {'m', 60},
    {'s', 1},
}};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string FormatInterval(int64_t seconds) {
  std::string out;
  for (auto [unit, size] : kEveryUnits) {
    if (seconds >= size) {
      out += fmt::format("{}{}", seconds / size, unit);
      seconds %= size;
    }
  }
  return out;
}

// The lowest set bit of `mask` at or above `from`, or -1.
int NextBit(uint64_t mask, int from) {
  if (from >= 64) return -1;
  uint64_t rest = mask >> from;
  if (rest == 0) return -1;
  return from + std::countr_zero(rest);
}

// One of the five cron fields.
struct CronField {
  std::string_view name;
  int position;  // 1-based
  int lo;
  int hi;
  std::string_view names_hint;             // "JAN-DEC", "" when none
  std::array<std::string_view, 12> names;  // names[i] means value name_base + i
  int name_base;
};

constexpr std::array<CronField, 5> kCronFields = {{
    {"minute", 1, 0, 59, "", {}, 0},
    {"hour", 2, 0, 23, "", {}, 0},
    {"day-of-month", 3, 1, 31, "", {}, 0},
    {"month",
     4,
     1,
     12,
     "JAN-DEC",
     {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"},
     1},
    {"day-of-week", 5, 0, 7, "SUN-SAT", {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}, 0},
}};

struct Macro {
  std::string_view name;
  std::string_view fields;
};
constexpr std::array<Macro, 7> kMacros = {{
    {"@hourly", "0 * * * *"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@weekly", "0 0 * * 0"},
    {"@monthly", "0 0 1 * *"},
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
}};

// Parses one value of `field` (a number, or a name where the field has
// names). Errors are the detail after "<field> (field N) ".
Result<int> ParseCronValue(std::string_view text, const CronField& field) {
  if (text.empty()) return InvalidArgumentError("has an empty value");
  if (std::all_of(text.begin(), text.end(), IsDigit)) {
    int v = 0;
    for (char c : text) v = std::min(v * 10 + (c - '0'), 1000);  // saturates
    if (v < field.lo || v > field.hi) {
      return InvalidArgumentError(
          fmt::format("value {} is out of {}-{}", text, field.lo, field.hi));
    }
    return v;
  }
  std::string lower = Lower(text);
  for (size_t i = 0; i < field.names.size(); ++i) {
    if (!field.names[i].empty() && lower == field.names[i]) return field.name_base + int(i);
  }
  if (field.names_hint.empty()) {
    return InvalidArgumentError(
        fmt::format("value \"{}\" is not a number in {}-{}", text, field.lo, field.hi));
  }
  return InvalidArgumentError(fmt::format("value \"{}\" is not a number in {}-{} or a name {}",
                                          text, field.lo, field.hi, field.names_hint));
}

// Parses one list element ("*", "N", "A-B", "*/S", "A-B/S", "A/S") into
// `mask`.
Status ParseCronElement(std::string_view element, const CronField& field, uint64_t& mask) {
  std::string_view base = element;
  std::optional<int> step;
  if (size_t slash = element.find('/'); slash != std::string_view::npos) {
    base = element.substr(0, slash);
    std::string_view step_text = element.substr(slash + 1);
    int width = field.hi - field.lo + 1;
    bool digits = !step_text.empty() && std::all_of(step_text.begin(), step_text.end(), IsDigit);
    int s = 0;
    if (digits) {
      for (char c : step_text) s = std::min(s * 10 + (c - '0'), 1000);  // saturates
    }
    if (!digits || s < 1 || s > width) {
      return InvalidArgumentError(
          fmt::format("step \"{}\" in \"{}\" is not a number in 1-{}", step_text, element, width));
    }
    step = s;
  }
  int a = field.lo;
  int b = field.hi;
  if (base != "*") {
    size_t dash = base.find('-');
    if (dash == std::string_view::npos) {
      ASSIGN_OR_RETURN(a, ParseCronValue(base, field));
      b = step ? field.hi : a;
    } else {
      ASSIGN_OR_RETURN(a, ParseCronValue(base.substr(0, dash), field));
      ASSIGN_OR_RETURN(b, ParseCronValue(base.substr(dash + 1), field));
      if (a > b) {
        return InvalidArgumentError(
            fmt::format("range \"{}\" is backwards (write A-B with A <= B)", base));
      }
    }
  }
  for (int v = a; v <= b; v += step.value_or(1)) mask |= uint64_t{1} << v;
  return Status::OK();
}

Result<uint64_t> ParseCronField(std::string_view text, const CronField& field) {
  uint64_t mask = 0;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string_view element = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (element.empty())
      return InvalidArgumentError(fmt::format("\"{}\" has an empty list element", text));
    RETURN_IF_ERROR(ParseCronElement(element, field, mask));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return mask;
}

std::vector<std::string_view> SplitFields(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

}  // namespace

Result<Schedule> Schedule::Every(std::string_view duration) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError(fmt::format("--every \"{}\": {}", duration, why));
  };
  if (duration.empty()) return bad("empty; give a duration such as 90s, 15m, 1h, 1h30m, 1d or 2w");
  int64_t total = 0;
  std::string_view rest = duration;
  while (!rest.empty()) {
    size_t i = 0;
    int64_t n = 0;
    while (i < rest.size() && IsDigit(rest[i])) {
      n = std::min<int64_t>(n * 10 + (rest[i] - '0'), kMaxEvery + 1);  // saturates
      ++i;
    }
    if (i == 0) {
      return bad(
          fmt::format("expected a number at \"{}\" (a duration is <number><unit>..., "
                      "units s, m, h, d, w)",
                      rest));
    }
    if (i == rest.size()) {
      return bad(fmt::format("missing unit after {} (s, m, h, d or w)", rest.substr(0, i)));
    }
    const auto* unit = std::find_if(kEveryUnits.begin(), kEveryUnits.end(),
                                    [&](const auto& u) { return u.first == rest[i]; });
    if (unit == kEveryUnits.end()) {
      return bad(fmt::format("unknown unit \"{}\" after {} (use s, m, h, d or w)", rest[i],
                             rest.substr(0, i)));
    }
    total = std::min(total + n * unit->second, kMaxEvery + 1);
    rest.remove_prefix(i + 1);
  }
  if (total < kMinEvery) return bad("must be at least 1s");
  if (total > kMaxEvery)
    return bad(fmt::format("must be at most 366d ({})", FormatInterval(kMaxEvery)));
  Schedule s;
  s.interval_ = chr::seconds(total);
  return s;
}

Result<Schedule> Schedule::Cron(std::string_view expression) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError(fmt::format("--cron \"{}\": {}", expression, why));
  };
  std::vector<std::string_view> given = SplitFields(expression);
  std::vector<std::string_view> fields = given;
  if (given.size() == 1 && given[0].starts_with('@')) {
    std::string name = Lower(given[0]);
    const auto* macro = std::find_if(kMacros.begin(), kMacros.end(),
                                     [&](const Macro& m) { return m.name == name; });
    if (macro == kMacros.end()) {
      return bad(
          fmt::format("unknown macro {} (use @hourly, @daily, @midnight, @weekly, "
                      "@monthly, @yearly or @annually)",
                      given[0]));
    }
    fields = SplitFields(macro->fields);
  } else if (given.size() != 5) {
    return bad(
        fmt::format("expected 5 fields (minute hour day-of-month month day-of-week) or a "
                    "macro such as @daily, got {}",
                    given.size()));
  }
  uint64_t masks[5];
  for (size_t i = 0; i < 5; ++i) {
    const CronField& field = kCronFields[i];
    Result<uint64_t> mask = ParseCronField(fields[i], field);
    if (!mask.ok()) {
      return bad(
          fmt::format("{} (field {}) {}", field.name, field.position, mask.status().message()));
    }
    masks[i] = *mask;
  }
  Schedule s;
  s.cron_ = true;
  if (given.size() == 1) {
    s.expression_ = Lower(given[0]);
  } else {
    for (std::string_view f : given) {
      if (!s.expression_.empty()) s.expression_ += ' ';
      s.expression_ += f;
    }
  }
  s.minutes_ = masks[0];
  s.hours_ = uint32_t(masks[1]);
  s.days_ = uint32_t(masks[2]);
  s.months_ = uint16_t(masks[3]);
  s.weekdays_ = uint8_t((masks[4] | (masks[4] >> 7)) & 0x7f);  // 7 is Sunday too
  s.day_star_ = fields[2].starts_with('*');
  s.weekday_star_ = fields[4].starts_with('*');
  // The Gregorian calendar repeats every 400 years (146097 days, a whole
  // number of weeks): no match in one cycle means none ever.
  if (s.Search(chr::sys_days{chr::year{2000} / 1 / 1}, chr::sys_days{chr::year{2400} / 1 / 1}) ==
      TimePoint::max()) {
    return bad(
        fmt::format("never matches: no date has day-of-month \"{}\", month \"{}\" and "
                    "day-of-week \"{}\"",
                    fields[2], fields[3], fields[4]));
  }
  return s;
}

std::string Schedule::ToString() const {
  if (cron_) return "cron " + expression_;
  return "every " + FormatInterval(interval_.count());
}

Result<Schedule> Schedule::Parse(std::string_view canonical) {
  auto context = [&] { return fmt::format("schedule \"{}\"", canonical); };
  if (canonical.starts_with("every ")) {
    ASSIGN_OR_RETURN_CTX(Schedule s, Every(canonical.substr(6)), context());
    return s;
  }
  if (canonical.starts_with("cron ")) {
    ASSIGN_OR_RETURN_CTX(Schedule s, Cron(canonical.substr(5)), context());
    return s;
  }
  return InvalidArgumentError(fmt::format(
      "schedule \"{}\" is neither \"every <duration>\" nor \"cron <expression>\"", canonical));
}

bool Schedule::DayMatches(chr::year_month_day ymd) const {
  bool day = (days_ >> unsigned(ymd.day())) & 1;
  bool weekday = (weekdays_ >> chr::weekday(chr::sys_days(ymd)).c_encoding()) & 1;
  if (day_star_ || weekday_star_) return day && weekday;
  return day || weekday;
}

TimePoint Schedule::Search(chr::sys_time<chr::minutes> from, chr::sys_days end) const {
  chr::sys_days day = chr::floor<chr::days>(from);
  int minute_of_day = int((from - day).count());
  auto next_day = [&] {
    day += chr::days{1};
    minute_of_day = 0;
  };
  while (day < end) {
    chr::year_month_day ymd{day};
    if (!((months_ >> unsigned(ymd.month())) & 1)) {
      chr::year_month_day first = ymd.year() / ymd.month() / 1;
      first += chr::months{1};
      day = chr::sys_days{first};
      minute_of_day = 0;
      continue;
    }
    if (!DayMatches(ymd)) {
      next_day();
      continue;
    }
    int hour = NextBit(hours_, minute_of_day / 60);
    if (hour < 0) {
      next_day();
      continue;
    }
    int minute = NextBit(minutes_, hour == minute_of_day / 60 ? minute_of_day % 60 : 0);
    if (minute < 0) {
      hour = NextBit(hours_, hour + 1);
      if (hour < 0) {
        next_day();
        continue;
      }
      minute = NextBit(minutes_, 0);
    }
    return day + chr::hours{hour} + chr::minutes{minute};
  }
  return TimePoint::max();
}

TimePoint Schedule::Next(TimePoint after) const {
  if (!cron_) return after + interval_;
  chr::sys_time<chr::minutes> from = chr::floor<chr::minutes>(after) + chr::minutes{1};
  // A valid expression matches within any 400-year cycle (checked by Cron).
  return Search(from, chr::floor<chr::days>(from) + chr::days{146097 + 366});
}

}  // namespace cairn::service
