#include "service/http.h"

#include <fmt/format.h>
#include <httplib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <regex>
#include <thread>

namespace cairn::service {
namespace {

struct RouteEntry {
  std::string method;
  std::regex pattern;
  HttpHandler handler;
};

std::string ErrorBody(std::string_view code, std::string_view message) {
  // Minimal JSON by hand: this layer knows no JSON library. Escape what
  // JSON requires.
  std::string escaped;
  for (char c : message) {
    if (c == '"' || c == '\\') {
      escaped += '\\';
      escaped += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      escaped += fmt::format("\\u{:04x}", static_cast<int>(c));
    } else {
      escaped += c;
    }
  }
  return fmt::format(R"({{"error":{{"code":"{}","message":"{}"}}}})", code, escaped);
}

}  // namespace

struct HttpServer::Impl {
  httplib::Server server;
  std::vector<RouteEntry> routes;
  HttpHandler not_found;
  bool started = false;
  std::atomic<bool> listen_ended{false};  // listen_after_bind() returned
};

HttpServer::HttpServer() : impl_(std::make_unique<Impl>()) {
  impl_->not_found = [](const HttpRequest& r) {
    return HttpResponse{404, ErrorBody("not_found", "no API endpoint " + r.method + " " + r.path +
                                                        " (see docs/api.md)")};
  };
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Route(const std::string& method, const std::string& pattern, HttpHandler handler) {
  impl_->routes.push_back({method, std::regex(pattern), std::move(handler)});
}

void HttpServer::NotFound(HttpHandler handler) { impl_->not_found = std::move(handler); }

bool UnixSocketAnswers(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) return false;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool answers = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return answers;
}

Status HttpServer::Start(const std::string& socket_path) {
  sockaddr_un addr{};
  if (socket_path.size() >= sizeof(addr.sun_path)) {
    return InvalidArgumentError(fmt::format(
        "API socket path {} is {} bytes, longer than a unix socket allows ({}): choose a "
        "shorter --api-socket",
        socket_path, socket_path.size(), sizeof(addr.sun_path) - 1));
  }
  struct stat st {};
  if (::lstat(socket_path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return FailedPreconditionError(
          fmt::format("API socket path {} exists and is not a socket: remove it or choose another "
                      "--api-socket",
                      socket_path));
    }
    if (UnixSocketAnswers(socket_path)) {
      return AbortedError(
          fmt::format("another process already serves the API socket {}: stop it or choose another "
                      "--api-socket",
                      socket_path));
    }
    ::unlink(socket_path.c_str());  // a leftover of a process that died
  }

  Impl* impl = impl_.get();
  impl->server.set_address_family(AF_UNIX);
  // One catch-all handler per method; our own table does the routing (so a
  // wrong method on a known path is a 405, and the body has been read).
  const httplib::Server::Handler dispatch = [impl](const httplib::Request& req,
                                                   httplib::Response& res) {
    HttpRequest r;
    r.method = req.method;
    r.path = req.path;
    for (const auto& [k, v] : req.params) r.query[k] = v;
    r.body = req.body;
    HttpResponse out;
    bool matched = false;
    bool path_known = false;
    try {
      for (const auto& route : impl->routes) {
        std::smatch m;
        if (!std::regex_match(req.path, m, route.pattern)) continue;
        path_known = true;
        if (route.method != req.method) continue;
        for (size_t i = 1; i < m.size(); ++i) r.captures.push_back(m[i].str());
        out = route.handler(r);
        matched = true;
        break;
      }
      if (!matched && path_known) {
        out = {405, ErrorBody("invalid_argument",
                              "method " + req.method + " not allowed on " + req.path)};
      } else if (!matched) {
        out = impl->not_found(r);
      }
    } catch (const std::exception& e) {
      out = {500, ErrorBody("internal", std::string("API handler failed: ") + e.what())};
    }
    res.status = out.status;
    res.set_content(out.body, out.content_type);
  };
  impl->server.Get(".*", dispatch);
  impl->server.Post(".*", dispatch);
  impl->server.Put(".*", dispatch);
  impl->server.Patch(".*", dispatch);
  impl->server.Delete(".*", dispatch);
  if (!impl->server.bind_to_port(socket_path, 80)) {
    return IoError(
        fmt::format("cannot listen on unix socket {}: {} (is the directory there "
                    "and writable?)",
                    socket_path, std::strerror(errno)));
  }
  ::chmod(socket_path.c_str(), 0600);
  socket_path_ = socket_path;
  impl->started = true;
  thread_ = std::thread([impl] {
    impl->server.listen_after_bind();
    impl->listen_ended = true;
  });
  return Status::OK();
}

void HttpServer::Stop() {
  if (!impl_->started) return;
  impl_->started = false;
  // cpp-httplib's stop() does nothing until listen has begun (is_running()):
  // a Stop right after Start could come first and leave listen running, and
  // the join below waiting, for ever. Wait for it to begin (or to have failed).
  while (!impl_->server.is_running() && !impl_->listen_ended) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->server.stop();
  if (thread_.joinable()) thread_.join();
  ::unlink(socket_path_.c_str());
}

HttpClient::HttpClient(std::string socket_path, std::chrono::seconds timeout)
    : socket_path_(std::move(socket_path)), timeout_(timeout) {}

HttpClient::~HttpClient() = default;

Result<HttpResponse> HttpClient::Send(const std::string& method, const std::string& path,
                                      const std::string& body) {
  if (method != "GET" && method != "POST" && method != "DELETE") {
    return InternalError("HttpClient: unsupported method " + method);
  }
  // cpp-httplib connects without blocking and its listen backlog is small:
  // under a burst of clients a connect can fail although the server is up.
  // A blocking probe tells "busy" (retry) from "nobody there" (give up).
  for (int attempt = 0;; ++attempt) {
    httplib::Client client(socket_path_);
    client.set_address_family(AF_UNIX);
    client.set_connection_timeout(timeout_);
    client.set_read_timeout(timeout_);
    client.set_write_timeout(timeout_);
    httplib::Result res = method == "GET"    ? client.Get(path)
                          : method == "POST" ? client.Post(path, body, "application/json")
                                             : client.Delete(path, body, "application/json");
    if (!res) {
      const httplib::Error err = res.error();
      if (err == httplib::Error::Connection) {
        if (attempt < 200 && UnixSocketAnswers(socket_path_)) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5 * std::min(attempt + 1, 20)));
          continue;
        }
        return UnavailableError("nothing listens on unix socket " + socket_path_);
      }
      return IoError(fmt::format("{} {} on unix socket {}: {}", method, path, socket_path_,
                                 httplib::to_string(err)));
    }
    HttpResponse out;
    out.status = res->status;
    out.body = res->body;
    out.content_type = res->get_header_value("Content-Type");
    return out;
  }
}

}  // namespace cairn::service
