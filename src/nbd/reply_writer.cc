#include "nbd/reply_writer.h"

#include <sys/socket.h>

#include <array>

#include "nbd/protocol.h"
#include "nbd/socket_io.h"

namespace cairn::nbd {
namespace {

// A fixed-size header built in place (no allocation on the hot path).
template <size_t N>
class Header {
 public:
  void U16(uint16_t v) { Put(v, 2); }
  void U32(uint32_t v) { Put(v, 4); }
  void U64(uint64_t v) { Put(v, 8); }
  ByteSpan bytes() const { return ByteSpan(buf_.data(), pos_); }

 private:
  void Put(uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) buf_[pos_++] = std::byte((v >> (8 * i)) & 0xff);
  }
  std::array<std::byte, N> buf_{};
  size_t pos_ = 0;
};

void SimpleHeader(Header<32>& h, uint32_t error, uint64_t handle) {
  h.U32(kSimpleReplyMagic);
  h.U32(error);
  h.U64(handle);
}

void ChunkHeader(Header<32>& h, uint16_t flags, uint16_t type, uint64_t handle, uint32_t length) {
  h.U32(kStructuredReplyMagic);
  h.U16(flags);
  h.U16(type);
  h.U64(handle);
  h.U32(length);
}

}  // namespace

Status ReplyWriter::Send(std::initializer_list<ByteSpan> parts) {
  std::lock_guard<std::mutex> lock(mu_);
  if (broken_.load()) return AbortedError("connection is closed");
  Status s = SendAll(fd_, parts);
  if (!s.ok()) {
    broken_.store(true);
    ::shutdown(fd_, SHUT_RDWR);
  }
  return s;
}

Status ReplyWriter::Ok(uint64_t handle) {
  Header<32> h;
  SimpleHeader(h, 0, handle);
  return Send({h.bytes()});
}

Status ReplyWriter::Error(uint64_t handle, uint32_t error, std::string_view message) {
  Header<32> h;
  if (!structured_) {
    SimpleHeader(h, error, handle);
    return Send({h.bytes()});
  }
  if (message.size() > kMaxStringSize) message = message.substr(0, kMaxStringSize);
  ChunkHeader(h, kReplyFlagDone, kReplyTypeError, handle, uint32_t(6 + message.size()));
  h.U32(error);
  h.U16(uint16_t(message.size()));
  return Send({h.bytes(), AsBytes(message)});
}

Status ReplyWriter::ReadData(uint64_t handle, uint64_t offset, ByteSpan data) {
  Header<32> h;
  if (!structured_) {
    SimpleHeader(h, 0, handle);
    return Send({h.bytes(), data});
  }
  if (data.empty()) {
    ChunkHeader(h, kReplyFlagDone, kReplyTypeNone, handle, 0);
    return Send({h.bytes()});
  }
  ChunkHeader(h, kReplyFlagDone, kReplyTypeOffsetData, handle, uint32_t(8 + data.size()));
  h.U64(offset);
  return Send({h.bytes(), data});
}

Status ReplyWriter::BlockStatus(uint64_t handle, uint32_t context_id,
                                std::span<const StatusDescriptor> descriptors) {
  Buffer payload;
  payload.reserve(4 + 8 * descriptors.size());
  PutU32BE(payload, context_id);
  for (const StatusDescriptor& d : descriptors) {
    PutU32BE(payload, d.length);
    PutU32BE(payload, d.flags);
  }
  Header<32> h;
  ChunkHeader(h, kReplyFlagDone, kReplyTypeBlockStatus, handle, uint32_t(payload.size()));
  return Send({h.bytes(), payload});
}

}  // namespace cairn::nbd
