// cairn-nbd-file-server: serves one file (a FileDevice) with cairn's NBD
// server, for end-to-end tests and benchmarks with real NBD clients. Not
// installed; `cairn serve` is the product.
//
//   cairn-nbd-file-server FILE [--socket PATH] [--listen HOST:PORT]
//                         [--name NAME] [--read-only] [--workers N] [-v]
//
// Prints "ready URI" on stdout once listening; stops cleanly on SIGTERM or
// SIGINT (in-flight requests answered, sockets closed).
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "core/log.h"
#include "nbd/server.h"
#include "volume/file_device.h"

namespace {

class OneFile : public cairn::nbd::ExportProvider {
 public:
  OneFile(std::string name, std::shared_ptr<cairn::volume::BlockDevice> dev)
      : name_(std::move(name)), dev_(std::move(dev)) {}
  cairn::Result<std::shared_ptr<cairn::volume::BlockDevice>> Open(std::string_view name) override {
    if (name == name_ || name.empty()) return dev_;
    return cairn::NotFoundError("no export named '" + std::string(name) + "'; this server has '" +
                                name_ + "'");
  }
  std::vector<cairn::nbd::ExportInfo> List() override {
    return {{name_, "file " + dev_->Describe()}};
  }

 private:
  std::string name_;
  std::shared_ptr<cairn::volume::BlockDevice> dev_;
};

int Usage() {
  std::fprintf(stderr,
               "usage: cairn-nbd-file-server FILE [--socket PATH] [--listen HOST:PORT] "
               "[--name NAME] [--read-only] [--workers N] [-v]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string file, name;
  bool read_only = false;
  cairn::nbd::ServerOptions opts;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--socket") {
      opts.unix_socket = value();
    } else if (a == "--listen") {
      opts.tcp_listen = value();
    } else if (a == "--name") {
      name = value();
    } else if (a == "--read-only") {
      read_only = true;
    } else if (a == "--workers") {
      opts.workers_per_connection = std::atoi(value().c_str());
    } else if (a == "-v") {
      cairn::SetLogLevel(cairn::LogLevel::kDebug);
    } else if (!a.empty() && a[0] != '-' && file.empty()) {
      file = a;
    } else {
      return Usage();
    }
  }
  if (file.empty()) return Usage();
  auto dev = cairn::volume::FileDevice::Open(file, read_only);
  if (!dev.ok()) {
    std::fprintf(stderr, "error: %s\n", dev.status().ToString().c_str());
    return 1;
  }
  OneFile provider(name, std::shared_ptr<cairn::volume::BlockDevice>(std::move(dev).value()));

  // Block the stop signals before any thread starts, then wait for one.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  auto server = cairn::nbd::Server::Start(opts, provider);
  if (!server.ok()) {
    std::fprintf(stderr, "error: %s\n", server.status().ToString().c_str());
    return 1;
  }
  std::printf("ready %s\n", (*server)->UriFor(name).c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  (*server)->Stop();
  return 0;
}
