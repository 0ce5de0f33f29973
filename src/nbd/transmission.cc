#include "nbd/transmission.h"

#include <fmt/format.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "nbd/commands.h"
#include "nbd/protocol.h"
#include "nbd/reply_writer.h"
#include "nbd/request.h"
#include "nbd/socket_io.h"

namespace cairn::nbd {
namespace {

// Bounds what one connection holds in memory and in flight.
class Admission {
 public:
  Admission(int max_requests, uint64_t max_bytes)
      : max_requests_(std::max(1, max_requests)), max_bytes_(max_bytes) {}

  void Acquire(uint64_t bytes) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] {
      return requests_ < max_requests_ && (requests_ == 0 || bytes_ + bytes <= max_bytes_);
    });
    ++requests_;
    bytes_ += bytes;
  }
  void Release(uint64_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      --requests_;
      bytes_ -= bytes;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  const int max_requests_;
  const uint64_t max_bytes_;
  int requests_ = 0;    // guarded by mu_
  uint64_t bytes_ = 0;  // guarded by mu_
};

uint64_t BytesHeld(const RequestHeader& h) {
  return (h.type == kCmdRead || h.type == kCmdWrite) ? h.length : 0;
}

// Leader/follower: every worker takes a turn as the reader (under read_mu_),
// reads one request and its payload, gives up the turn, runs the request and
// writes its reply. No hand-off between threads per request, which matters
// for small requests on a busy machine.
class Transmission {
 public:
  Transmission(int fd, const Session& session, const ServerOptions& options)
      : fd_(fd),
        session_(session),
        replies_(fd, session.structured),
        admission_(std::max(1, options.max_in_flight), options.max_in_flight_bytes),
        workers_(size_t(std::max(
            1, std::min(options.workers_per_connection, std::max(1, options.max_in_flight))))) {}

  Status Run() {
    std::vector<std::thread> threads;
    threads.reserve(workers_ - 1);
    for (size_t i = 1; i < workers_; ++i) threads.emplace_back([this] { Work(); });
    Work();
    for (auto& t : threads) t.join();
    std::lock_guard<std::mutex> lock(read_mu_);
    return result_;
  }

 private:
  // Ends reading for every worker. REQUIRES: read_mu_ held.
  void EndLocked(Status why) {
    if (!closing_) result_ = std::move(why);
    closing_ = true;
  }

  void Work() {
    while (true) {
      std::optional<Request> req = Next();
      if (!req) return;
      const uint64_t held = BytesHeld(req->header);
      if (!replies_.broken()) Execute(*req, session_, replies_).IgnoreError();
      req->payload.reset();
      admission_.Release(held);
    }
  }

  // Reads the next request to run, answering refused ones on the way;
  // nullopt once the session is ending.
  std::optional<Request> Next() {
    std::lock_guard<std::mutex> lock(read_mu_);
    while (!closing_) {
      std::byte raw[kRequestHeaderSize];
      Status st = RecvAll(fd_, raw);
      if (st.code() == StatusCode::kAborted || (!st.ok() && replies_.broken())) {
        EndLocked(Status::OK());  // EOF between requests, or the client is gone
        break;
      }
      if (!st.ok()) {
        EndLocked(st.WithContext("reading a request header"));
        break;
      }
      Result<RequestHeader> parsed = ParseRequestHeader(raw);
      if (!parsed.ok()) {
        EndLocked(parsed.status());
        break;
      }
      const RequestHeader& h = *parsed;
      if (h.type == kCmdDisc) {
        EndLocked(Status::OK());
        break;
      }
      Refusal refusal = CheckRequest(h, session_);
      if (refusal.error != 0) {
        if (h.type == kCmdWrite) {
          Status skipped = Discard(fd_, h.length);
          if (!skipped.ok()) {
            EndLocked(skipped.WithContext(
                fmt::format("reading the refused write payload of {} bytes", h.length)));
            break;
          }
        }
        if (!replies_.Error(h.handle, refusal.error, refusal.message).ok()) {
          EndLocked(Status::OK());  // client gone
          break;
        }
        continue;
      }
      Request req{h, nullptr};
      const uint64_t held = BytesHeld(h);
      admission_.Acquire(held);
      if (h.type == kCmdWrite && h.length > 0) {
        req.payload = std::make_unique_for_overwrite<std::byte[]>(h.length);
        Status got = RecvAll(fd_, MutableByteSpan(req.payload.get(), h.length));
        if (!got.ok()) {
          admission_.Release(held);
          EndLocked(got.WithContext(fmt::format(
              "reading the payload of NBD_CMD_WRITE offset {} length {}", h.offset, h.length)));
          break;
        }
      }
      return req;
    }
    return std::nullopt;
  }

  const int fd_;
  const Session& session_;
  ReplyWriter replies_;
  Admission admission_;
  const size_t workers_;
  std::mutex read_mu_;    // the reader's turn; guards the fields below
  bool closing_ = false;  // guarded by read_mu_
  Status result_;         // guarded by read_mu_
};

}  // namespace

Status Serve(int fd, const Session& session, const ServerOptions& options) {
  Transmission t(fd, session, options);
  return t.Run();
}

}  // namespace cairn::nbd
