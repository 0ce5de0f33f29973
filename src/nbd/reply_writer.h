// ReplyWriter: writes transmission-phase replies on one connection, each
// reply whole (header and payload in one sendmsg sequence) under a lock, so
// replies from many worker threads never interleave. Uses structured reply
// chunks where the session negotiated them and a payload or an error message
// needs them; plain simple replies otherwise.
//
// Thread-safety: every method may be called from any thread. After a send
// fails the writer is broken: the socket is shut down (which also wakes the
// connection's reader) and later calls fail at once.
#ifndef CAIRN_NBD_REPLY_WRITER_H_
#define CAIRN_NBD_REPLY_WRITER_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <span>
#include <string_view>

#include "core/bytes.h"
#include "core/status.h"

namespace cairn::nbd {

struct StatusDescriptor {
  uint32_t length = 0;
  uint32_t flags = 0;
};

class ReplyWriter {
 public:
  ReplyWriter(int fd, bool structured) : fd_(fd), structured_(structured) {}

  // Success without payload (any command but READ / BLOCK_STATUS).
  Status Ok(uint64_t handle);
  // An error. Structured sessions get an NBD_REPLY_TYPE_ERROR chunk with
  // `message`; simple sessions get the error value alone.
  Status Error(uint64_t handle, uint32_t error, std::string_view message);
  // A successful read of `data` at `offset` (one OFFSET_DATA chunk, or a
  // simple reply followed by the data).
  Status ReadData(uint64_t handle, uint64_t offset, ByteSpan data);
  // One BLOCK_STATUS chunk (final). REQUIRES: structured, !descriptors.empty().
  Status BlockStatus(uint64_t handle, uint32_t context_id,
                     std::span<const StatusDescriptor> descriptors);

  bool broken() const { return broken_.load(); }

 private:
  Status Send(std::initializer_list<ByteSpan> parts);

  const int fd_;
  const bool structured_;
  std::mutex mu_;  // serializes whole replies on fd_
  std::atomic<bool> broken_{false};
};

}  // namespace cairn::nbd

#endif  // CAIRN_NBD_REPLY_WRITER_H_
