#include "service/schedule.h"

#include <gtest/gtest.h>

#include <string>

#include "core/units.h"

namespace cairn::service {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

TimePoint T(const char* rfc3339) {
  Result<TimePoint> t = ParseTimeUtc(rfc3339);
  EXPECT_TRUE(t.ok()) << rfc3339 << ": " << t.status().ToString();
  return t.value_or(TimePoint{});
}

TEST(ScheduleEveryTest, ParsesAndNormalizes) {
  struct Case {
    const char* text;
    int64_t seconds;
    const char* canonical;
  };
  const Case cases[] = {
      {"1s", 1, "every 1s"},
      {"90s", 90, "every 1m30s"},
      {"15m", 900, "every 15m"},
      {"1h", 3600, "every 1h"},
      {"1h30m", 5400, "every 1h30m"},
      {"90m", 5400, "every 1h30m"},
      {"30m1h", 5400, "every 1h30m"},
      {"1h0m", 3600, "every 1h"},
      {"3600s", 3600, "every 1h"},
      {"1d", 86400, "every 1d"},
      {"36h", 129600, "every 1d12h"},
      {"2w", 1209600, "every 2w"},
      {"14d", 1209600, "every 2w"},
      {"1w1d1h1m1s", 694861, "every 1w1d1h1m1s"},
      {"366d", 366 * 86400, "every 52w2d"},
  };
  for (const Case& c : cases) {
    Result<Schedule> s = Schedule::Every(c.text);
    ASSERT_TRUE(s.ok()) << c.text << ": " << s.status().ToString();
    EXPECT_FALSE(s->is_cron()) << c.text;
    EXPECT_EQ(s->interval(), seconds(c.seconds)) << c.text;
    EXPECT_EQ(s->ToString(), c.canonical) << c.text;
  }
}

TEST(ScheduleEveryTest, RejectsNamingFlagAndText) {
  struct Case {
    const char* text;
    const char* why;
  };
  const Case cases[] = {
      {"0s", "at least 1s"},
      {"0m0s", "at least 1s"},
      {"", "empty"},
      {"5", "missing unit"},
      {"5x", "unknown unit \"x\""},
      {"1H", "unknown unit \"H\""},
      {"1h-", "expected a number at \"-\""},
      {"-1h", "expected a number"},
      {" 1h", "expected a number"},
      {"1h ", "expected a number"},
      {"1.5h", "unknown unit \".\""},
      {"367d", "at most 366d"},
      {"52w3d", "at most 366d"},
      {"99999999999999999999999s", "at most 366d"},
  };
  for (const Case& c : cases) {
    Result<Schedule> s = Schedule::Every(c.text);
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << c.text;
    const std::string msg = s.status().message();
    EXPECT_NE(msg.find(std::string("--every \"") + c.text + "\""), std::string::npos) << msg;
    EXPECT_NE(msg.find(c.why), std::string::npos) << msg;
  }
}

TEST(ScheduleEveryTest, NextAddsTheInterval) {
  Schedule s = *Schedule::Every("1h30m");
  EXPECT_EQ(s.Next(T("2026-12-02T10:00:00Z")), T("2026-12-02T11:30:00Z"));
  // Sub-second parts are kept: an interval schedule is not minute-aligned.
  EXPECT_EQ(s.Next(T("2026-12-02T23:59:59.250Z")), T("2026-12-03T01:29:59.250Z"));
}

TEST(ScheduleCronTest, NextTable) {
  struct Case {
    const char* expr;
    const char* after;
    const char* want;
  };
  // 2026-12-02 is a Wednesday.
  const Case cases[] = {
      // Every minute; seconds in `after` are dropped; strictly after.
      {"* * * * *", "2026-12-02T10:00:30Z", "2026-12-02T10:01:00Z"},
      {"* * * * *", "2026-12-02T10:00:00Z", "2026-12-02T10:01:00Z"},
      {"* * * * *", "2026-12-02T10:00:59.999Z", "2026-12-02T10:01:00Z"},
      {"* * * * *", "2026-12-02T23:59:00Z", "2026-12-03T00:00:00Z"},
      // Single values.
      {"30 * * * *", "2026-12-02T10:00:00Z", "2026-12-02T10:30:00Z"},
      {"30 * * * *", "2026-12-02T10:30:00Z", "2026-12-02T11:30:00Z"},
      {"0 3 * * *", "2026-12-02T03:00:00Z", "2026-12-03T03:00:00Z"},
      {"0 3 * * *", "2026-12-02T02:59:59Z", "2026-12-02T03:00:00Z"},
      {"15 8,20 * * *", "2026-12-02T08:16:00Z", "2026-12-02T20:15:00Z"},
      {"15 8,20 * * *", "2026-12-02T20:15:00Z", "2026-12-03T08:15:00Z"},
      // Lists, ranges and steps.
      {"1,15,30 * * * *", "2026-12-02T10:15:00Z", "2026-12-02T10:30:00Z"},
      {"1,15,30 * * * *", "2026-12-02T10:30:00Z", "2026-12-02T11:01:00Z"},
      {"*/15 * * * *", "2026-12-02T10:07:00Z", "2026-12-02T10:15:00Z"},
      {"*/15 * * * *", "2026-12-02T10:45:00Z", "2026-12-02T11:00:00Z"},
      {"10-20/5 * * * *", "2026-12-02T10:21:00Z", "2026-12-02T11:10:00Z"},
      {"5/20 * * * *", "2026-12-02T10:26:00Z", "2026-12-02T10:45:00Z"},
      {"0 */6 * * *", "2026-12-02T18:00:00Z", "2026-12-03T00:00:00Z"},
      {"0 22-23,1 * * *", "2026-12-02T23:00:00Z", "2026-12-03T01:00:00Z"},
      {"0 0 1-7/3 * *", "2026-12-02T00:00:00Z", "2026-12-04T00:00:00Z"},
      {"0 0 1 */4 *", "2026-12-02T00:00:00Z", "2027-01-01T00:00:00Z"},
      {"0 0 1 2-12/4 *", "2026-12-02T00:00:00Z", "2027-02-01T00:00:00Z"},
      // Names, case-insensitive.
      {"0 12 * JUN *", "2026-12-02T00:00:00Z", "2027-06-01T12:00:00Z"},
      {"0 12 1 jan,Jul *", "2026-12-02T00:00:00Z", "2027-01-01T12:00:00Z"},
      {"0 9-17 * * MON-FRI", "2026-12-04T17:30:00Z", "2026-12-07T09:00:00Z"},
      {"0 0 * * sun", "2026-12-02T00:00:00Z", "2026-12-06T00:00:00Z"},
      // Day-of-week: 0 and 7 are Sunday.
      {"0 0 * * 0", "2026-12-02T00:00:00Z", "2026-12-06T00:00:00Z"},
      {"0 0 * * 7", "2026-12-02T00:00:00Z", "2026-12-06T00:00:00Z"},
      {"0 0 * * 5-7", "2026-12-02T00:00:00Z", "2026-12-04T00:00:00Z"},
      {"0 0 * * 6-7", "2026-12-06T00:00:00Z", "2026-12-12T00:00:00Z"},
      // Month ends: the 31st skips short months, the 30th skips February.
      {"0 0 31 * *", "2026-12-31T00:00:00Z", "2027-01-31T00:00:00Z"},
      {"0 0 31 * *", "2027-01-31T00:00:00Z", "2027-03-31T00:00:00Z"},
      {"0 0 30 * *", "2027-01-30T00:00:00Z", "2027-03-30T00:00:00Z"},
      // Feb 29: from a non-leap year to the next leap year, and on.
      {"0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z"},
      {"0 0 29 2 *", "2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"},
      {"0 0 29 2 *", "2099-03-01T00:00:00Z", "2104-02-29T00:00:00Z"},  // 2100 is no leap year
      // Year rollover.
      {"59 23 31 12 *", "2026-12-31T23:59:00Z", "2027-12-31T23:59:00Z"},
      {"0 0 1 1 *", "2026-12-31T23:59:30Z", "2027-01-01T00:00:00Z"},
      {"* * * * *", "2026-12-31T23:59:59Z", "2027-01-01T00:00:00Z"},
      // Both day fields restricted: a day matches if EITHER does.
      {"0 0 13 * 5", "2026-12-02T00:00:00Z", "2026-12-04T00:00:00Z"},  // Friday 4th
      {"0 0 13 * 5", "2026-12-11T00:00:00Z", "2026-12-13T00:00:00Z"},  // Sunday 13th
      {"0 0 29 2 1", "2026-03-01T00:00:00Z", "2027-02-01T00:00:00Z"},  // a Monday in Feb
      // One of them starts with "*": both must match (Vixie cron).
      {"0 0 */2 * 5", "2026-12-02T00:00:00Z", "2026-12-11T00:00:00Z"},   // odd day and Friday
      {"0 0 29 2 */7", "2026-03-01T00:00:00Z", "2032-02-29T00:00:00Z"},  // Feb 29 on a Sunday
      {"0 0 1 * *", "2026-12-02T00:00:00Z", "2027-01-01T00:00:00Z"},
      // Macros.
      {"@hourly", "2026-12-02T10:00:00Z", "2026-12-02T11:00:00Z"},
      {"@daily", "2026-12-02T10:00:00Z", "2026-12-03T00:00:00Z"},
      {"@midnight", "2026-12-02T10:00:00Z", "2026-12-03T00:00:00Z"},
      {"@weekly", "2026-12-02T10:00:00Z", "2026-12-06T00:00:00Z"},
      {"@monthly", "2026-12-02T10:00:00Z", "2027-01-01T00:00:00Z"},
      {"@yearly", "2026-12-02T10:00:00Z", "2027-01-01T00:00:00Z"},
      {"@ANNUALLY", "2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"},
  };
  for (const Case& c : cases) {
    Result<Schedule> s = Schedule::Cron(c.expr);
    ASSERT_TRUE(s.ok()) << c.expr << ": " << s.status().ToString();
    EXPECT_TRUE(s->is_cron());
    EXPECT_EQ(s->interval(), seconds(0));
    EXPECT_EQ(FormatTimeUtc(s->Next(T(c.after))), c.want)
        << "\"" << c.expr << "\" after " << c.after;
  }
}

TEST(ScheduleCronTest, ErrorExactMessage) {
  Result<Schedule> s = Schedule::Cron("0 24 * * *");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().message(), "--cron \"0 24 * * *\": hour (field 2) value 24 is out of 0-23");
}

