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
  if (!stored.ok()) {
    LogWarning("event not recorded: " + stored.status().ToString());
    return;
  }
  std::lock_guard lock(mu_);
  if (++inserts_since_prune_ == retention_.prune_every) wake_.notify_all();
}

Result<int64_t> EventLog::PruneOnce(std::chrono::system_clock::time_point now,
                                    std::stop_token stop) {
  std::string older_than;
  if (retention_.keep_days > 0 && retention_.keep_days <= kMaxKeepDays) {
    older_than = FormatTimeUtc(now - std::chrono::hours(24 * retention_.keep_days));
  }
  if (older_than.empty() && retention_.keep_events <= 0) return 0;
  ASSIGN_OR_RETURN(int64_t first_kept,
                   catalog_.FirstEventToKeep(older_than, retention_.keep_events));
  int64_t removed = 0;
  while (first_kept > 0 && !stop.stop_requested()) {
    ASSIGN_OR_RETURN(int64_t n, catalog_.DeleteEventsBefore(first_kept, kPruneBatch));
    if (n == 0) break;
    removed += n;
  }
  if (removed > 0) {
    std::string rules;
    if (!older_than.empty()) rules = fmt::format("older than {} days", retention_.keep_days);
    if (retention_.keep_events > 0) {
      rules += fmt::format("{}beyond the newest {}", rules.empty() ? "" : " or ",
                           retention_.keep_events);
    }
    LogInfo(fmt::format("events: removed {} by retention ({}); the log now begins at seq {}",
                        removed, rules, first_kept));
  }
  return removed;
}

void EventLog::StartPruning() {
  if (retention_.keep_days <= 0 && retention_.keep_events <= 0) return;  // nothing to do, ever
  if (auto r = PruneOnce(std::chrono::system_clock::now()); !r.ok()) {
    LogWarning("pruning the event log at start: " + r.status().ToString());
  }
  pruner_ = std::jthread([this](std::stop_token stop) { PruneLoop(stop); });
}

void EventLog::StopPruning() {
  if (!pruner_.joinable()) return;
  pruner_.request_stop();
  pruner_.join();
}

void EventLog::PruneLoop(std::stop_token stop) {
  std::unique_lock lock(mu_);
  while (!stop.stop_requested()) {
    wake_.wait_for(lock, stop, std::chrono::hours(1), [this] {
      return retention_.prune_every > 0 && inserts_since_prune_ >= retention_.prune_every;
    });
    if (stop.stop_requested()) break;
    inserts_since_prune_ = 0;
    lock.unlock();
    if (auto r = PruneOnce(std::chrono::system_clock::now(), stop); !r.ok()) {
      LogWarning("pruning the event log: " + r.status().ToString());
    }
    lock.lock();
  }
}

}  // namespace cairn::service
