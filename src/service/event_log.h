// EventLog: the daemon's record of what happened. Each event is a row in the
// catalog (GET /v1/events) and one line on stderr:
//   2026-11-24T09:00:00Z vol-0a1b2c3d4e5f60718 state: available
//
// Retention: the log keeps events at most `keep_days` days and at most
// `keep_events` events (EventRetention; 0 = no limit for that rule);
// whichever rule removes more wins, and every kind (warnings too) ages
// alike. Pruning removes the oldest events only, so what is kept is always
// the newest run of seq numbers, and seq numbers are never reused: a reader
// sees a cut as GET /v1/events's "first_seq" moving past what it read.
// It runs once in StartPruning() (the daemon's start), then on a background
// thread once an hour and after every `prune_every` inserts, never inside
// Record(); each DELETE removes at most kPruneBatch rows, so an insert
// waits for at most one such statement.
//
// Thread-safety: Record may be called from any thread. StartPruning and
// StopPruning are called by the owner (the daemon), once each.
#ifndef CAIRN_SERVICE_EVENT_LOG_H_
#define CAIRN_SERVICE_EVENT_LOG_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "core/status.h"
#include "service/catalog.h"

namespace cairn::service {

struct EventRetention {
  int64_t keep_days = 90;        // `serve --events-keep-days`; 0 = no age limit
  int64_t keep_events = 100000;  // `serve --events-keep`; 0 = no count limit
  int64_t prune_every = 1000;    // inserts between prunes (besides the hourly one)
};

// Rows one DELETE removes at most.
inline constexpr int64_t kPruneBatch = 10000;
// The largest keep_days that is an age limit (`serve` refuses more).
inline constexpr int64_t kMaxKeepDays = 36500;

class EventLog {
 public:
  explicit EventLog(Catalog& catalog, EventRetention retention = {})
      : catalog_(catalog), retention_(retention) {}
  ~EventLog() { StopPruning(); }
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // `kind`: "state" (an object's state changed), "info", "warning". A
  // failure to store the event is logged, never returned: events must not
  // turn a done operation into a failed one.
  void Record(std::string_view object, std::string_view kind, std::string_view message);
  void State(std::string_view object, std::string_view message) {
    Record(object, "state", message);
  }
  void Info(std::string_view object, std::string_view message) { Record(object, "info", message); }
  void Warning(std::string_view object, std::string_view message) {
    Record(object, "warning", message);
  }

  // Prunes once now (on the caller's thread), then starts the background
  // pruner. A failed prune is logged, never returned (the next one retries).
  void StartPruning();
  // Stops and joins the pruner (a prune in progress finishes its current
  // DELETE). Idempotent; also done by the destructor.
  void StopPruning();

  // One prune by the rules as of `now`, in batches of kPruneBatch rows;
  // returns how many events it removed. Tests call it with a fixed `now`.
  // A `keep_days` beyond kMaxKeepDays counts as no age limit.
  // Between batches it gives up when `stop` is requested.
  Result<int64_t> PruneOnce(std::chrono::system_clock::time_point now, std::stop_token stop = {});

  const EventRetention& retention() const { return retention_; }

 private:
  void PruneLoop(std::stop_token stop);

  Catalog& catalog_;
  const EventRetention retention_;
  std::mutex mu_;
  std::condition_variable_any wake_;
  int64_t inserts_since_prune_ = 0;  // guarded by mu_
  std::jthread pruner_;              // started by StartPruning
};

// Now, RFC 3339 UTC.
std::string NowUtc();

}  // namespace cairn::service

#endif  // CAIRN_SERVICE_EVENT_LOG_H_
