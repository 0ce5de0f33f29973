// Parsing and printing of sizes, durations and times for people.
#ifndef CAIRN_CORE_UNITS_H_
#define CAIRN_CORE_UNITS_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace cairn {

// "4096", "512K", "512KiB", "16M", "1G", "2T" (binary multiples; case-
// insensitive; optional "B"/"iB"). kInvalidArgument names the bad text.
Result<uint64_t> ParseSize(std::string_view text);

// 1536 → "1.5 KiB", 0 → "0 B".
std::string FormatBytes(uint64_t bytes);

// "30s", "5m", "1h", "7d", "1h30m", "0". kInvalidArgument otherwise.
Result<std::chrono::seconds> ParseDuration(std::string_view text);

// RFC 3339 in UTC with seconds: "2026-11-24T09:12:03Z".
std::string FormatTimeUtc(std::chrono::system_clock::time_point t);
// Same with milliseconds: "2026-11-24T13:05:09.123Z" (orders snapshots made
// within one second).
std::string FormatTimeUtcMillis(std::chrono::system_clock::time_point t);
// Parses the form FormatTimeUtc writes (fractional seconds allowed).
Result<std::chrono::system_clock::time_point> ParseTimeUtc(std::string_view text);

}  // namespace cairn

#endif  // CAIRN_CORE_UNITS_H_
