// ApiServer: the daemon's local HTTP/JSON API (docs/api.md), on a unix
// socket only its owner may use. Each endpoint parses its request, calls one
// Daemon operation and renders the result; a non-OK Status becomes
//   HTTP 400/404/409/423/500/503 + {"error": {"code": "not_found", "message": "..."}}
// with the code names of docs/cli.md, so `cairn` maps it to the same exit
// code as a local error.
//
// Thread-safety: requests are served on several threads at once; the Daemon
// serializes what must be.
#ifndef CAIRN_SERVICE_API_H_
#define CAIRN_SERVICE_API_H_

#include <string>

#include "core/status.h"
#include "service/http.h"

namespace cairn::service {

class Daemon;

class ApiServer {
 public:
  explicit ApiServer(Daemon& daemon);  // `daemon` must outlive the server
  Status Start(const std::string& socket_path);
  void Stop();  // idempotent; waits for running requests

 private:
  Daemon& daemon_;
  HttpServer http_;
};

// The API's name of a status code ("not_found") and back (kInternal for an
// unknown name), and the HTTP status used for it.
std::string ApiErrorCode(StatusCode code);
StatusCode StatusCodeFromApi(std::string_view name);
int HttpStatusFor(StatusCode code);

}  // namespace cairn::service

#endif  // CAIRN_SERVICE_API_H_
