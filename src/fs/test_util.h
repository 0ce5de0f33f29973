// Helpers for fs/ tests: a temporary directory, running a tool, opening an
// image file as a BlockDevice.
#ifndef CAIRN_FS_TEST_UTIL_H_
#define CAIRN_FS_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <memory>
#include <string>

#include "volume/file_device.h"
#include "volume/test_util.h"

namespace cairn::fs::testing {

using volume::testing::TempDir;

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
