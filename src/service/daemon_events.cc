// Daemon: reading the event log (event_log.h keeps it bounded).
#include "service/daemon.h"

namespace cairn::service {

Result<EventPage> Daemon::ListEventPage(const EventFilter& filter) {
  return catalog_->ListEventPage(filter);
}

}  // namespace cairn::service
