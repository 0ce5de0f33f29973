#include "service/device_fsck.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "nbd/server.h"
#include "service/nbd_file_mount.h"

namespace cairn::service {
namespace {

class ReadOnlyDevice : public volume::BlockDevice {
 public:
  explicit ReadOnlyDevice(std::shared_ptr<volume::BlockDevice> inner) : inner_(std::move(inner)) {}
  uint64_t Size() const override { return inner_->Size(); }
  volume::Capabilities caps() const override {
    volume::Capabilities c = inner_->caps();
    c.writable = c.flush = c.fua = c.trim = c.write_zeroes = c.fast_zero = false;
    return c;
  }
  volume::Geometry geometry() const override { return inner_->geometry(); }
  std::string Describe() const override { return inner_->Describe(); }
  Status Read(uint64_t offset, MutableByteSpan out) override { return inner_->Read(offset, out); }
  Status Write(uint64_t, ByteSpan, bool) override { return Refuse("write"); }
  Status Flush() override { return Status::OK(); }
  Status Trim(uint64_t, uint64_t) override { return Refuse("trim"); }
  Status WriteZeroes(uint64_t, uint64_t, bool, bool, bool) override {
    return Refuse("write zeroes");
  }
  Result<std::vector<volume::DeviceExtent>> Extents(uint64_t offset, uint64_t length) override {
    return inner_->Extents(offset, length);
  }

 private:
  Status Refuse(std::string_view op) const {
    return PermissionDeniedError(std::string(op) + " refused: " + inner_->Describe() +
                                 " is exported read-only for a check");
  }
  std::shared_ptr<volume::BlockDevice> inner_;
};

// One export, "check", the read-only view.
class OneExport : public nbd::ExportProvider {
 public:
  explicit OneExport(std::shared_ptr<volume::BlockDevice> device) : device_(std::move(device)) {}
  Result<std::shared_ptr<volume::BlockDevice>> Open(std::string_view name) override {
    if (name != "check") return NotFoundError("no export '" + std::string(name) + "'");
    return device_;
  }
  std::vector<nbd::ExportInfo> List() override {
    return {{"check", "read-only view of " + device_->Describe()}};
  }

 private:
  std::shared_ptr<volume::BlockDevice> device_;
};

}  // namespace

std::shared_ptr<volume::BlockDevice> ReadOnlyView(std::shared_ptr<volume::BlockDevice> device) {
  return std::make_shared<ReadOnlyDevice>(std::move(device));
}

Result<fs::FsckVerdict> FsckDevice(std::shared_ptr<volume::BlockDevice> device,
                                   const std::string& parent, const fs::FsckOptions& options) {
  const std::string what = device->Describe();
  std::error_code ec;
  std::string base = parent.empty() ? std::filesystem::temp_directory_path(ec).string() : parent;
  // Unix socket paths are limited to 107 bytes: fall back to /tmp.
  if (base.empty() || base.size() > 60) base = "/tmp";
  std::string tmpl = base + "/cairn-fsck-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return IoError("creating a work directory in " + base + " to check " + what + ": " +
                   std::strerror(errno));
  }
  const std::string dir = tmpl;
  struct RemoveDir {
    std::string dir;
    ~RemoveDir() {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  } remove_dir{dir};

  OneExport provider(ReadOnlyView(std::move(device)));
  nbd::ServerOptions server_options;
  server_options.unix_socket = dir + "/nbd.sock";
  ASSIGN_OR_RETURN_CTX(auto server, nbd::Server::Start(server_options, provider),
                       "serving " + what + " for e2fsck");
  Result<fs::FsckVerdict> verdict = InternalError("not run");
  {
    auto mount = NbdFileMount::Mount(server->UriFor("check"), dir + "/mnt", /*read_only=*/true);
    if (!mount.ok()) {
      server->Stop();
      return mount.status().WithContext("checking " + what);
    }
    verdict = fs::RunFsck((*mount)->file(), options);
    Status unmounted = (*mount)->Unmount();
    if (verdict.ok() && !unmounted.ok()) verdict = unmounted.WithContext("checking " + what);
  }
  server->Stop();
  if (!verdict.ok()) return verdict.status().WithContext("checking " + what);
  return verdict;
}

}  // namespace cairn::service