TEST(ScheduleCronTest, ErrorsNameFieldAndValue) {
  struct Case {
    const char* expr;
    const char* field;  // "" when the error is about the whole expression
    const char* detail;
  };
  const Case cases[] = {
      {"60 * * * *", "minute (field 1)", "value 60 is out of 0-59"},
      {"a * * * *", "minute (field 1)", "value \"a\" is not a number in 0-59"},
      {"jan * * * *", "minute (field 1)", "\"jan\""},
      {"*/0 * * * *", "minute (field 1)", "step \"0\""},
      {"*/61 * * * *", "minute (field 1)", "step \"61\""},
      {"*/x * * * *", "minute (field 1)", "step \"x\""},
      {"5-3 * * * *", "minute (field 1)", "range \"5-3\" is backwards"},
      {"1,,2 * * * *", "minute (field 1)", "empty list element"},
      {"1, * * * *", "minute (field 1)", "empty list element"},
      {"* 1- * * *", "hour (field 2)", "empty value"},
      {"* 99999999999 * * *", "hour (field 2)", "value 99999999999 is out of 0-23"},
      {"* * 0 * *", "day-of-month (field 3)", "value 0 is out of 1-31"},
      {"* * 32 * *", "day-of-month (field 3)", "value 32 is out of 1-31"},
      {"* * * 0 *", "month (field 4)", "value 0 is out of 1-12"},
      {"* * * 13 *", "month (field 4)", "value 13 is out of 1-12"},
      {"* * * foo *", "month (field 4)", "value \"foo\" is not a number in 1-12 or a name JAN-DEC"},
      {"* * * * 8", "day-of-week (field 5)", "value 8 is out of 0-7"},
      {"* * * * funday", "day-of-week (field 5)", "or a name SUN-SAT"},
      {"* * * * jan", "day-of-week (field 5)", "\"jan\""},
      {"* * * *", "", "expected 5 fields"},
      {"* * * * * *", "", "got 6"},
      {"", "", "got 0"},
      {"@reboot", "", "unknown macro @reboot"},
      {"@daily *", "", "expected 5 fields"},
      {"0 0 30 2 *", "", "never matches"},
      {"0 0 31 4,6,9,11 *", "", "never matches"},
      {"0 0 30-31 feb *", "", "never matches"},
  };
  for (const Case& c : cases) {
    Result<Schedule> s = Schedule::Cron(c.expr);
    ASSERT_FALSE(s.ok()) << c.expr;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << c.expr;
    const std::string msg = s.status().message();
    EXPECT_EQ(msg.rfind(std::string("--cron \"") + c.expr + "\": ", 0), 0u) << msg;
    EXPECT_NE(msg.find(c.field), std::string::npos) << msg;
    EXPECT_NE(msg.find(c.detail), std::string::npos) << msg;
  }
}

