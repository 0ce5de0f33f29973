#include "nbd/socket_io.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace cairn::nbd {

Status RecvAll(int fd, MutableByteSpan out) {
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::recv(fd, out.data() + got, out.size() - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return UnavailableError("timed out waiting for the client");
      }
      return ErrnoToStatus(errno, "receiving from the client");
    }
    if (n == 0) {
      if (got == 0) return AbortedError("connection closed by the client");
      return IoError(fmt::format("connection closed by the client mid-message: got {} of {} bytes",
                                 got, out.size()));
    }
    got += static_cast<size_t>(n);
  }
  return Status::OK();
}

Status Discard(int fd, uint64_t n) {
  std::byte scratch[64 * 1024];
  while (n > 0) {
    size_t chunk = n < sizeof(scratch) ? static_cast<size_t>(n) : sizeof(scratch);
    RETURN_IF_ERROR(RecvAll(fd, MutableByteSpan(scratch, chunk)));
    n -= chunk;
  }
  return Status::OK();
}

Status SendAll(int fd, std::initializer_list<ByteSpan> parts) {
  struct iovec iov[8];
  size_t count = 0;
  for (ByteSpan p : parts) {
    if (p.empty()) continue;
    if (count == 8) return InternalError("SendAll: more than 8 parts");
    iov[count].iov_base = const_cast<std::byte*>(p.data());
    iov[count].iov_len = p.size();
    ++count;
  }
  size_t first = 0;
  while (first < count) {
    struct msghdr msg {};
    msg.msg_iov = iov + first;
    msg.msg_iovlen = count - first;
    ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, "sending to the client");
    }
    size_t left = static_cast<size_t>(n);
    while (first < count && left >= iov[first].iov_len) {
      left -= iov[first].iov_len;
      ++first;
    }
    if (first < count) {
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
  return Status::OK();
}

Result<int> ListenTcp(const std::string& host_port, int* bound_port) {
  std::string host, port;
  if (!host_port.empty() && host_port[0] == '[') {
    size_t close = host_port.find(']');
    if (close == std::string::npos || close + 1 >= host_port.size() ||
        host_port[close + 1] != ':') {
      return InvalidArgumentError(fmt::format(
          "NBD listen address '{}': expected [IPV6]:PORT, e.g. [::1]:10809", host_port));
    }
    host = host_port.substr(1, close - 1);
    port = host_port.substr(close + 2);
  } else {
    size_t colon = host_port.rfind(':');
    if (colon == std::string::npos) {
      return InvalidArgumentError(fmt::format(
          "NBD listen address '{}': expected HOST:PORT, e.g. 127.0.0.1:10809", host_port));
    }
    host = host_port.substr(0, colon);
    port = host_port.substr(colon + 1);
  }
  if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgumentError(
        fmt::format("NBD listen address '{}': port '{}' is not a number", host_port, port));
  }
  struct addrinfo hints {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  struct addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    return InvalidArgumentError(fmt::format("NBD listen address '{}': cannot resolve host '{}': {}",
                                            host_port, host, ::gai_strerror(rc)));
  }
  Status last = IoError(fmt::format("NBD listen address '{}': no usable address", host_port));
  int fd = -1;
  for (struct addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last = ErrnoToStatus(errno, fmt::format("creating a socket for {}", host_port));
      continue;
    }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 128) == 0) break;
    int err = errno;
    if (err == EADDRINUSE) {
      last = AlreadyExistsError(fmt::format(
          "NBD listen address {} is already in use; stop the other server or pick another port",
          host_port));
    } else {
      last = ErrnoToStatus(err, fmt::format("listening on {}", host_port));
    }
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  if (fd < 0) return last;
  struct sockaddr_storage ss {};
  socklen_t len = sizeof(ss);
  *bound_port = 0;
  if (::getsockname(fd, reinterpret_cast<struct sockaddr*>(&ss), &len) == 0) {
    if (ss.ss_family == AF_INET) {
      *bound_port = ntohs(reinterpret_cast<struct sockaddr_in*>(&ss)->sin_port);
    } else if (ss.ss_family == AF_INET6) {
      *bound_port = ntohs(reinterpret_cast<struct sockaddr_in6*>(&ss)->sin6_port);
    }
  }
  return fd;
}

Result<int> ListenUnix(const std::string& path) {
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return InvalidArgumentError(fmt::format("NBD unix socket path '{}' must be 1 to {} bytes long",
                                            path, sizeof(addr.sun_path) - 1));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return AlreadyExistsError(fmt::format(
          "NBD unix socket path {} exists and is not a socket; remove it or pick another path",
          path));
    }
    int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0) {
      bool live = ::connect(probe, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) == 0;
      ::close(probe);
      if (live) {
        return AlreadyExistsError(fmt::format(
            "another server is listening on unix socket {}; stop it or pick another path", path));
      }
    }
    ::unlink(path.c_str());  // stale
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoToStatus(errno, "creating a unix socket");
  if (::bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(fd, 128) != 0) {
    Status s = ErrnoToStatus(errno, fmt::format("listening on unix socket {}", path));
    ::close(fd);
    return s;
  }
  return fd;
}

std::string PeerName(int fd) {
  struct sockaddr_storage ss {};
  socklen_t len = sizeof(ss);
  if (::getpeername(fd, reinterpret_cast<struct sockaddr*>(&ss), &len) != 0) return "unknown";
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<struct sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
    return fmt::format("{}:{}", buf, ntohs(a->sin_port));
  }
  if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<struct sockaddr_in6*>(&ss);
    ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof(buf));
    return fmt::format("[{}]:{}", buf, ntohs(a->sin6_port));
  }
  return "unix";
}

void SetNoDelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  // fails harmlessly on unix
}

void SetRecvTimeout(int fd, std::chrono::milliseconds timeout) {
  struct timeval tv {};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

}  // namespace cairn::nbd
