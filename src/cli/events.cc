#include "cli/events.h"

#include "cli/daemon_client.h"

namespace cairn::cli {

Result<EventList> ReadEvents(const EventQuery& query) {
  constexpr int kPage = 1000;  // the daemon's largest page
  const std::string object = query.object.empty() ? "" : "&object=" + query.object;
  EventList out{.events = {}, .last_seq = query.after};
  if (query.newest > 0) {  // one call: the daemon picks the newest N
    ASSIGN_OR_RETURN(nlohmann::json doc,
                     CallDaemon("GET", "/v1/events?after=" + std::to_string(query.after) +
                                           "&last=" + std::to_string(query.newest) + object));
    for (const auto& e : doc.value("events", nlohmann::json::array())) out.events.push_back(e);
    if (!out.events.empty()) out.last_seq = out.events.back().value("seq", query.after);
    return out;
  }
  for (;;) {
    ASSIGN_OR_RETURN(nlohmann::json doc,
                     CallDaemon("GET", "/v1/events?after=" + std::to_string(out.last_seq) +
                                           "&limit=" + std::to_string(kPage) + object));
    // Retention cut the log after what the last call read (or query.after).
    const int64_t first_seq = doc.value("first_seq", int64_t{0});
    if (first_seq > out.last_seq + 1) out.removed_before = first_seq;
    const nlohmann::json page = doc.value("events", nlohmann::json::array());
    if (page.empty()) break;
    for (const auto& e : page) {
      const int64_t seq = e.value("seq", int64_t{0});
      if (seq <= out.last_seq) {
        return InternalError(
            "the daemon answered GET /v1/events?after=" + std::to_string(out.last_seq) +
            " with event " + std::to_string(seq) + " (not after it)");
      }
      out.last_seq = seq;
      out.events.push_back(e);
    }
  }
  return out;
}

std::string EventLine(const nlohmann::json& e) {
  return std::to_string(e.value("seq", int64_t{0})) + " " + e.value("time", "-") + " " +
         e.value("object", "-") + " " + e.value("kind", "-") + ": " + e.value("message", "");
}

}  // namespace cairn::cli
