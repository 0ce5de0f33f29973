#include "service/event_log.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>

#include "core/log.h"
#include "core/units.h"

namespace cairn::service {

std::string NowUtc() { return FormatTimeUtc(std::chrono::system_clock::now()); }

void EventLog::Record(std::string_view object, std::string_view kind, std::string_view message) {
  EventRecord e;
  e.time = NowUtc();
  e.object = std::string(object);
  e.kind = std::string(kind);
  e.message = std::string(message);
  // One write(2) per line, so lines from several threads never interleave.
  if (GetLogLevel() != LogLevel::kQuiet) {
    const std::string line =
        fmt::format("{} {} {}{}{}\n", e.time, e.object, kind == "state" ? "" : e.kind,
                    kind == "state" ? "" : ": ", e.message);
    ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
    (void)ignored;
  }
  auto stored = catalog_.AddEvent(e);
  if (!stored.ok()) LogWarning("event not recorded: " + stored.status().ToString());
}

}  // namespace cairn::service
