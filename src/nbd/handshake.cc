#include "nbd/handshake.h"

#include <fmt/format.h>

#include <algorithm>

#include "nbd/protocol.h"
#include "nbd/socket_io.h"

namespace cairn::nbd {
namespace {

// Option payloads above this are not read: the connection is closed.
constexpr uint32_t kMaxOptionPayload = 1 << 20;
// A client that sends more options than this without choosing an export is
// treated as abusive and disconnected.
constexpr int kMaxOptions = 4096;
constexpr uint32_t kMaxBlockSize = 64u << 20;

bool IsPowerOfTwo(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

class Negotiator {
 public:
  Negotiator(int fd, ExportProvider& provider, const std::atomic<bool>& stopping,
             std::function<void(const Session&)> on_enter)
      : fd_(fd), provider_(provider), stopping_(stopping), on_enter_(std::move(on_enter)) {}

  Result<Session> Run();

 private:
  Status Reply(uint32_t option, uint32_t type, ByteSpan data = {}) {
    Buffer head;
    head.reserve(20);
    PutU64BE(head, kRepMagic);
    PutU32BE(head, option);
    PutU32BE(head, type);
    PutU32BE(head, static_cast<uint32_t>(data.size()));
    return SendAll(fd_, {head, data});
  }
  Status ReplyError(uint32_t option, uint32_t type, std::string message) {
    if (message.size() > kMaxStringSize) message.resize(kMaxStringSize);
    return Reply(option, type, AsBytes(message));
  }

  // Each returns OK to keep haggling; `done` set when transmission starts.
  Status HandleList(uint32_t option, ByteSpan payload);
  Status HandleInfoOrGo(uint32_t option, ByteSpan payload, bool* done);
  Status HandleExportName(ByteSpan payload);
  Status HandleMetaContext(uint32_t option, ByteSpan payload);

  // Opens `name` or explains why not (for error replies).
  Result<std::shared_ptr<volume::BlockDevice>> OpenExport(const std::string& name);
  std::string DescriptionOf(const std::string& name);
  void FillSession(const std::string& name, std::shared_ptr<volume::BlockDevice> device);

  const int fd_;
  ExportProvider& provider_;
  const std::atomic<bool>& stopping_;
  const std::function<void(const Session&)> on_enter_;
  bool no_zeroes_ = false;
  bool structured_ = false;
  bool meta_selected_ = false;
  std::string meta_export_;
  Session session_;
};

Result<Session> Negotiator::Run() {
  Buffer hello;
  PutU64BE(hello, kNbdMagic);
  PutU64BE(hello, kOptMagic);
  PutU16BE(hello, kFlagFixedNewstyle | kFlagNoZeroes);
  RETURN_IF_ERROR(SendAll(fd_, {hello}));

  std::byte cflags_buf[4];
  RETURN_IF_ERROR_CTX(RecvAll(fd_, cflags_buf), "reading the client flags");
  uint32_t cflags = GetU32BE(cflags_buf);
  if (cflags & ~(kClientFlagFixedNewstyle | kClientFlagNoZeroes)) {
    return InvalidArgumentError(fmt::format(
        "client flags 0x{:x} include unknown bits; closing as the protocol requires", cflags));
  }
  if (!(cflags & kClientFlagFixedNewstyle)) {
    return InvalidArgumentError(
        "client does not speak fixed newstyle negotiation (only fixed newstyle is served)");
  }
  no_zeroes_ = (cflags & kClientFlagNoZeroes) != 0;

  for (int n = 0; n < kMaxOptions; ++n) {
    std::byte head[16];
    Status s = RecvAll(fd_, head);
    if (s.code() == StatusCode::kAborted) return CancelledError("client closed during haggling");
    RETURN_IF_ERROR_CTX(s, "reading an option header");
    uint64_t magic = GetU64BE(ByteSpan(head, 8));
    uint32_t option = GetU32BE(ByteSpan(head + 8, 4));
    uint32_t length = GetU32BE(ByteSpan(head + 12, 4));
    if (magic != kOptMagic) {
      return InvalidArgumentError(
          fmt::format("option header has magic 0x{:x}, expected IHAVEOPT", magic));
    }
    if (length > kMaxOptionPayload) {
      return InvalidArgumentError(fmt::format("{} carries {} bytes of data (limit {})",
                                              OptionName(option), length, kMaxOptionPayload));
    }
    Buffer payload(length);
    RETURN_IF_ERROR_CTX(RecvAll(fd_, payload), "reading " + OptionName(option) + " data");

    if (stopping_.load() && option != kOptAbort) {
      RETURN_IF_ERROR(ReplyError(option, kRepErrShutdown, "server is shutting down"));
      continue;
    }
    bool done = false;
    switch (option) {
      case kOptExportName:
        RETURN_IF_ERROR(HandleExportName(payload));
        return std::move(session_);
      case kOptAbort:
        Reply(option, kRepAck).IgnoreError();  // the client may already be gone
        return CancelledError("client sent NBD_OPT_ABORT");
      case kOptList:
        RETURN_IF_ERROR(HandleList(option, payload));
        break;
      case kOptInfo:
      case kOptGo:
        RETURN_IF_ERROR(HandleInfoOrGo(option, payload, &done));
        if (done) return std::move(session_);
        break;
      case kOptStructuredReply:
        if (!payload.empty()) {
          RETURN_IF_ERROR(
              ReplyError(option, kRepErrInvalid, "NBD_OPT_STRUCTURED_REPLY takes no data"));
          break;
        }
        structured_ = true;
        RETURN_IF_ERROR(Reply(option, kRepAck));
        break;
      case kOptListMetaContext:
      case kOptSetMetaContext:
        RETURN_IF_ERROR(HandleMetaContext(option, payload));
        break;
      case kOptStartTls:
        RETURN_IF_ERROR(ReplyError(option, kRepErrUnsup, "this server does not support TLS"));
        break;
      default:
        RETURN_IF_ERROR(ReplyError(option, kRepErrUnsup,
                                   fmt::format("{} is not supported", OptionName(option))));
        break;
    }
  }
  return InvalidArgumentError(
      fmt::format("client sent {} options without selecting an export", kMaxOptions));
}

Result<std::shared_ptr<volume::BlockDevice>> Negotiator::OpenExport(const std::string& name) {
  if (name.size() > kMaxStringSize) {
    return InvalidArgumentError(
        fmt::format("export name of {} bytes is longer than {}", name.size(), kMaxStringSize));
  }
  auto dev = provider_.Open(name);
  if (!dev.ok()) return dev.status();
  if (*dev == nullptr) return InternalError(fmt::format("export '{}' has no device", name));
  return dev;
}

std::string Negotiator::DescriptionOf(const std::string& name) {
  for (const ExportInfo& e : provider_.List()) {
    if (e.name == name) return e.description;
  }
  return "";
}

void Negotiator::FillSession(const std::string& name, std::shared_ptr<volume::BlockDevice> device) {
  session_.export_name = name;
  session_.caps = device->caps();
  session_.geometry = SanitizeGeometry(device->geometry());
  session_.size = device->Size();
  session_.structured = structured_;
  session_.tx_flags = TransmissionFlags(session_.caps, structured_);
  session_.block_status = structured_ && meta_selected_ && meta_export_ == name;
  session_.meta_context_id = session_.block_status ? 1 : 0;
  session_.device = std::move(device);
}

Status Negotiator::HandleExportName(ByteSpan payload) {
  std::string name(AsStringView(payload));
  auto dev = OpenExport(name);
  if (!dev.ok()) {
    // NBD_OPT_EXPORT_NAME cannot carry an error: the spec says close.
    return dev.status().WithContext(fmt::format("NBD_OPT_EXPORT_NAME '{}'", name));
  }
  FillSession(name, std::move(dev).value());
  if (on_enter_) on_enter_(session_);
  Buffer out;
  PutU64BE(out, session_.size);
  PutU16BE(out, session_.tx_flags);
  if (!no_zeroes_) out.resize(out.size() + 124);
  return SendAll(fd_, {out});
}

Status Negotiator::HandleList(uint32_t option, ByteSpan payload) {
  if (!payload.empty()) return ReplyError(option, kRepErrInvalid, "NBD_OPT_LIST takes no data");
  for (const ExportInfo& e : provider_.List()) {
    Buffer data;
    PutU32BE(data, static_cast<uint32_t>(e.name.size()));
    PutString(data, e.name);
    PutString(data, e.description.substr(0, kMaxStringSize));
    RETURN_IF_ERROR(Reply(option, kRepServer, data));
  }
  return Reply(option, kRepAck);
}

Status Negotiator::HandleInfoOrGo(uint32_t option, ByteSpan payload, bool* done) {
  PayloadReader r(payload);
  uint32_t name_len = 0;
  std::string name;
  uint16_t n_requests = 0;
  if (!r.GetU32(&name_len) || name_len > kMaxStringSize || !r.GetString(name_len, &name) ||
      !r.GetU16(&n_requests) || r.remaining() != size_t(n_requests) * 2) {
    return ReplyError(option, kRepErrInvalid,
                      fmt::format("{} data is malformed (name length, name, count, requests)",
                                  OptionName(option)));
  }
  bool want_name = false, want_description = false;
  for (uint16_t i = 0; i < n_requests; ++i) {
    uint16_t info = 0;
    r.GetU16(&info);
    want_name |= info == kInfoName;
    want_description |= info == kInfoDescription;
  }
  auto dev = OpenExport(name);
  if (!dev.ok()) {
    return ReplyError(
        option, kRepErrUnknown,
        fmt::format("export '{}' is not available: {}", name, dev.status().message()));
  }
  FillSession(name, std::move(dev).value());

  Buffer info;
  PutU16BE(info, kInfoExport);
  PutU64BE(info, session_.size);
  PutU16BE(info, session_.tx_flags);
  RETURN_IF_ERROR(Reply(option, kRepInfo, info));
  info.clear();
  PutU16BE(info, kInfoBlockSize);
  PutU32BE(info, session_.geometry.minimum);
  PutU32BE(info, session_.geometry.preferred);
  PutU32BE(info, session_.geometry.maximum);
  RETURN_IF_ERROR(Reply(option, kRepInfo, info));
  if (want_name) {
    info.clear();
    PutU16BE(info, kInfoName);
    PutString(info, name);
    RETURN_IF_ERROR(Reply(option, kRepInfo, info));
  }
  std::string description = DescriptionOf(name);
  if (want_description || !description.empty()) {
    info.clear();
    PutU16BE(info, kInfoDescription);
    PutString(info, description.substr(0, kMaxStringSize));
    RETURN_IF_ERROR(Reply(option, kRepInfo, info));
  }
  if (option == kOptGo) {
    if (on_enter_) on_enter_(session_);
    *done = true;
  }
  RETURN_IF_ERROR(Reply(option, kRepAck));
  if (option == kOptInfo) session_ = Session{};  // INFO only looks; GO opens again
  return Status::OK();
}

Status Negotiator::HandleMetaContext(uint32_t option, ByteSpan payload) {
  const bool set = option == kOptSetMetaContext;
  if (set) meta_selected_ = false;  // replaced even if this request fails
  if (!structured_) {
    return ReplyError(option, kRepErrInvalid,
                      fmt::format("{} needs NBD_OPT_STRUCTURED_REPLY first", OptionName(option)));
  }
  PayloadReader r(payload);
  uint32_t name_len = 0, n_queries = 0;
  std::string name;
  std::vector<std::string> queries;
  bool ok = r.GetU32(&name_len) && name_len <= kMaxStringSize && r.GetString(name_len, &name) &&
            r.GetU32(&n_queries);
  for (uint32_t i = 0; ok && i < n_queries; ++i) {
    uint32_t qlen = 0;
    std::string q;
    ok = r.GetU32(&qlen) && qlen <= kMaxStringSize && r.GetString(qlen, &q) &&
         q.find(':') != std::string::npos;
    if (ok) queries.push_back(std::move(q));
  }
  if (!ok || r.remaining() != 0) {
    return ReplyError(option, kRepErrInvalid,
                      fmt::format("{} data is malformed (export name, query count, "
                                  "queries of the form namespace:leaf)",
                                  OptionName(option)));
  }
  auto dev = OpenExport(name);
  if (!dev.ok()) {
    return ReplyError(
        option, kRepErrUnknown,
        fmt::format("export '{}' is not available: {}", name, dev.status().message()));
  }
  bool match = false;
  for (const std::string& q : queries) {
    if (q == kBaseAllocation || (!set && q == "base:")) match = true;
  }
  if (!set && queries.empty()) match = true;  // list everything
  if (match) {
    Buffer data;
    PutU32BE(data, set ? 1 : 0);
    PutString(data, kBaseAllocation);
    RETURN_IF_ERROR(Reply(option, kRepMetaContext, data));
  }
  if (set) {
    meta_selected_ = match;
    meta_export_ = name;
  }
  return Reply(option, kRepAck);
}

}  // namespace

uint16_t TransmissionFlags(const volume::Capabilities& caps, bool structured) {
  uint16_t f = kTxHasFlags | kTxSendCache;
  if (!caps.writable) f |= kTxReadOnly;
  if (caps.flush) f |= kTxSendFlush;
  if (caps.writable) {
    if (caps.fua || caps.flush) f |= kTxSendFua;
    if (caps.trim) f |= kTxSendTrim;
    f |= kTxSendWriteZeroes | kTxSendFastZero;
  }
  if (structured) f |= kTxSendDf;
  if (caps.multi_conn) f |= kTxCanMultiConn;
  return f;
}

volume::Geometry SanitizeGeometry(volume::Geometry g) {
  volume::Geometry out;
  out.minimum = (IsPowerOfTwo(g.minimum) && g.minimum <= 65536) ? g.minimum : 1;
  uint32_t floor = std::max<uint32_t>(out.minimum, 512);
  out.preferred =
      (IsPowerOfTwo(g.preferred) && g.preferred >= floor) ? g.preferred : std::max(floor, 4096u);
  uint32_t max = g.maximum == 0 ? (32u << 20) : std::min(g.maximum, kMaxBlockSize);
  max -= max % out.minimum;
  out.maximum = std::max(max, out.preferred);
  return out;
}

Result<Session> Negotiate(int fd, ExportProvider& provider, const std::atomic<bool>& stopping,
                          std::function<void(const Session&)> on_enter) {
  Negotiator n(fd, provider, stopping, std::move(on_enter));
  return n.Run();
}

}  // namespace cairn::nbd
