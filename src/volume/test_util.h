// Helpers for volume/ tests: a temporary directory and byte patterns.
#ifndef CAIRN_VOLUME_TEST_UTIL_H_
#define CAIRN_VOLUME_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "core/bytes.h"

namespace cairn::volume::testing {

// A fresh directory under the test temp dir, removed at destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "cairn-volume-XXXXXX";
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

// n bytes that differ with `seed` and with position.
inline Buffer Pattern(size_t n, uint32_t seed) {
  Buffer b(n);
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    b[i] = std::byte(x >> 24);
  }
  return b;
}

#define CAIRN_ASSERT_OK(expr)                               \
  do {                                                      \
    ::cairn::Status _s = (expr);                            \
    ASSERT_TRUE(_s.ok()) << #expr << ": " << _s.ToString(); \
  } while (0)

}  // namespace cairn::volume::testing

#endif  // CAIRN_VOLUME_TEST_UTIL_H_
