#include "core/units.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

TEST(ParseSizeTest, Accepts) {
  const std::pair<const char*, uint64_t> cases[] = {
      {"0", 0},
      {"4096", 4096},
      {"4096B", 4096},
      {"512K", 512 << 10},
      {"512k", 512 << 10},
      {"512KiB", 512 << 10},
      {"512kib", 512 << 10},
      {"512KB", 512 << 10},
      {"16M", 16ull << 20},
      {"16MiB", 16ull << 20},
      {"1G", 1ull << 30},
      {"2T", 2ull << 40},
      {"3P", 3ull << 50},
      {"15E", 15ull << 60},
      {"18446744073709551615", 18446744073709551615ull},
  };
  for (auto [text, want] : cases) {
    Result<uint64_t> r = ParseSize(text);
    ASSERT_TRUE(r.ok()) << text << ": " << r.status().ToString();
    EXPECT_EQ(*r, want) << text;
  }
}

TEST(ParseSizeTest, Rejects) {
  for (const char* text : {"", "-1", "K", "12X", "1.5G", " 4096", "4096 ", "1GG", "1iB", "1Gi",
                           "16E", "18446744073709551616", "99999999999999999999999"}) {
    Result<uint64_t> r = ParseSize(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(std::string("\"") + text + "\""), std::string::npos)
        << r.status().message();
  }
}

TEST(FormatBytesTest, Table) {
  const std::pair<uint64_t, const char*> cases[] = {
      {0, "0 B"},
      {1, "1 B"},
      {1023, "1023 B"},
      {1024, "1.0 KiB"},
      {1536, "1.5 KiB"},
      {512 * 1024, "512 KiB"},
      {1024 * 1024 - 1, "1.0 MiB"},
      {uint64_t{4} << 30, "4.0 GiB"},
      {uint64_t{1288490189}, "1.2 GiB"},
      {uint64_t{3} << 40, "3.0 TiB"},
      {UINT64_MAX, "16.0 EiB"},
  };
  for (auto [bytes, want] : cases) EXPECT_EQ(FormatBytes(bytes), want) << bytes;
}

TEST(ParseDurationTest, Accepts) {
  const std::pair<const char*, int64_t> cases[] = {
      {"0", 0},        {"30s", 30},     {"5m", 300},         {"1h", 3600}, {"7d", 604800},
      {"2w", 1209600}, {"1h30m", 5400}, {"1d2h3m4s", 93784}, {"0s", 0},    {"90m", 5400},
  };
  for (auto [text, want] : cases) {
    Result<seconds> r = ParseDuration(text);
    ASSERT_TRUE(r.ok()) << text << ": " << r.status().ToString();
    EXPECT_EQ(r->count(), want) << text;
  }
}

TEST(ParseDurationTest, Rejects) {
  for (const char* text : {"", "30", "s", "-5m", "5x", "1h30", "1.5h", "5 m", "5M",
                           "99999999999999999999w", "30000000000000000w"}) {
    Result<seconds> r = ParseDuration(text);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << text;
  }
}

TEST(TimeTest, FormatUtc) {
  EXPECT_EQ(FormatTimeUtc(system_clock::from_time_t(0)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimeUtc(system_clock::from_time_t(1795511523)), "2026-11-24T09:12:03Z");
  // Sub-second parts are truncated, never rounded up.
  EXPECT_EQ(FormatTimeUtc(system_clock::from_time_t(1795511523) + std::chrono::milliseconds(999)),
            "2026-11-24T09:12:03Z");
  EXPECT_EQ(FormatTimeUtc(system_clock::from_time_t(0) - std::chrono::milliseconds(500)),
            "1969-12-31T23:59:59Z");
}

TEST(TimeTest, ParseUtc) {
  Result<system_clock::time_point> t = ParseTimeUtc("2026-11-24T09:12:03Z");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(system_clock::to_time_t(*t), 1795511523);
  Result<system_clock::time_point> f = ParseTimeUtc("2026-11-24T09:12:03.250Z");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f - *t, std::chrono::milliseconds(250));
  EXPECT_TRUE(ParseTimeUtc("2024-02-29T00:00:00Z").ok());
  EXPECT_TRUE(ParseTimeUtc("2026-11-24t09:12:03z").ok());
}

TEST(TimeTest, RoundTrip) {
  for (int64_t s : {int64_t{0}, int64_t{951782400}, int64_t{1795511523}, int64_t{4102444800}}) {
    auto tp = system_clock::from_time_t(s);
    Result<system_clock::time_point> back = ParseTimeUtc(FormatTimeUtc(tp));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, tp);
  }
}

TEST(TimeTest, ParseRejects) {
  for (const char* text :
       {"", "2026-11-24", "2026-11-24T09:12:03", "2026-11-24 09:12:03Z", "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z", "2026-11-24T24:00:00Z",
        "2026-11-24T09:60:00Z", "2026-11-24T09:12:03.Z", "2026-11-24T09:12:03Zjunk",
        "2026-11-24T09:12:03+01:00", "x026-11-24T09:12:03Z"}) {
    Result<system_clock::time_point> r = ParseTimeUtc(text);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << text;
  }
}

}  // namespace
}  // namespace cairn
