// The transmission phase of one connection: worker threads (the calling
// thread is one) take turns reading a request, then run it against the
// device and reply, so many requests are in flight at once and replies go
// out in completion order. In flight: at most min(workers_per_connection,
// max_in_flight) requests and about max_in_flight_bytes of payload.
//
//   reading ──DISC / EOF / shutdown(SHUT_RD)──► draining ──workers done──► ended
//      │                                           ▲
//      └── bad magic, truncated request ───────────┘  (hard disconnect)
//
// Thread-safety: Serve runs on the connection's thread and returns only
// after its workers have finished; to stop it from another thread, shut the
// socket down for reading (Server::Stop does).
#ifndef CAIRN_NBD_TRANSMISSION_H_
#define CAIRN_NBD_TRANSMISSION_H_

#include <string>

#include "core/status.h"
#include "nbd/handshake.h"
#include "nbd/server.h"

namespace cairn::nbd {

// Serves requests on `fd` until the client disconnects (NBD_CMD_DISC or
// EOF: OK) or breaks the protocol (kInvalidArgument / kIoError naming what
// was wrong). Every request read is answered before Serve returns.
Status Serve(int fd, const Session& session, const ServerOptions& options);

}  // namespace cairn::nbd

#endif  // CAIRN_NBD_TRANSMISSION_H_
