// Test-only helpers for the nbd/ tests: a raw NBD client over a unix socket
// that sends exactly the bytes a test asks for (so malformed and truncated
// messages can be sent), and a FileDevice-backed ExportProvider.
#ifndef CAIRN_NBD_TEST_CLIENT_H_
#define CAIRN_NBD_TEST_CLIENT_H_

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>

#include "nbd/protocol.h"
#include "nbd/server.h"
#include "volume/file_device.h"

namespace cairn::nbd::testing {

// Forwards to another device, overriding caps and geometry.
class TweakedDevice : public volume::BlockDevice {
 public:
  TweakedDevice(std::shared_ptr<volume::BlockDevice> base, volume::Capabilities caps,
                volume::Geometry geometry)
      : base_(std::move(base)), caps_(caps), geometry_(geometry) {}
  uint64_t Size() const override { return base_->Size(); }
  volume::Capabilities caps() const override { return caps_; }
  volume::Geometry geometry() const override { return geometry_; }
  std::string Describe() const override { return base_->Describe(); }
  Status Read(uint64_t o, MutableByteSpan out) override { return base_->Read(o, out); }
  Status Write(uint64_t o, ByteSpan d, bool fua) override { return base_->Write(o, d, fua); }
  Status Flush() override { return base_->Flush(); }
  Status Trim(uint64_t o, uint64_t l) override { return base_->Trim(o, l); }
  Status WriteZeroes(uint64_t o, uint64_t l, bool t, bool f, bool fast) override {
    return base_->WriteZeroes(o, l, t, f, fast);
  }
  Result<std::vector<volume::DeviceExtent>> Extents(uint64_t o, uint64_t l) override {
    return base_->Extents(o, l);
  }

 private:
  std::shared_ptr<volume::BlockDevice> base_;
  volume::Capabilities caps_;
  volume::Geometry geometry_;
};

class MapProvider : public ExportProvider {
 public:
  void Add(const std::string& name, std::shared_ptr<volume::BlockDevice> dev,
           std::string description = "") {
    std::lock_guard<std::mutex> lock(mu_);
    exports_[name] = {std::move(dev), std::move(description)};
  }
  Result<std::shared_ptr<volume::BlockDevice>> Open(std::string_view name) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = exports_.find(std::string(name));
    if (it == exports_.end()) return NotFoundError("no export named '" + std::string(name) + "'");
    return it->second.first;
  }
  std::vector<ExportInfo> List() override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<ExportInfo> out;
    for (const auto& [name, e] : exports_) out.push_back({name, e.second});
    return out;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::pair<std::shared_ptr<volume::BlockDevice>, std::string>> exports_;
};

struct OptionReply {
  uint32_t option = 0;
  uint32_t type = 0;
  Buffer data;
};

struct Reply {
  bool structured = false;
  uint32_t error = 0;
  uint64_t handle = 0;
  uint16_t flags = 0;  // structured only
  uint16_t type = 0;   // structured only
  Buffer payload;      // structured chunk payload
};

// A blocking raw client. Every method returns false (and the test fails via
// ASSERT on it) when the socket breaks.
class RawClient {
 public:
  explicit RawClient(const std::string& socket_path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket_path.c_str(), sizeof(addr.sun_path) - 1);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    struct timeval tv {
      10, 0
    };  // a hung server fails the test instead of hanging it
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~RawClient() { ::close(fd_); }

  bool connected() const { return connected_; }
  void Close() { ::shutdown(fd_, SHUT_RDWR); }

  bool Send(ByteSpan b) {
    return ::send(fd_, b.data(), b.size(), MSG_NOSIGNAL) == ssize_t(b.size());
  }
  bool Recv(MutableByteSpan b) {
    size_t got = 0;
    while (got < b.size()) {
      ssize_t n = ::recv(fd_, b.data() + got, b.size() - got, 0);
      if (n <= 0) return false;
      got += size_t(n);
    }
    return true;
  }
  // True when the server closed the connection (EOF) within the timeout.
  bool ServerClosed() {
    std::byte b;
    return ::recv(fd_, &b, 1, 0) == 0;
  }

