// Read-ahead of device ranges in order (see ordered_reader.h).
#include "fs/ordered_reader.h"

#include <fmt/format.h>

#include <condition_variable>
#include <deque>
#include <mutex>

namespace cairn::fs {
namespace {

ByteSpan Zeros(uint32_t length) {
  static const Buffer* zeros = new Buffer(OrderedReader::kMaxPiece);
  return ByteSpan(zeros->data(), length);
}

Status ReadError(Status s, const ReadPiece& p, const std::string& what) {
  return s.WithContext(
      fmt::format("{} at offset {} (device offset {})", what, p.file_offset, p.device_offset));
}

// A read in flight; `data` and `status` belong to the worker until `done`.
struct Slot {
  ReadPiece piece;
  Buffer data;
  Status status;
  bool done = false;  // guarded by Shared::mu
};

struct Shared {
  std::mutex mu;
  std::condition_variable cv;
};

}  // namespace

Status OrderedReader::RunInline(const std::function<Result<std::optional<ReadPiece>>()>& next,
                                const std::function<Status(ByteSpan)>& sink,
                                const std::string& what) {
  Buffer buf;
  for (;;) {
    ASSIGN_OR_RETURN(std::optional<ReadPiece> p, next());
    if (!p) return Status::OK();
    if (p->zero) {
      RETURN_IF_ERROR(sink(Zeros(p->length)));
      continue;
    }
    buf.resize(p->length);
    Status s = device_->Read(p->device_offset, MutableByteSpan(buf.data(), p->length));
    if (!s.ok()) return ReadError(std::move(s), *p, what);
    RETURN_IF_ERROR(sink(ByteSpan(buf.data(), p->length)));
  }
}

Status OrderedReader::Run(const std::function<Result<std::optional<ReadPiece>>()>& next,
                          const std::function<Status(ByteSpan)>& sink, const std::string& what) {
  if (window_ == 0) return RunInline(next, sink, what);
  auto shared = std::make_shared<Shared>();
  std::deque<std::shared_ptr<Slot>> inflight;
  bool more = true;
  Status result;
  for (;;) {
    while (more && inflight.size() < window_) {
      Result<std::optional<ReadPiece>> p = next();
      if (!p.ok()) {
        result = p.status();
        more = false;
        break;
      }
      if (!p->has_value()) {
        more = false;
        break;
      }
      auto slot = std::make_shared<Slot>();
      slot->piece = **p;
      if (slot->piece.zero) {
        slot->done = true;
      } else {
        slot->data.resize(slot->piece.length);
        pool_->Submit([slot, shared, device = device_] {
          Status s = device->Read(slot->piece.device_offset,
                                  MutableByteSpan(slot->data.data(), slot->data.size()));
          std::lock_guard<std::mutex> lock(shared->mu);
          slot->status = std::move(s);
          slot->done = true;
          shared->cv.notify_all();
        });
      }
      inflight.push_back(std::move(slot));
    }
    if (!result.ok() || inflight.empty()) break;
    std::shared_ptr<Slot> slot = std::move(inflight.front());
    inflight.pop_front();
    {
      std::unique_lock<std::mutex> lock(shared->mu);
      shared->cv.wait(lock, [&] { return slot->done; });
    }
    if (!slot->status.ok()) {
      result = ReadError(std::move(slot->status), slot->piece, what);
      break;
    }
    Status s = slot->piece.zero ? sink(Zeros(slot->piece.length))
                                : sink(ByteSpan(slot->data.data(), slot->data.size()));
    if (!s.ok()) {
      result = std::move(s);
      break;
    }
  }
  // No read outlives Run (their buffers are bounded by the window).
  std::unique_lock<std::mutex> lock(shared->mu);
  for (const auto& slot : inflight) shared->cv.wait(lock, [&] { return slot->done; });
  return result;
}

}  // namespace cairn::fs
