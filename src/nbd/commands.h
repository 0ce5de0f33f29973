// Running one checked NBD request against the session's device and
// answering it: the only place where commands meet BlockDevice calls.
//
// Thread-safety: Execute may run on many worker threads at once for one
// session (BlockDevice is thread-safe; ReplyWriter serializes replies).
#ifndef CAIRN_NBD_COMMANDS_H_
#define CAIRN_NBD_COMMANDS_H_

#include <memory>

#include "nbd/handshake.h"
#include "nbd/reply_writer.h"
#include "nbd/request.h"

namespace cairn::nbd {

struct Request {
  RequestHeader header;
  std::unique_ptr<std::byte[]> payload;  // NBD_CMD_WRITE data, header.length bytes
};

// REQUIRES: CheckRequest(req.header, session) accepted the request.
// Returns the status of sending the reply (the command's own failure is
// answered to the client, not returned).
Status Execute(const Request& req, const Session& session, ReplyWriter& replies);

}  // namespace cairn::nbd

#endif  // CAIRN_NBD_COMMANDS_H_
