// The NBD server: serves BlockDevices to NBD clients (qemu, qemu-img,
// nbdcopy, nbdinfo, nbdfuse, the kernel's nbd-client) over TCP and unix
// sockets, following the NBD protocol (NetworkBlockDevice/nbd doc/proto.md).
// docs/nbd.md lists what is implemented and how errors map.
//
// The server knows nothing of volumes: it asks an ExportProvider for a
// BlockDevice by export name when a client selects one (NBD_OPT_GO,
// NBD_OPT_EXPORT_NAME, NBD_OPT_INFO) and lists exports for NBD_OPT_LIST.
//
// Threads: one thread accepts connections; each connection has its own
// worker threads that take turns reading a request and then run it against
// the device (so one slow or rate-limited export never stalls another). Replies
// are written whole under a per-connection lock. No thread outlives Stop().
//
//   Server::Start ──► listening ──Stop()──► listeners closed, every session
//                                            ends after its in-flight
//                                            requests are answered ──► stopped
//
// Thread-safety: Start/Stop/Connections/Disconnect may be called from any
// thread; Stop() is idempotent and also run by the destructor.
#ifndef CAIRN_NBD_SERVER_H_
#define CAIRN_NBD_SERVER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "volume/block_device.h"

namespace cairn::nbd {

struct ExportInfo {
  std::string name;         // what clients pass: nbd://host/<name>
  std::string description;  // NBD_INFO_DESCRIPTION / NBD_REP_SERVER detail; may be empty
};

// How the server finds devices. Implementations must be thread-safe: many
// connections call Open and List at once.
class ExportProvider {
 public:
  virtual ~ExportProvider() = default;
  // The device for `name` ("" is the default export, if the provider has
  // one). kNotFound when there is no such export (the client is told
  // NBD_REP_ERR_UNKNOWN with the message); any other error is reported to
  // the client as well. The server keeps the shared_ptr for the session.
  virtual Result<std::shared_ptr<volume::BlockDevice>> Open(std::string_view name) = 0;
  // Every export a client may select, for NBD_OPT_LIST.
  virtual std::vector<ExportInfo> List() = 0;
};

struct ServerOptions {
  // "HOST:PORT" ("127.0.0.1:10809", "[::1]:10809", "localhost:0" for any
  // free port); empty = no TCP listener. Loopback unless told otherwise.
  std::string tcp_listen;
  // Path of a unix socket; empty = none. A stale socket file (nobody
  // listening) is replaced; a live one is kAlreadyExists. Removed by Stop().
  std::string unix_socket;
  // Threads per connection that read and run requests (requests in flight
  // per connection are at most this many).
  int workers_per_connection = 8;
  // Upper bound on requests in flight per connection (min'ed with
  // workers_per_connection).
  int max_in_flight = 64;
  // Bytes of write payload / read buffers in flight per connection (a
  // single larger request is still admitted when nothing else is in flight).
  uint64_t max_in_flight_bytes = 128ull << 20;
  // Connections beyond this are closed right after accept().
  int max_connections = 256;
  // A client must finish option haggling within this time.
  std::chrono::milliseconds handshake_timeout{30000};
};

// One open session, for `cairn volume list` attachments and diagnostics.
struct ConnectionInfo {
  uint64_t id = 0;
  std::string peer;         // "127.0.0.1:51234", "unix"
  std::string export_name;  // empty while still negotiating
  bool transmission = false;
};

class Server {
 public:
  // Binds the listeners and starts accepting. Errors name the address:
  // kAlreadyExists (address in use), kInvalidArgument (bad HOST:PORT, no
  // listener given), kPermissionDenied, kIoError.
  // `provider` must outlive the Server.
  static Result<std::unique_ptr<Server>> Start(ServerOptions options, ExportProvider& provider);

  virtual ~Server() = default;

  // Closes the listeners, stops reading new requests on every connection,
  // answers the requests already read, closes the sockets and joins every
  // thread. Idempotent.
  virtual void Stop() = 0;

  // The bound TCP port (useful with port 0), or 0 without a TCP listener.
  virtual int tcp_port() const = 0;
  // "nbd://127.0.0.1:10809" / "nbd+unix:///?socket=PATH" style base URI for
  // an export name: nbd://HOST:PORT/NAME or nbd+unix:///NAME?socket=PATH
  // (TCP preferred when both listen).
  virtual std::string UriFor(std::string_view export_name) const = 0;

  virtual std::vector<ConnectionInfo> Connections() const = 0;
  // Ends every session in transmission on `export_name`: stops reading its
  // requests, answers those in flight, closes the socket (for detaching a
  // volume). Returns how many sessions ended, once they have.
  virtual size_t Disconnect(std::string_view export_name) = 0;
};

}  // namespace cairn::nbd

#endif  // CAIRN_NBD_SERVER_H_
