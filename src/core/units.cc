#include "core/units.h"

#include <fmt/format.h>
#include <time.h>

#include <cctype>
#include <cstdio>
#include <limits>

namespace cairn {

namespace {

using std::chrono::seconds;

// Parses a run of decimal digits at the start of `s` into `out`, advancing
// `s`. False when there is no digit or the value overflows.
bool ConsumeUint(std::string_view& s, uint64_t& out) {
  size_t i = 0;
  uint64_t v = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    uint64_t d = uint64_t(s[i] - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) return false;
    v = v * 10 + d;
    ++i;
  }
  if (i == 0) return false;
  out = v;
  s.remove_prefix(i);
  return true;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool MulOverflows(uint64_t a, uint64_t b) {
  return b != 0 && a > std::numeric_limits<uint64_t>::max() / b;
}

}  // namespace

Result<uint64_t> ParseSize(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError(fmt::format("invalid size \"{}\": {}", text, why));
  };
  std::string_view rest = text;
  uint64_t value = 0;
  if (!ConsumeUint(rest, value)) return bad("expected a number such as 4096, 512K or 16MiB");
  std::string suffix = Lower(rest);
  int shift = 0;
  if (!suffix.empty()) {
    static constexpr std::string_view kUnits = "kmgtpe";
    size_t u = kUnits.find(suffix[0]);
    if (u != std::string_view::npos) {
      shift = 10 * int(u + 1);
      suffix.erase(0, 1);
      if (suffix != "" && suffix != "b" && suffix != "ib") return bad("unknown unit");
    } else if (suffix != "b") {
      return bad("unknown unit");
    }
  }
  if (shift > 0 && value > (std::numeric_limits<uint64_t>::max() >> shift)) {
    return bad("too large");
  }
  return value << shift;
}

std::string FormatBytes(uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = double(bytes) / 1024.0;
  size_t u = 0;
  while (v >= 1023.5 && u + 1 < std::size(kUnits)) {
    v /= 1024.0;
    ++u;
  }
  if (v >= 99.95) return fmt::format("{:.0f} {}", v, kUnits[u]);
  return fmt::format("{:.1f} {}", v, kUnits[u]);
}

Result<seconds> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return InvalidArgumentError(
        fmt::format("invalid duration \"{}\": expected e.g. 30s, 5m, 1h30m, 7d, 2w or 0", text));
  };
  if (text == "0") return seconds(0);
  std::string_view rest = text;
  if (rest.empty()) return bad();
  uint64_t total = 0;
  while (!rest.empty()) {
    uint64_t n = 0;
    if (!ConsumeUint(rest, n) || rest.empty()) return bad();
    uint64_t unit = 0;
    switch (rest[0]) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      case 'w':
        unit = 7 * 86400;
        break;
      default:
        return bad();
    }
    rest.remove_prefix(1);
    if (MulOverflows(n, unit) || total + n * unit < total ||
        total + n * unit > uint64_t(std::numeric_limits<int64_t>::max())) {
      return bad();
    }
    total += n * unit;
  }
  return seconds(int64_t(total));
}

std::string FormatTimeUtc(std::chrono::system_clock::time_point t) {
  time_t secs = std::chrono::system_clock::to_time_t(std::chrono::floor<seconds>(t));
  struct tm tm {};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string FormatTimeUtcMillis(std::chrono::system_clock::time_point t) {
  const auto secs = std::chrono::floor<seconds>(t);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - secs).count();
  std::string s = FormatTimeUtc(t);
  s.pop_back();  // 'Z'
  return s + fmt::format(".{:03d}Z", ms);
}

Result<std::chrono::system_clock::time_point> ParseTimeUtc(std::string_view text) {
  auto bad = [&] {
    return InvalidArgumentError(fmt::format(
        "invalid time \"{}\": expected RFC 3339 UTC such as 2026-11-24T09:12:03Z", text));
  };
  // Fixed part: YYYY-MM-DDTHH:MM:SS (19 characters).
  static constexpr std::string_view kPattern = "dddd-dd-ddTdd:dd:dd";
  if (text.size() < kPattern.size() + 1) return bad();
  for (size_t i = 0; i < kPattern.size(); ++i) {
    char c = text[i];
    bool ok = kPattern[i] == 'd'   ? (c >= '0' && c <= '9')
              : kPattern[i] == 'T' ? (c == 'T' || c == 't')
                                   : c == kPattern[i];
    if (!ok) return bad();
  }
  auto num = [&](size_t pos, size_t len) {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) v = v * 10 + (text[i] - '0');
    return v;
  };
  struct tm tm {};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(5, 2) - 1;
  tm.tm_mday = num(8, 2);
  tm.tm_hour = num(11, 2);
  tm.tm_min = num(14, 2);
  tm.tm_sec = num(17, 2);
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > kDays[tm.tm_mon] ||
      tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60) {
    return bad();
  }
  std::string_view rest = text.substr(kPattern.size());
  std::chrono::nanoseconds frac(0);
  if (rest[0] == '.') {
    size_t i = 1;
    int64_t scale = 100'000'000;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
      frac += std::chrono::nanoseconds((rest[i] - '0') * scale);
      scale /= 10;
      ++i;
    }
    if (i == 1) return bad();
    rest.remove_prefix(i);
  }
  if (rest != "Z" && rest != "z") return bad();
  int year = tm.tm_year + 1900;
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (tm.tm_mon == 1 && tm.tm_mday == 29 && !leap) return bad();
  time_t secs = timegm(&tm);
  return std::chrono::system_clock::from_time_t(secs) +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(frac);
}

}  // namespace cairn
