// Reading the daemon's events (GET /v1/events, docs/api.md) for `cairn
// events` and `cairn policy show`: paging through the log, filtering by
// object, and the one-line text form.
//
// Thread-safety: main thread only (calls the daemon through daemon_client).
#ifndef CAIRN_CLI_EVENTS_H_
#define CAIRN_CLI_EVENTS_H_

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"

namespace cairn::cli {

struct EventQuery {
  int64_t after = 0;   // only events with seq > after
  std::string object;  // only this object's ("" = all)
  size_t newest = 0;   // only the newest N of those (0 = all)
};

struct EventList {
  std::vector<nlohmann::json> events;  // the matching ones, oldest first
  int64_t last_seq = 0;                // newest seq returned (query.after if none)
  // > 0: the daemon's retention removed the events before this seq, some of
  // them after query.after, before they could be read (GET /v1/events
  // "first_seq"). 0 when nothing was missed, and with query.newest.
  int64_t removed_before = 0;
};

// Reads the daemon's log after query.after (the daemon filters by object and
// picks the newest N), 1000 events a call, until it ends, noting in
// removed_before whether retention cut into what was asked for.
Result<EventList> ReadEvents(const EventQuery& query);

// "12 2026-12-02T01:00:00Z pol-0123456789abcdef0 info: run 3 ok in 2.1 s: …"
std::string EventLine(const nlohmann::json& event);

}  // namespace cairn::cli

#endif  // CAIRN_CLI_EVENTS_H_
