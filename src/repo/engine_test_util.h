// Helpers shared by the backup/restore/file source tests (header-only, test
// code only): temporary directories, files, test images and an in-memory
// repository with test-speed key derivation.
#ifndef CAIRN_REPO_ENGINE_TEST_UTIL_H_
#define CAIRN_REPO_ENGINE_TEST_UTIL_H_

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "core/bytes.h"
#include "repo/repository.h"
#include "storage/memory_backend.h"

namespace cairn::repo::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cairn-engine-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline void WriteFile(const std::string& path, ByteSpan data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(f.good()) << path;
}

inline Buffer ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return ToBuffer(s);
}

// Writes `data` at `offset` of `path` (creating it), leaving other bytes.
inline void PwriteFile(const std::string& path, uint64_t offset, ByteSpan data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset)),
            static_cast<ssize_t>(data.size()));
  ::close(fd);
}

inline Buffer RandomData(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Buffer b(n);
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    std::memcpy(b.data() + i, &v, std::min<size_t>(8, n - i));
  }
  return b;
}

// Compressible text-like bytes.
inline Buffer TextData(size_t n, uint64_t seed) {
  static constexpr std::string_view kWords[] = {"block ", "device ", "snapshot ", "cairn ",
                                                "restore ", "backup\n", "chunk ", "pack "};
  std::mt19937_64 rng(seed);
  std::string s;
  while (s.size() < n) s += kWords[rng() % 8];
  s.resize(n);
  return ToBuffer(s);
}

struct TestRepo {
  storage::MemoryBackend* mem = nullptr;  // owned by repo
  std::unique_ptr<Repository> repo;
};

inline constexpr uint32_t kTestBlockSize = 64 * 1024;

// Initialises a test repository (64 KiB blocks, cheap scrypt) on `backend`
// and loads its index; nullptr (with a test failure) if that fails.
inline std::unique_ptr<Repository> InitTestRepo(std::unique_ptr<storage::Backend> backend,
                                                bool encrypted) {
  InitOptions opts;
  opts.block_size = kTestBlockSize;
  opts.encrypted = encrypted;
  opts.passphrase = "correct horse";
  opts.scrypt.n = 1024;
  auto repo = Repository::Init(std::move(backend), opts);
  EXPECT_TRUE(repo.ok()) << repo.status().ToString();
  if (!repo.ok()) return nullptr;
  EXPECT_TRUE((*repo)->LoadIndex().ok());
  return std::move(*repo);
}

inline TestRepo MakeTestRepo(bool encrypted = true) {
  auto backend = std::make_unique<storage::MemoryBackend>();
  TestRepo t;
  t.mem = backend.get();
  t.repo = InitTestRepo(std::move(backend), encrypted);
  return t;
}

inline size_t CountObjects(storage::Backend& b, std::string_view prefix) {
  size_t n = 0;
  EXPECT_TRUE(b.List(prefix, [&](const storage::ObjectInfo&) {
                 ++n;
                 return Status::OK();
               }).ok());
  return n;
}

}  // namespace cairn::repo::testing

#endif  // CAIRN_REPO_ENGINE_TEST_UTIL_H_
