#include "cli/events.h"

#include <deque>

#include "cli/daemon_client.h"

namespace cairn::cli {

Result<EventList> ReadEvents(const EventQuery& query) {
  constexpr int kPage = 1000;  // the daemon's largest page
  std::deque<nlohmann::json> kept;
  int64_t after = query.after;
  for (;;) {
    ASSIGN_OR_RETURN(nlohmann::json doc,
                     CallDaemon("GET", "/v1/events?after=" + std::to_string(after) +
                                           "&limit=" + std::to_string(kPage)));
    const nlohmann::json page = doc.value("events", nlohmann::json::array());
    if (page.empty()) break;
    for (const auto& e : page) {
      const int64_t seq = e.value("seq", int64_t{0});
      if (seq <= after) {
        return InternalError("the daemon answered GET /v1/events?after=" + std::to_string(after) +
                             " with event " + std::to_string(seq) + " (not after it)");
      }
      after = seq;
      if (!query.object.empty() && e.value("object", "") != query.object) continue;
      kept.push_back(e);
      if (query.newest > 0 && kept.size() > query.newest) kept.pop_front();
    }
  }
  return EventList{.events = std::vector<nlohmann::json>(kept.begin(), kept.end()),
                   .last_seq = after};
}

std::string EventLine(const nlohmann::json& e) {
  return std::to_string(e.value("seq", int64_t{0})) + " " + e.value("time", "-") + " " +
         e.value("object", "-") + " " + e.value("kind", "-") + ": " + e.value("message", "");
}

}  // namespace cairn::cli