TEST(ScheduleTest, CanonicalTextRoundTrips) {
  const std::pair<Result<Schedule>, const char*> cases[] = {
      {Schedule::Every("90m"), "every 1h30m"},
      {Schedule::Every("1s"), "every 1s"},
      {Schedule::Every("366d"), "every 52w2d"},
      {Schedule::Cron("0 3 * * *"), "cron 0 3 * * *"},
      {Schedule::Cron("  0\t3  *   * *  "), "cron 0 3 * * *"},
      {Schedule::Cron("*/5 9-17 1,15 jan-jun MON-FRI"), "cron */5 9-17 1,15 jan-jun MON-FRI"},
      {Schedule::Cron("0 0 * * 7"), "cron 0 0 * * 7"},
      {Schedule::Cron("@Daily"), "cron @daily"},
      {Schedule::Cron("@annually"), "cron @annually"},
  };
  for (const auto& [s, canonical] : cases) {
    ASSERT_TRUE(s.ok()) << canonical << ": " << s.status().ToString();
    EXPECT_EQ(s->ToString(), canonical);
    Result<Schedule> back = Schedule::Parse(s->ToString());
    ASSERT_TRUE(back.ok()) << canonical << ": " << back.status().ToString();
    EXPECT_TRUE(*back == *s) << canonical;
    EXPECT_EQ(back->ToString(), canonical);
    EXPECT_EQ(back->Next(T("2026-12-02T10:00:00Z")), s->Next(T("2026-12-02T10:00:00Z")))
        << canonical;
  }
  EXPECT_FALSE(*Schedule::Every("1h") == *Schedule::Every("2h"));
  EXPECT_FALSE(*Schedule::Cron("0 3 * * *") == *Schedule::Cron("0 4 * * *"));
}

