// Blocking socket helpers for the NBD server: whole-message send and
// receive, and the TCP / unix listeners.
//
// Thread-safety: functions on distinct descriptors are independent; one
// descriptor may be read by one thread while another writes it.
#ifndef CAIRN_NBD_SOCKET_IO_H_
#define CAIRN_NBD_SOCKET_IO_H_

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "core/bytes.h"
#include "core/status.h"

namespace cairn::nbd {

// Fills `out` from the socket. Errors: kAborted "connection closed by the
// client" when the peer closed before the first byte; kIoError when it closed
// part-way ("truncated: got N of M bytes"); kUnavailable on a receive timeout.
Status RecvAll(int fd, MutableByteSpan out);

// Reads and drops `n` bytes (a payload the server refuses).
Status Discard(int fd, uint64_t n);

// Sends every part, in order, as one message (sendmsg, MSG_NOSIGNAL); loops
// over short writes. Callers serialize writers on one socket.
Status SendAll(int fd, std::initializer_list<ByteSpan> parts);

// Listens on "HOST:PORT" ("127.0.0.1:10809", "[::1]:0", "localhost:10809").
// `*bound_port` receives the port actually bound. Close-on-exec.
Result<int> ListenTcp(const std::string& host_port, int* bound_port);

// Listens on a unix socket at `path`; a stale socket file is replaced, a
// live one (something answers) is kAlreadyExists.
Result<int> ListenUnix(const std::string& path);

// "127.0.0.1:51234", "[::1]:40000", "unix" for messages.
std::string PeerName(int fd);

// TCP_NODELAY on TCP sockets (no-op on unix sockets).
void SetNoDelay(int fd);
// SO_RCVTIMEO; zero clears it.
void SetRecvTimeout(int fd, std::chrono::milliseconds timeout);

}  // namespace cairn::nbd

#endif  // CAIRN_NBD_SOCKET_IO_H_
