#include "nbd/server.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <list>
#include <mutex>
#include <thread>

#include "core/log.h"
#include "nbd/handshake.h"
#include "nbd/socket_io.h"
#include "nbd/transmission.h"

namespace cairn::nbd {
namespace {

// How long Stop()/Disconnect() let sessions answer their in-flight requests
// before the sockets are shut down both ways.
constexpr auto kDrainGrace = std::chrono::seconds(10);

struct Connection {
  uint64_t id = 0;
  int fd = -1;  // guarded by ServerImpl::mu_; -1 once closed
  std::string peer;
  std::string export_name;    // guarded by mu_
  bool transmission = false;  // guarded by mu_
  bool done = false;          // guarded by mu_
  std::thread thread;
};

class ServerImpl : public Server {
 public:
  ServerImpl(ServerOptions options, ExportProvider& provider)
      : options_(std::move(options)), provider_(provider) {}
  ~ServerImpl() override { Stop(); }

  Status Listen();
  void Stop() override;
  int tcp_port() const override { return tcp_port_; }
  std::string UriFor(std::string_view export_name) const override;
  std::vector<ConnectionInfo> Connections() const override;
  size_t Disconnect(std::string_view export_name) override;

 private:
  void AcceptLoop();
  void Accept(int listen_fd);
  void RunConnection(std::shared_ptr<Connection> conn);
  void ReapLocked();
  // Waits until every connection in `which` is done; after kDrainGrace
  // shuts the stragglers down both ways. REQUIRES: lock holds mu_.
  void DrainLocked(std::unique_lock<std::mutex>& lock,
                   const std::vector<std::shared_ptr<Connection>>& which);

  const ServerOptions options_;
  ExportProvider& provider_;
  int tcp_fd_ = -1;
  int unix_fd_ = -1;
  int tcp_port_ = 0;
  int wake_[2] = {-1, -1};  // self-pipe that wakes the accept loop
  std::thread acceptor_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> stopped_{false};