  // Reads the server greeting; returns the handshake flags (or -1).
  int ReadGreeting() {
    std::byte g[18];
    if (!Recv(g)) return -1;
    if (GetU64BE(ByteSpan(g, 8)) != kNbdMagic || GetU64BE(ByteSpan(g + 8, 8)) != kOptMagic) {
      return -1;
    }
    return GetU16BE(ByteSpan(g + 16, 2));
  }
  bool SendClientFlags(uint32_t flags) {
    Buffer b;
    PutU32BE(b, flags);
    return Send(b);
  }
  // Greeting + fixed newstyle + no zeroes.
  bool Hello() { return ReadGreeting() >= 0 && SendClientFlags(3); }

  bool SendOption(uint32_t option, ByteSpan data = {}) {
    Buffer b;
    PutU64BE(b, kOptMagic);
    PutU32BE(b, option);
    PutU32BE(b, uint32_t(data.size()));
    Append(b, data);
    return Send(b);
  }
  bool ReadOptionReply(OptionReply* r) {
    std::byte h[20];
    if (!Recv(h) || GetU64BE(ByteSpan(h, 8)) != kRepMagic) return false;
    r->option = GetU32BE(ByteSpan(h + 8, 4));
    r->type = GetU32BE(ByteSpan(h + 12, 4));
    r->data.resize(GetU32BE(ByteSpan(h + 16, 4)));
    return Recv(r->data);
  }
  // Sends OPT_INFO/OPT_GO for `name` with `requests`; collects replies up
  // to the final one, which is returned in *last.
  bool InfoOrGo(uint32_t option, const std::string& name, std::vector<OptionReply>* infos,
                OptionReply* last, std::vector<uint16_t> requests = {}) {
    Buffer d;
    PutU32BE(d, uint32_t(name.size()));
    PutString(d, name);
    PutU16BE(d, uint16_t(requests.size()));
    for (uint16_t r : requests) PutU16BE(d, r);
    if (!SendOption(option, d)) return false;
    while (true) {
      OptionReply r;
      if (!ReadOptionReply(&r)) return false;
      if (r.type != kRepInfo) {
        *last = r;
        return true;
      }
      infos->push_back(r);
    }
  }
  bool StructuredReply() {
    OptionReply r;
    return SendOption(kOptStructuredReply) && ReadOptionReply(&r) && r.type == kRepAck;
  }
  bool SetMetaContext(const std::string& name, const std::vector<std::string>& queries,
                      std::vector<OptionReply>* replies) {
    Buffer d;
    PutU32BE(d, uint32_t(name.size()));
    PutString(d, name);
    PutU32BE(d, uint32_t(queries.size()));
    for (const auto& q : queries) {
      PutU32BE(d, uint32_t(q.size()));
      PutString(d, q);
    }
    if (!SendOption(kOptSetMetaContext, d)) return false;
    while (true) {
      OptionReply r;
      if (!ReadOptionReply(&r)) return false;
      replies->push_back(r);
      if (r.type != kRepMetaContext) return true;
    }
  }
  // Hello + optional structured replies + GO(name): in transmission.
  bool Connect(const std::string& name, bool structured, uint64_t* size = nullptr,
               uint16_t* flags = nullptr) {
    if (!Hello()) return false;
    if (structured && !StructuredReply()) return false;
    std::vector<OptionReply> infos;
    OptionReply last;
    if (!InfoOrGo(kOptGo, name, &infos, &last) || last.type != kRepAck) return false;
    for (const auto& i : infos) {
      if (GetU16BE(i.data) == kInfoExport) {
        if (size) *size = GetU64BE(ByteSpan(i.data).subspan(2, 8));
        if (flags) *flags = GetU16BE(ByteSpan(i.data).subspan(10, 2));
      }
    }
    structured_ = structured;
    return true;
  }

