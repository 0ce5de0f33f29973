// Fuzzes the NBD server's parsers: the input is what a client sends (the
// handshake's client flags and options, then transmission requests), fed
// over a socketpair to the real Negotiate() and Serve() against a 1 MiB
// file device; the server's replies are drained and discarded. The server
// must never crash or hang, whatever the bytes: a malformed input may only
// end the session.
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>

#include "fuzz/fuzz.h"
#include "nbd/handshake.h"
#include "nbd/protocol.h"
#include "nbd/server.h"
#include "nbd/transmission.h"
#include "volume/file_device.h"

using namespace cairn;
using namespace cairn::nbd;

namespace {

constexpr uint64_t kDeviceSize = 1 << 20;

class OneDevice : public ExportProvider {
 public:
  OneDevice() {
    char path[] = "/tmp/cairn-fuzz-nbd-XXXXXX";
    const int fd = ::mkstemp(path);
    if (fd < 0) std::abort();
    ::close(fd);
    auto dev = volume::FileDevice::Open(path, {.create = true, .create_size = kDeviceSize});
    ::unlink(path);  // the open descriptor keeps it
    if (!dev.ok()) std::abort();
    device_ = std::move(*dev);
  }
  Result<std::shared_ptr<volume::BlockDevice>> Open(std::string_view name) override {
    if (name != "" && name != "disk") return NotFoundError("no export " + std::string(name));
    return device_;
  }
  std::vector<ExportInfo> List() override { return {{"disk", "fuzz device"}}; }

 private:
  std::shared_ptr<volume::BlockDevice> device_;
};

OneDevice& Provider() {
  static OneDevice* provider = new OneDevice();
  return *provider;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) std::abort();
  // The client: sends the input, then half-closes; and drains every reply.
  std::thread client([&] {
    size_t done = 0;
    while (done < size) {
      ssize_t n = ::send(fds[1], data + done, size - done, MSG_NOSIGNAL);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::shutdown(fds[1], SHUT_WR);
    char sink[65536];
    while (::recv(fds[1], sink, sizeof sink, 0) > 0) {
    }
  });
  std::atomic<bool> stopping{false};
  Result<Session> session = Negotiate(fds[0], Provider(), stopping);
  if (session.ok()) {
    ServerOptions options;
    options.workers_per_connection = 2;
    Serve(fds[0], *session, options).IgnoreError();
  }
  ::shutdown(fds[0], SHUT_RDWR);
  client.join();
  ::close(fds[0]);
  ::close(fds[1]);
  return 0;
}

namespace {

void Option(Buffer& out, uint32_t option, const Buffer& payload) {
  PutU64BE(out, kOptMagic);
  PutU32BE(out, option);
  PutU32BE(out, static_cast<uint32_t>(payload.size()));
  Append(out, payload);
}

void Request(Buffer& out, uint16_t flags, uint16_t type, uint64_t offset, uint32_t length,
             const Buffer& payload = {}) {
  PutU32BE(out, kRequestMagic);
  PutU16BE(out, flags);
  PutU16BE(out, type);
  PutU64BE(out, 0x1234);  // cookie
  PutU64BE(out, offset);
  PutU32BE(out, length);
  Append(out, payload);
}

}  // namespace

std::vector<Buffer> CairnFuzzSeeds() {
  Buffer a;
  PutU32BE(a, kClientFlagFixedNewstyle | kClientFlagNoZeroes);
  Option(a, kOptList, {});
  Option(a, kOptStructuredReply, {});
  Buffer meta;
  PutU32BE(meta, 4);
  PutString(meta, "disk");
  PutU32BE(meta, 1);
  PutU32BE(meta, 16);
  PutString(meta, "base:allocation");
  Option(a, kOptSetMetaContext, meta);
  Option(a, 0x77, {});  // unknown: ERR_UNSUP, haggling goes on
  Buffer go;
  PutU32BE(go, 4);
  PutString(go, "disk");
  PutU16BE(go, 1);
  PutU16BE(go, kInfoBlockSize);
  Option(a, kOptGo, go);
  Request(a, 0, kCmdWrite, 4096, 512, Buffer(512, std::byte{0xab}));
  Request(a, 0, kCmdRead, 0, 8192);
  Request(a, 0, kCmdBlockStatus, 0, kDeviceSize);
  Request(a, 0, kCmdWriteZeroes, 8192, 4096);
  Request(a, 0, kCmdTrim, 65536, 65536);
  Request(a, 0, kCmdFlush, 0, 0);
  Request(a, 0, kCmdRead, kDeviceSize - 10, 100);  // out of range: EINVAL
  Request(a, 0, kCmdDisc, 0, 0);

  Buffer b;  // the old way in: EXPORT_NAME, then simple replies
  PutU32BE(b, kClientFlagFixedNewstyle);
  Option(b, kOptExportName, ToBuffer("disk"));
  Request(b, 0, kCmdRead, 512, 512);
  Request(b, 1, kCmdWrite, 0, 16, Buffer(16, std::byte{1}));  // FUA
  return {a, b};
}
