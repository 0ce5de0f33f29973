// LocalBackend behaviour beyond the shared conformance suite: files on disk,
// temporary files, and how OS errors surface.
#include "storage/local_backend.h"

#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>


namespace cairn::storage {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class LocalBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cairn-local-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add);
    fs::remove_all(dir_);
  }

  std::unique_ptr<LocalBackend> OpenOk(const std::string& root) {
    auto b = LocalBackend::Open(root);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? std::move(b).value() : nullptr;
  }

  // Every file under `root` whose name marks it as a temporary file.
  static std::vector<std::string> TempFiles(const std::string& root) {
    std::vector<std::string> found;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      if (e.path().filename().string().ends_with(".tmp")) found.push_back(e.path().string());
    }
    return found;
  }

  std::string dir_;
};

TEST_F(LocalBackendTest, KeysAreFilesUnderRoot) {
  auto b = OpenOk(dir_);
  ASSERT_TRUE(b->Put("packs/3f/3f2a", AsBytes("hello")).ok());
  std::ifstream in(dir_ + "/packs/3f/3f2a");
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "hello");
  EXPECT_EQ(b->Describe(), dir_);
}

TEST_F(LocalBackendTest, NoTempFilesLeftAfterPut) {
  auto b = OpenOk(dir_);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(b->Put("data/" + std::to_string(i % 3) + "/o" + std::to_string(i),
                       Buffer(i * 100, std::byte{7})).ok());
  }
  ASSERT_TRUE(b->Put("data/0/o0", AsBytes("overwritten")).ok());
  EXPECT_EQ(TempFiles(dir_), std::vector<std::string>{});
}

TEST_F(LocalBackendTest, ListSkipsLeftoverTempFiles) {
  auto b = OpenOk(dir_);
  ASSERT_TRUE(b->Put("index/i1", AsBytes("x")).ok());
  std::ofstream(dir_ + "/index/.i2.0123456789abcdef.tmp") << "crash leftover";
  std::vector<std::string> keys;
  ASSERT_TRUE(b->List("", [&](const ObjectInfo& o) {
    keys.push_back(o.key);
    return Status::OK();
  }).ok());
  EXPECT_EQ(keys, std::vector<std::string>{"index/i1"});
  // Such names cannot be written as keys either.
  EXPECT_EQ(b->Put("index/.i2.x.tmp", AsBytes("x")).code(), StatusCode::kInvalidArgument);
}

TEST_F(LocalBackendTest, ListRejectsEscapingPrefix) {
  auto b = OpenOk(dir_);
  Status s = b->List("../", [](const ObjectInfo&) { return Status::OK(); });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

TEST_F(LocalBackendTest, OpenMissingIsNotFound) {
  auto b = LocalBackend::Open(dir_ + "/missing");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(b.status().message(), "repository directory " + dir_ + "/missing does not exist");
}

TEST_F(LocalBackendTest, OpenFileIsFailedPrecondition) {
  std::ofstream(dir_ + "/plain") << "x";
  auto b = LocalBackend::Open(dir_ + "/plain");
  EXPECT_EQ(b.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(b.status().message(), HasSubstr(dir_ + "/plain"));
}

TEST_F(LocalBackendTest, CreateMakesParentsAndAcceptsExisting) {
  auto b = LocalBackend::Create(dir_ + "/a/b/repo/");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ((*b)->Describe(), dir_ + "/a/b/repo");
  EXPECT_TRUE(fs::is_directory(dir_ + "/a/b/repo"));
  EXPECT_TRUE(LocalBackend::Create(dir_ + "/a/b/repo").ok());
}

TEST_F(LocalBackendTest, PutRecreatesDirectoryRemovedBehindItsBack) {
  auto b = OpenOk(dir_);
  ASSERT_TRUE(b->Put("locks/l1", AsBytes("x")).ok());
  fs::remove_all(dir_ + "/locks");
  Status s = b->Put("locks/l2", AsBytes("y"));
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(LocalBackendTest, ReadOnlyDirectoryIsPermissionDenied) {
  if (geteuid() == 0) GTEST_SKIP() << "root bypasses directory permissions";
  auto b = OpenOk(dir_);
  ASSERT_TRUE(b->Put("packs/00/p1", AsBytes("x")).ok());
  fs::permissions(dir_ + "/packs/00", fs::perms::owner_read | fs::perms::owner_exec);
  Status s = b->Put("packs/00/p2", AsBytes("y"));
  fs::permissions(dir_ + "/packs/00", fs::perms::owner_all);
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(dir_ + "/packs/00/p2"));
}

// Mounts a 1 MiB tmpfs on a fresh directory for the test's lifetime.
class SmallTmpfs {
 public:
  explicit SmallTmpfs(const std::string& dir) : dir_(dir) {
    fs::create_directory(dir_);
    mounted_ = ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, "size=1m") == 0;
    error_ = mounted_ ? "" : std::strerror(errno);
  }
  ~SmallTmpfs() {
    if (mounted_) ::umount(dir_.c_str());
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string dir_;
  std::string error_;
  bool mounted_ = false;
};

TEST_F(LocalBackendTest, FullFilesystemIsResourceExhausted) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs";
  SmallTmpfs tmpfs(dir_ + "/small");
  if (!tmpfs.mounted()) GTEST_SKIP() << "cannot mount tmpfs here: " << tmpfs.error();
  auto b = OpenOk(dir_ + "/small");
  ASSERT_TRUE(b->Put("config", AsBytes("fits")).ok());
  Status s = b->Put("packs/3f/3f2a", Buffer(2 << 20, std::byte{1}));
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("packs/3f/3f2a"));
  EXPECT_THAT(s.message(), HasSubstr(dir_ + "/small/packs/3f/3f2a"));
  EXPECT_EQ(TempFiles(dir_ + "/small"), std::vector<std::string>{});
  EXPECT_EQ(b->Stat("packs/3f/3f2a").status().code(), StatusCode::kNotFound);
  // The space came back: a small Put works again.
  EXPECT_TRUE(b->Put("packs/3f/small", AsBytes("ok")).ok());
}

}  // namespace
}  // namespace cairn::storage

namespace cairn::storage {
namespace {

// A Put killed before its rename leaves a temporary file that no listing
// shows; RemoveStaleTemporaries (called by gc) removes it once it is older
// than the given age, and never touches objects.
TEST(LocalBackendTempTest, StaleTemporariesAreRemovedObjectsKept) {
  const std::string root = ::testing::TempDir() + "cairn-local-temps-" + std::to_string(::getpid());
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root);
  auto backend = LocalBackend::Open(root);
  ASSERT_TRUE(backend.ok()) << backend.status().ToString();
  ASSERT_TRUE((*backend)->Put("packs/ab/abcd", AsBytes("object")).ok());
  const std::string temp = root + "/packs/ab/.abce.0123456789abcdef.tmp";
  { std::ofstream(temp) << "half a pack"; }

  auto young = (*backend)->RemoveStaleTemporaries(std::chrono::hours(1));
  ASSERT_TRUE(young.ok());
  EXPECT_EQ(*young, 0u);  // too young: it may belong to a running Put
  EXPECT_TRUE(std::filesystem::exists(temp));

  auto old = (*backend)->RemoveStaleTemporaries(std::chrono::seconds(0));
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(*old, 1u);
  EXPECT_FALSE(std::filesystem::exists(temp));
  EXPECT_TRUE((*backend)->Get("packs/ab/abcd").ok());
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace cairn::storage
