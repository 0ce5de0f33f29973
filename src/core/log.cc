#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>

namespace cairn {

namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kWarning)};

// Writes "<prefix><message>\n" to stderr in one write(2) so that lines from
// different threads never interleave.
void Emit(std::string_view prefix, std::string_view message) {
  std::string line;
  line.reserve(prefix.size() + message.size() + 1);
  line.append(prefix).append(message).push_back('\n');
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere left to report it
    }
    p += n;
    left -= size_t(n);
  }
}

bool Enabled(LogLevel level) {
  return g_level.load(std::memory_order_relaxed) >= static_cast<int>(level);
}

}  // namespace

void SetLogLevel(LogLevel level) {
  g_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

LogLevel GetLogLevel() { return static_cast<LogLevel>(g_level.load(std::memory_order_relaxed)); }

void LogWarning(std::string_view message) {
  if (Enabled(LogLevel::kWarning)) Emit("warning: ", message);
}

void LogInfo(std::string_view message) {
  if (Enabled(LogLevel::kInfo)) Emit("", message);
}

void LogDebug(std::string_view message) {
  if (Enabled(LogLevel::kDebug)) Emit("debug: ", message);
}

}  // namespace cairn
