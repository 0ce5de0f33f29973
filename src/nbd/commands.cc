#include "nbd/commands.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "nbd/errors.h"
#include "nbd/protocol.h"

namespace cairn::nbd {
namespace {

constexpr uint32_t kCacheChunk = 1 << 20;

Status Answer(const Request& req, ReplyWriter& replies, const Status& result,
              bool fast_zero = false) {
  if (result.ok()) return replies.Ok(req.header.handle);
  uint32_t error = ToNbdError(result, fast_zero);
  return replies.Error(req.header.handle, error,
                       fmt::format("{} offset {} length {}: {}", CommandName(req.header.type),
                                   req.header.offset, req.header.length, result.message()));
}

// FUA on a device without native FUA: write, then flush.
Status FlushIfFua(const Request& req, const Session& s, Status result) {
  if (!result.ok() || !(req.header.flags & kCmdFlagFua) || s.caps.fua) return result;
  return s.device->Flush();
}

Status Read(const Request& req, const Session& s, ReplyWriter& replies) {
  const RequestHeader& h = req.header;
  auto buf = std::make_unique_for_overwrite<std::byte[]>(h.length);
  MutableByteSpan out(buf.get(), h.length);
  Status st = h.length == 0 ? Status::OK() : s.device->Read(h.offset, out);
  if (!st.ok()) return Answer(req, replies, st);
  return replies.ReadData(h.handle, h.offset, out);
}

Status Cache(const Request& req, const Session& s, ReplyWriter& replies) {
  // Reading is what warms a hydrating volume; the data is dropped.
  const RequestHeader& h = req.header;
  uint32_t chunk = std::min(h.length, kCacheChunk);
  auto buf = std::make_unique_for_overwrite<std::byte[]>(chunk);
  Status st;
  for (uint64_t done = 0; done < h.length && st.ok();) {
    uint32_t n = uint32_t(std::min<uint64_t>(chunk, h.length - done));
    st = s.device->Read(h.offset + done, MutableByteSpan(buf.get(), n));
    done += n;
  }
  return Answer(req, replies, st);
}

Status WriteZeroes(const Request& req, const Session& s, ReplyWriter& replies) {
  const RequestHeader& h = req.header;
  const bool fast = h.flags & kCmdFlagFastZero;
  const bool fua = h.flags & kCmdFlagFua;
  if (h.length == 0) return replies.Ok(h.handle);
  if (fast && !s.caps.fast_zero) {
    return Answer(req, replies, UnavailableError("the device cannot zero faster than writing"),
                  true);
  }
  Status st = s.device->WriteZeroes(h.offset, h.length, /*may_trim=*/!(h.flags & kCmdFlagNoHole),
                                    fua && s.caps.fua, fast);
  return Answer(req, replies, FlushIfFua(req, s, st), fast);
}

Status BlockStatus(const Request& req, const Session& s, ReplyWriter& replies) {
  const RequestHeader& h = req.header;
  const uint64_t end = h.offset + h.length;
  std::vector<StatusDescriptor> out;
  if (h.length > 0) {
    auto extents = s.device->Extents(h.offset, h.length);
    if (!extents.ok()) return Answer(req, replies, extents.status());
    uint64_t pos = h.offset;
    for (const volume::DeviceExtent& e : *extents) {
      if (e.offset != pos || e.length == 0) break;  // must be contiguous from the start
      uint64_t stop = std::min(e.offset + e.length, end);
      uint32_t flags = (e.hole ? kStateHole : 0) | ((e.hole || e.zero) ? kStateZero : 0);
      uint32_t len = uint32_t(stop - pos);  // ≤ request length, which is 32-bit
      if (!out.empty() && out.back().flags == flags) {
        out.back().length += len;
      } else {
        out.push_back({len, flags});
      }
      pos = stop;
      if (pos >= end) break;
    }
  }
  if (out.empty()) {
    // No information (or a zero-length query): "allocated, contents
    // unknown" is always a correct answer.
    out.push_back({std::max<uint32_t>(h.length, 1), 0});
    if (h.length == 0) out.back().length = std::max<uint32_t>(s.geometry.minimum, 1);
  }
  if (h.flags & kCmdFlagReqOne) out.resize(1);
  return replies.BlockStatus(h.handle, s.meta_context_id, out);
}

}  // namespace

Status Execute(const Request& req, const Session& s, ReplyWriter& replies) {
  const RequestHeader& h = req.header;
  const bool fua = h.flags & kCmdFlagFua;
  switch (h.type) {
    case kCmdRead:
      return Read(req, s, replies);
    case kCmdWrite: {
      if (h.length == 0) return replies.Ok(h.handle);
      Status st =
          s.device->Write(h.offset, ByteSpan(req.payload.get(), h.length), fua && s.caps.fua);
      return Answer(req, replies, FlushIfFua(req, s, st));
    }
    case kCmdFlush:
      return Answer(req, replies, s.device->Flush());
    case kCmdTrim: {
      if (h.length == 0) return replies.Ok(h.handle);
      return Answer(req, replies, FlushIfFua(req, s, s.device->Trim(h.offset, h.length)));
    }
    case kCmdCache:
      return Cache(req, s, replies);
    case kCmdWriteZeroes:
      return WriteZeroes(req, s, replies);
    case kCmdBlockStatus:
      return BlockStatus(req, s, replies);
    default:
      return replies.Error(h.handle, kEINVAL, fmt::format("unknown {}", CommandName(h.type)));
  }
}

}  // namespace cairn::nbd