  mutable std::mutex mu_;
  std::condition_variable cv_;                    // a connection finished
  std::list<std::shared_ptr<Connection>> conns_;  // guarded by mu_
  uint64_t next_id_ = 1;                          // guarded by mu_
};

Status ServerImpl::Listen() {
  if (options_.tcp_listen.empty() && options_.unix_socket.empty()) {
    return InvalidArgumentError(
        "NBD server needs a TCP address or a unix socket path to listen on");
  }
  if (!options_.tcp_listen.empty()) {
    ASSIGN_OR_RETURN(tcp_fd_, ListenTcp(options_.tcp_listen, &tcp_port_));
  }
  if (!options_.unix_socket.empty()) {
    ASSIGN_OR_RETURN(unix_fd_, ListenUnix(options_.unix_socket));
  }
  if (::pipe2(wake_, O_CLOEXEC) != 0) return ErrnoToStatus(errno, "creating the NBD wake pipe");
  acceptor_ = std::thread([this] { AcceptLoop(); });
  return Status::OK();
}

void ServerImpl::AcceptLoop() {
  while (!stopping_.load()) {
    struct pollfd fds[3] = {{wake_[0], POLLIN, 0}, {tcp_fd_, POLLIN, 0}, {unix_fd_, POLLIN, 0}};
    int n = ::poll(fds, 3, -1);  // negative fds are ignored by poll
    if (n < 0) {
      if (errno == EINTR) continue;
      LogWarning(fmt::format("nbd: poll on listeners failed: {}", std::strerror(errno)));
      return;
    }
    if (fds[0].revents) return;
    if (fds[1].revents) Accept(tcp_fd_);
    if (fds[2].revents) Accept(unix_fd_);
  }
}

void ServerImpl::Accept(int listen_fd) {
  int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) {
    if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) {
      LogWarning(fmt::format("nbd: accept failed: {}", std::strerror(errno)));
      if (errno == EMFILE || errno == ENFILE)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  ReapLocked();
  if (stopping_.load() || conns_.size() >= size_t(std::max(1, options_.max_connections))) {
    LogWarning(fmt::format("nbd: refusing connection from {}: {}", PeerName(fd),
                           stopping_.load() ? "server is stopping" : "too many connections"));
    ::close(fd);
    return;
  }
  auto conn = std::make_shared<Connection>();
  conn->id = next_id_++;
  conn->fd = fd;
  conn->peer = PeerName(fd);
  conns_.push_back(conn);
  conn->thread = std::thread([this, conn] { RunConnection(conn); });
}

void ServerImpl::RunConnection(std::shared_ptr<Connection> conn) {
  const int fd = conn->fd;  // only this thread closes it
  SetNoDelay(fd);
  SetRecvTimeout(fd, options_.handshake_timeout);
  LogDebug(fmt::format("nbd: connection {} from {}", conn->id, conn->peer));
  Result<Session> session = Negotiate(fd, provider_, stopping_, [&](const Session& s) {
    std::lock_guard<std::mutex> lock(mu_);
    conn->export_name = s.export_name;
    conn->transmission = true;
  });
  if (!session.ok()) {
    if (session.status().code() == StatusCode::kCancelled) {
      LogDebug(
          fmt::format("nbd: {} ended the handshake: {}", conn->peer, session.status().message()));
    } else {
      LogInfo(fmt::format("nbd: closing connection from {} during the handshake: {}", conn->peer,
                          session.status().ToString()));
    }
  } else {
    SetRecvTimeout(fd, std::chrono::milliseconds(0));
    Status st = Serve(fd, *session, options_);
    if (!st.ok()) {
      LogInfo(fmt::format("nbd: closing connection from {} to export '{}': {}", conn->peer,
                          session->export_name, st.ToString()));
    } else {
      LogDebug(
          fmt::format("nbd: {} disconnected from export '{}'", conn->peer, session->export_name));
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ::close(fd);
    conn->fd = -1;
    conn->done = true;
  }
  cv_.notify_all();
}

void ServerImpl::ReapLocked() {
  for (auto it = conns_.begin(); it != conns_.end();) {
    if ((*it)->done) {
      (*it)->thread.join();  // the thread has finished its last statement
      it = conns_.erase(it);
    } else {
      ++it;
    }
  }
}

void ServerImpl::DrainLocked(std::unique_lock<std::mutex>& lock,
                             const std::vector<std::shared_ptr<Connection>>& which) {
  auto all_done = [&] {
    for (const auto& c : which) {
      if (!c->done) return false;
    }
    return true;
  };
  if (!cv_.wait_for(lock, kDrainGrace, all_done)) {
    for (const auto& c : which) {
      if (c->fd >= 0) ::shutdown(c->fd, SHUT_RDWR);
    }
    cv_.wait(lock, all_done);
  }
}

void ServerImpl::Stop() {
  if (stopped_.exchange(true)) return;
  stopping_.store(true);
  if (wake_[1] >= 0) {
    char b = 1;
    (void)!::write(wake_[1], &b, 1);
  }
  if (acceptor_.joinable()) acceptor_.join();
  for (int* fd : {&tcp_fd_, &unix_fd_, &wake_[0], &wake_[1]}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
  if (!options_.unix_socket.empty()) ::unlink(options_.unix_socket.c_str());
  std::unique_lock<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<Connection>> all(conns_.begin(), conns_.end());
  for (const auto& c : all) {
    if (c->fd >= 0) ::shutdown(c->fd, SHUT_RD);
  }
  DrainLocked(lock, all);
  ReapLocked();
}

std::string ServerImpl::UriFor(std::string_view export_name) const {
  if (tcp_port_ != 0) {
    std::string host = options_.tcp_listen.substr(0, options_.tcp_listen.rfind(':'));
    if (host.empty() || host == "0.0.0.0") host = "localhost";
    if (host == "[::]") host = "localhost";
    return fmt::format("nbd://{}:{}/{}", host, tcp_port_, export_name);
  }
  return fmt::format("nbd+unix:///{}?socket={}", export_name, options_.unix_socket);
}

std::vector<ConnectionInfo> ServerImpl::Connections() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ConnectionInfo> out;
  for (const auto& c : conns_) {
    if (c->done) continue;
    out.push_back({c->id, c->peer, c->export_name, c->transmission});
  }
  return out;
}

size_t ServerImpl::Disconnect(std::string_view export_name) {
  std::unique_lock<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<Connection>> which;
  for (const auto& c : conns_) {
    if (!c->done && c->transmission && c->export_name == export_name) {
      which.push_back(c);
      if (c->fd >= 0) ::shutdown(c->fd, SHUT_RD);
    }
  }
  DrainLocked(lock, which);
  return which.size();
}

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(ServerOptions options, ExportProvider& provider) {
  auto server = std::make_unique<ServerImpl>(std::move(options), provider);
  RETURN_IF_ERROR(server->Listen());
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace cairn::nbd
