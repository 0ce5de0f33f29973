// The NBD handshake: fixed newstyle negotiation and option haggling, up to
// the moment a client enters transmission (NBD_OPT_GO or
// NBD_OPT_EXPORT_NAME).
//
//   connect ─► NBDMAGIC IHAVEOPT flags ─► client flags ─┬─► options … ─► GO / EXPORT_NAME ─►
//   Session
//                                                       └─► bad flags: closed
//   options: INFO, LIST, STRUCTURED_REPLY, {LIST,SET}_META_CONTEXT answered;
//            unknown ones get NBD_REP_ERR_UNSUP and haggling goes on;
//            ABORT (ACKed) or EOF end the session; garbage closes it.
//
// Only fixed newstyle clients are served (oldstyle and plain newstyle are
// refused by closing the connection, as the spec allows).
//
// Thread-safety: Negotiate runs on the connection's own thread; the provider
// must be thread-safe.
#ifndef CAIRN_NBD_HANDSHAKE_H_
#define CAIRN_NBD_HANDSHAKE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "core/status.h"
#include "nbd/server.h"
#include "volume/block_device.h"

namespace cairn::nbd {

// What the handshake agreed on.
struct Session {
  std::string export_name;
  std::shared_ptr<volume::BlockDevice> device;
  uint64_t size = 0;
  uint16_t tx_flags = 0;      // as sent to the client
  volume::Geometry geometry;  // sanitized: valid NBD block size constraints
  volume::Capabilities caps;
  bool structured = false;       // NBD_OPT_STRUCTURED_REPLY acknowledged
  bool block_status = false;     // base:allocation selected for this export
  uint32_t meta_context_id = 0;  // its id
};

// Runs the handshake on connected socket `fd`. Returns the session on
// success. kCancelled when the client ended the session properly (ABORT, or
// closed between options); kAborted/kIoError/kInvalidArgument for a protocol
// violation or I/O failure (the caller closes the socket).
// `stopping` makes later options fail with NBD_REP_ERR_SHUTDOWN.
// `on_enter` (may be empty) runs with the session just before the reply that
// puts the client in transmission, so the caller can register the session
// before the client can use it.
Result<Session> Negotiate(int fd, ExportProvider& provider, const std::atomic<bool>& stopping,
                          std::function<void(const Session&)> on_enter = {});

// The transmission flags for a device (exposed for tests).
uint16_t TransmissionFlags(const volume::Capabilities& caps, bool structured);

// NBD-valid block size constraints from a device's Geometry: minimum a power
// of two ≤ 64 KiB, preferred a power of two ≥ max(minimum, 512), maximum a
// multiple of minimum, ≥ preferred and ≤ 64 MiB.
volume::Geometry SanitizeGeometry(volume::Geometry g);

}  // namespace cairn::nbd

#endif  // CAIRN_NBD_HANDSHAKE_H_
