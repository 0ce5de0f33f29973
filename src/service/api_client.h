// ApiClient: how the `cairn` command talks to a running `cairn serve` over
// its API socket (docs/api.md), and where it looks for that socket.
//
// Thread-safety: one thread at a time per client.
#ifndef CAIRN_SERVICE_API_CLIENT_H_
#define CAIRN_SERVICE_API_CLIENT_H_

#include <chrono>
#include <string>

#include "core/status.h"

namespace cairn::service {

// The daemon's data directory when --data-dir is not given: CAIRN_DATA_DIR,
// else /var/lib/cairn.
std::string DefaultDataDir();

// The API socket to use: `flag` (--api-socket) if set, else the environment
// variable CAIRN_API_SOCKET, else DefaultDataDir()/api.sock.
std::string ResolveApiSocket(const std::string& flag);

// How long a call waits for the daemon (to connect, and for each read of
// the answer): nothing the API does takes long, but a busy machine may be
// slow to answer.
inline constexpr std::chrono::seconds kApiTimeout{300};
// For calls that run as long as their work: `volume check` (e2fsck on a
// large volume can take hours). A week, not "forever": the HTTP library
// counts in int milliseconds.
inline constexpr std::chrono::seconds kApiLongTimeout{7 * 24 * 3600};

class ApiClient {
 public:
  explicit ApiClient(std::string socket_path);

  // Sends a request; returns the body of a 2xx response (JSON text). An
  // error document becomes a Status with the daemon's code and message.
  // No daemon: kUnavailable "daemon not running at P: start it with `cairn
  // serve --data-dir DIR --repo URL` (or point --api-socket /
  // CAIRN_API_SOCKET at it)". No answer within `timeout`: kIoError.
  Result<std::string> Call(const std::string& method, const std::string& path,
                           const std::string& body = "",
                           std::chrono::seconds timeout = kApiTimeout);

  const std::string& socket_path() const { return socket_path_; }

 private:
  std::string socket_path_;
};

}  // namespace cairn::service

#endif  // CAIRN_SERVICE_API_CLIENT_H_
