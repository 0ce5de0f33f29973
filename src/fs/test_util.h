// Helpers for fs/ tests: a temporary directory, running a tool, opening an
// image file as a BlockDevice.
#ifndef CAIRN_FS_TEST_UTIL_H_
#define CAIRN_FS_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "volume/file_device.h"

namespace cairn::fs::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "cairn-fs-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// Runs a shell command line; true when it exits 0. Output goes to the test log.
inline bool Sh(const std::string& command) {
  int rc = std::system((command + " 2>&1").c_str());
  if (rc != 0) ADD_FAILURE() << "command failed (" << rc << "): " << command;
  return rc == 0;
}

inline void WriteFile(const std::string& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

inline std::shared_ptr<volume::BlockDevice> OpenImage(const std::string& path) {
  auto dev = volume::FileDevice::Open(path, /*read_only=*/true);
  if (!dev.ok()) {
    ADD_FAILURE() << dev.status().ToString();
    return nullptr;
  }
  return std::shared_ptr<volume::BlockDevice>(std::move(dev).value());
}

}  // namespace cairn::fs::testing

#endif  // CAIRN_FS_TEST_UTIL_H_