  bool Request(uint16_t type, uint16_t flags, uint64_t handle, uint64_t offset, uint32_t length,
               ByteSpan payload = {}, uint32_t magic = kRequestMagic) {
    Buffer b;
    PutU32BE(b, magic);
    PutU16BE(b, flags);
    PutU16BE(b, type);
    PutU64BE(b, handle);
    PutU64BE(b, offset);
    PutU32BE(b, length);
    Append(b, payload);
    return Send(b);
  }
  // Reads one reply message: a simple reply (with `read_length` bytes of
  // data when it is a successful read the test expects), or one structured
  // chunk.
  bool ReadReply(Reply* r, size_t read_length = 0) {
    std::byte m[4];
    if (!Recv(m)) return false;
    uint32_t magic = GetU32BE(m);
    if (magic == kSimpleReplyMagic) {
      std::byte h[12];
      if (!Recv(h)) return false;
      r->structured = false;
      r->error = GetU32BE(ByteSpan(h, 4));
      r->handle = GetU64BE(ByteSpan(h + 4, 8));
      r->payload.assign(r->error == 0 ? read_length : 0, std::byte{0});
      return Recv(r->payload);
    }
    if (magic != kStructuredReplyMagic) return false;
    std::byte h[16];
    if (!Recv(h)) return false;
    r->structured = true;
    r->flags = GetU16BE(ByteSpan(h, 2));
    r->type = GetU16BE(ByteSpan(h + 2, 2));
    r->handle = GetU64BE(ByteSpan(h + 4, 8));
    r->payload.resize(GetU32BE(ByteSpan(h + 12, 4)));
    if (!Recv(r->payload)) return false;
    r->error = (r->type & 0x8000) ? GetU32BE(r->payload) : 0;
    return true;
  }

  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool structured_ = false;
};

// A temp directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "cairn-nbd-XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Starts a server on a unix socket with three exports over 16 MiB files:
// "disk" (writable), "ro" (read-only), "plain" (writable, no multi-conn, no
// fast zero, minimum block 512).
class ServerFixture : public ::testing::Test {
 protected:
  static constexpr uint64_t kSize = 16 << 20;

  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    auto disk =
        volume::FileDevice::Open(dir_.path() + "/disk.img", {.create = true, .create_size = kSize});
    ASSERT_TRUE(disk.ok()) << disk.status().ToString();
    disk_ = std::shared_ptr<volume::BlockDevice>(std::move(disk).value());
    auto plain_file = volume::FileDevice::Open(dir_.path() + "/plain.img",
                                               {.create = true, .create_size = kSize});
    ASSERT_TRUE(plain_file.ok());
    volume::Capabilities caps = (*plain_file)->caps();
    caps.multi_conn = false;
    caps.fast_zero = false;
    provider_.Add("disk", disk_, "the test disk");
    provider_.Add("plain", std::make_shared<TweakedDevice>(
                               std::shared_ptr<volume::BlockDevice>(std::move(plain_file).value()),
                               caps, volume::Geometry{.minimum = 512, .preferred = 4096}));
    auto ro = volume::FileDevice::Open(dir_.path() + "/disk.img", true);
    ASSERT_TRUE(ro.ok());
    provider_.Add("ro", std::shared_ptr<volume::BlockDevice>(std::move(ro).value()));
    socket_ = dir_.path() + "/nbd.sock";
    ServerOptions opts;
    opts.unix_socket = socket_;
    opts.handshake_timeout = std::chrono::milliseconds(5000);
    auto server = Server::Start(opts, provider_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  std::unique_ptr<RawClient> NewClient() { return std::make_unique<RawClient>(socket_); }

  TempDir dir_;
  MapProvider provider_;
  std::shared_ptr<volume::BlockDevice> disk_;
  std::string socket_;
  std::unique_ptr<Server> server_;
};

}  // namespace cairn::nbd::testing

#endif  // CAIRN_NBD_TEST_CLIENT_H_
