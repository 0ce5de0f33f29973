// Schedule: when a policy runs, parsed from `--every DURATION` or
// `--cron EXPR`, and the next run time after a given instant.
//
//   every  a fixed interval: the next run is `after + interval`.
//   cron   five fields in UTC (minute hour day-of-month month day-of-week);
//          the next run is the first whole minute strictly after `after`
//          that matches all of them.
//
// The canonical text ("every 1h30m", "cron 0 3 * * *") is what the catalog
// stores and the API shows; Parse(ToString()) gives back an equal Schedule.
// Next is pure (no clock) and jumps over non-matching months, days and
// hours, so it costs microseconds even for a schedule that matches once in
// years ("0 0 29 2 *").
//
// Supported instants: years 1970-2200 (system_clock's nanosecond range ends
// in 2262).
//
// Thread-safety: an immutable value; const methods may be called from any
// thread at once.
#ifndef CAIRN_SERVICE_SCHEDULE_H_
#define CAIRN_SERVICE_SCHEDULE_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace cairn::service {

using TimePoint = std::chrono::system_clock::time_point;

class Schedule {
 public:
  // "--every": one or more <number><unit> parts, units s, m, h, d, w ("90s",
  // "15m", "1h", "1h30m", "1d", "2w"); the parts add up. At least 1 s, at
  // most 366 d. kInvalidArgument naming "--every" and the text otherwise.
  static Result<Schedule> Every(std::string_view duration);

  // "--cron": five whitespace-separated fields, minute (0-59) hour (0-23)
  // day-of-month (1-31) month (1-12 or JAN-DEC) day-of-week (0-7 or
  // SUN-SAT; 0 and 7 are Sunday), in UTC. A field is a comma-separated list
  // of "*", "N", "A-B", "*/S", "A-B/S" or "A/S" (= A-max/S); names are
  // case-insensitive. Macros: @hourly, @daily (= @midnight), @weekly,
  // @monthly, @yearly (= @annually).
  // Day rule (Vixie cron): when neither day-of-month nor day-of-week starts
  // with "*", a day matches if EITHER matches; otherwise both must match.
  // kInvalidArgument naming "--cron", the expression, the field by name and
  // position, the bad value and the allowed range, e.g.
  //   --cron "0 24 * * *": hour (field 2) value 24 is out of 0-23
  // An expression that can never match ("0 0 30 2 *") is refused too.
  static Result<Schedule> Cron(std::string_view expression);

  // "every 1h30m" (largest units first: "90m" gives "every 1h30m", "14d"
  // gives "every 2w") or "cron <expression as given, fields single-spaced>"
  // ("cron @daily" for a macro).
  std::string ToString() const;

  // The inverse of ToString: "every <duration>" or "cron <expression>".
  // kInvalidArgument naming the text otherwise.
  static Result<Schedule> Parse(std::string_view canonical);

  // The first run time strictly after `after`: every → after + interval();
  // cron → the first whole minute > after that matches (seconds and
  // sub-seconds of `after` are dropped first: 10:00:30 → 10:01:00 for
  // "* * * * *"; 10:00:00 exactly → 10:01:00).
  TimePoint Next(TimePoint after) const;

  bool is_cron() const { return cron_; }
  // every: the interval; cron: 0.
  std::chrono::seconds interval() const { return interval_; }

  friend bool operator==(const Schedule&, const Schedule&) = default;

 private:
  Schedule() = default;

  bool DayMatches(std::chrono::year_month_day ymd) const;
  // The first matching minute >= `from` and before the day `end`, or
  // TimePoint::max() when there is none.
  TimePoint Search(std::chrono::sys_time<std::chrono::minutes> from,
                   std::chrono::sys_days end) const;

  bool cron_ = false;
  std::chrono::seconds interval_{0};
  std::string expression_;  // cron: fields single-spaced
  // cron: bit i set = value i allowed.
  uint64_t minutes_ = 0;       // 0-59
  uint32_t hours_ = 0;         // 0-23
  uint32_t days_ = 0;          // 1-31
  uint16_t months_ = 0;        // 1-12
  uint8_t weekdays_ = 0;       // 0-6, Sunday = 0
  bool day_star_ = false;      // day-of-month field starts with "*"
  bool weekday_star_ = false;  // day-of-week field starts with "*"
};

}  // namespace cairn::service

#endif  // CAIRN_SERVICE_SCHEDULE_H_
