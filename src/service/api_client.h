// ApiClient: how the `cairn` command talks to a running `cairn serve` over
// its API socket (docs/api.md), and where it looks for that socket.
//
// Thread-safety: one thread at a time per client.
#ifndef CAIRN_SERVICE_API_CLIENT_H_
#define CAIRN_SERVICE_API_CLIENT_H_

#include <string>

#include "core/status.h"

namespace cairn::service {

// The daemon's data directory when --data-dir is not given: CAIRN_DATA_DIR,
// else /var/lib/cairn.
std::string DefaultDataDir();

// The API socket to use: `flag` (--api-socket) if set, else the environment
// variable CAIRN_API_SOCKET, else DefaultDataDir()/api.sock.
std::string ResolveApiSocket(const std::string& flag);

class ApiClient {
 public:
  explicit ApiClient(std::string socket_path);

  // Sends a request; returns the body of a 2xx response (JSON text). An
  // error document becomes a Status with the daemon's code and message.
  // No daemon: kUnavailable "daemon not running at P: start it with `cairn
  // serve --data-dir DIR --repo URL` (or point --api-socket /
  // CAIRN_API_SOCKET at it)".
  Result<std::string> Call(const std::string& method, const std::string& path,
                           const std::string& body = "");

  const std::string& socket_path() const { return socket_path_; }

 private:
  std::string socket_path_;
};

}  // namespace cairn::service

#endif  // CAIRN_SERVICE_API_CLIENT_H_
