// HTTP over a unix socket: the one adapter around cpp-httplib. The daemon's
// API (api.h) registers routes on an HttpServer; the `cairn` command talks to
// it with an HttpClient. Bodies are opaque strings here (JSON one level up).
//
// Thread-safety: HttpServer runs handlers on its own worker threads, several
// at once; handlers must be thread-safe. Route() only before Start().
// HttpClient: one thread at a time.
#ifndef CAIRN_SERVICE_HTTP_H_
#define CAIRN_SERVICE_HTTP_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"

namespace cairn::service {

struct HttpRequest {
  std::string method;  // "GET", "POST", "DELETE"
  std::string path;    // "/v1/volumes/vol-0a1b2c3d4e5f60718"
  std::map<std::string, std::string> query;
  std::vector<std::string> captures;  // the route pattern's groups, in order
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  HttpServer();
  ~HttpServer();  // Stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // `pattern` is an ECMAScript regex matched against the whole path; its
  // groups become HttpRequest::captures. An exception thrown by a handler
  // becomes a 500 with the exception's text.
  void Route(const std::string& method, const std::string& pattern, HttpHandler handler);
  // Handler for paths no route matches (default: 404 with a short JSON body).
  void NotFound(HttpHandler handler);

  // Listens on the unix socket `path` (mode 0600) and serves from a thread.
  // A leftover socket file nobody answers on is replaced; kAborted if
  // another process answers there.
  Status Start(const std::string& socket_path);
  // Stops accepting, waits for running handlers, removes the socket file.
  // Idempotent.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string socket_path_;
  std::thread thread_;
};

// True if something accepts connections on the unix socket `path`.
bool UnixSocketAnswers(const std::string& path);

class HttpClient {
 public:
  // `timeout` bounds connecting and each read.
  explicit HttpClient(std::string socket_path,
                      std::chrono::seconds timeout = std::chrono::seconds(60));
  ~HttpClient();

  // kUnavailable "nothing listens on unix socket P" when no server is there;
  // kIoError for other transport failures. Any HTTP status is a response.
  Result<HttpResponse> Send(const std::string& method, const std::string& path,
                            const std::string& body = "");

 private:
  std::string socket_path_;
  std::chrono::seconds timeout_;
};

}  // namespace cairn::service

#endif  // CAIRN_SERVICE_HTTP_H_
