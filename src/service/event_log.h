// EventLog: the daemon's record of what happened. Each event is a row in the
// catalog (GET /v1/events) and one line on stderr:
//   2026-11-24T09:00:00Z vol-0a1b2c3d4e5f60718 state: available
//
// Thread-safety: Record may be called from any thread.
#ifndef CAIRN_SERVICE_EVENT_LOG_H_
#define CAIRN_SERVICE_EVENT_LOG_H_

#include <string>
#include <string_view>

#include "service/catalog.h"

namespace cairn::service {

class EventLog {
 public:
  explicit EventLog(Catalog& catalog) : catalog_(catalog) {}

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

 private:
  Catalog& catalog_;
};

// Now, RFC 3339 UTC.
std::string NowUtc();

}  // namespace cairn::service

#endif  // CAIRN_SERVICE_EVENT_LOG_H_