TEST(ScheduleTest, ParseRejectsOtherText) {
  for (const char* text :
       {"", "hourly", "every", "every ", "cron", "every 5x", "cron 0 24 * * *", "Every 1h", "1h"}) {
    Result<Schedule> s = Schedule::Parse(text);
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_NE(s.status().message().find(std::string("schedule \"") + text + "\""),
              std::string::npos)
        << s.status().message();
  }
}

TEST(ScheduleCronTest, SuccessiveNextsStepExactlyFiveMinutes) {
  Schedule s = *Schedule::Cron("*/5 * * * *");
  TimePoint t = s.Next(T("2026-12-31T23:42:17Z"));
  ASSERT_EQ(FormatTimeUtc(t), "2026-12-31T23:45:00Z");
  for (int i = 0; i < 10000; ++i) {
    TimePoint next = s.Next(t);
    ASSERT_EQ(next - t, minutes(5)) << "after " << FormatTimeUtc(t);
    t = next;
  }
  EXPECT_EQ(t, T("2026-12-31T23:45:00Z") + minutes(5) * 10000);
}

TEST(ScheduleCronTest, NextIsAMatchingMinuteAfterAnyInstant) {
  // Over a year of instants at an odd stride, Next is strictly later, at
  // most 12 hours later (the largest gap between runs) and one of the four
  // matching times of day.
  Schedule twice = *Schedule::Cron("0,30 3,15 * * *");
  for (TimePoint t = T("2027-01-01T00:00:00Z"); t < T("2028-01-01T00:00:00Z");
       t += seconds(86400 / 7 + 13)) {
    TimePoint next = twice.Next(t);
    ASSERT_GT(next, t);
    ASSERT_LE(next - t, std::chrono::hours(12));
    std::string text = FormatTimeUtc(next);
    std::string clock = text.substr(11);
    ASSERT_TRUE(clock == "03:00:00Z" || clock == "03:30:00Z" || clock == "15:00:00Z" ||
                clock == "15:30:00Z")
        << text;
  }
}

}  // namespace
}  // namespace cairn::service
