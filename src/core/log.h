// Logging to stderr for people: warnings always (unless quiet), info with -v,
// debug with -vv. Thread-safe; a line is written with one write(2).
#ifndef CAIRN_CORE_LOG_H_
#define CAIRN_CORE_LOG_H_

#include <string_view>

namespace cairn {

enum class LogLevel { kQuiet = -1, kWarning = 0, kInfo = 1, kDebug = 2 };

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();

void LogWarning(std::string_view message);  // "warning: <message>\n"
void LogInfo(std::string_view message);     // "<message>\n"
void LogDebug(std::string_view message);    // "debug: <message>\n"

}  // namespace cairn

#endif  // CAIRN_CORE_LOG_H_
