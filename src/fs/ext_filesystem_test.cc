// ExtFilesystem against images made by the real mke2fs (`mkfs.ext4 -d`) from
// a temporary tree, and fs_probe against a real XFS image.
#include "fs/ext_filesystem.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>

#include "fs/fs_probe.h"
#include "fs/test_util.h"

namespace cairn::fs {
namespace {

using testing::OpenImage;
using testing::Sh;
using testing::TempDir;
using testing::WriteFile;

std::string Content(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

class ExtFilesystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string root = dir_.Sub("tree");
    std::filesystem::create_directories(root + "/etc/app");
    std::filesystem::create_directories(root + "/empty");
    WriteFile(root + "/etc/hostname", "db1\n");
    big_ = Content(3 * 1024 * 1024 + 123, 7);  // several 1 MiB pieces, not aligned
    WriteFile(root + "/etc/app/big.bin", big_);
    ::chmod((root + "/etc/hostname").c_str(), 0640);
    // A sparse file: 1 MiB hole, then data.
    {
      std::string sparse = root + "/sparse";
      WriteFile(sparse, "");
      ASSERT_EQ(::truncate(sparse.c_str(), 1 << 20), 0);
      std::ofstream out(sparse, std::ios::binary | std::ios::app);
      out << "tail";
    }
    ASSERT_EQ(::symlink("hostname", (root + "/etc/fast-link").c_str()), 0);
    long_target_ = "/" + std::string(200, 'x') + "/target";  // > 60 bytes: slow symlink
    ASSERT_EQ(::symlink(long_target_.c_str(), (root + "/etc/slow-link").c_str()), 0);
    ASSERT_EQ(::link((root + "/etc/hostname").c_str(), (root + "/hardlink").c_str()), 0);
    struct timeval times[2] = {{1600000000, 0}, {1700000000, 0}};
    ASSERT_EQ(::utimes((root + "/etc/hostname").c_str(), times), 0);
    Sh("setfattr -n user.color -v blue " + root + "/etc/hostname");
    image_ = dir_.Sub("ext4.img");
    Sh("mkfs.ext4 -q -F -L cairntest -d " + root + " " + image_ + " 64M");
    // mke2fs -d keeps whole seconds only: set nanoseconds and an epoch bit
    // (a time after 2038) with debugfs. 0x9C0095A1 = 654321000 << 2 | 1.
    Sh("debugfs -w -R 'set_inode_field /etc/app/big.bin mtime 20231114221320' " + image_ +
       " >/dev/null && debugfs -w -R 'set_inode_field /etc/app/big.bin mtime_extra "
       "0x9C0095A1' " +
       image_ + " >/dev/null");
    auto fs = ExtFilesystem::Open(OpenImage(image_));
    ASSERT_TRUE(fs.ok()) << fs.status().ToString();
    fs_ = std::move(fs).value();
  }

  std::string ReadAll(uint32_t ino, size_t* pieces = nullptr) {
    std::string out;
    Status s = fs_->ReadFile(ino, [&](ByteSpan piece) {
      EXPECT_LE(piece.size(), size_t{1} << 20);
      out += AsStringView(piece);
      if (pieces != nullptr) ++*pieces;
      return Status::OK();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  uint32_t MustLookup(std::string_view path) {
    auto ino = fs_->Lookup(path);
    EXPECT_TRUE(ino.ok()) << path << ": " << ino.status().ToString();
    return ino.ok() ? *ino : 0;
  }

  TempDir dir_;
  std::string image_;
  std::string big_;
  std::string long_target_;
  std::unique_ptr<ExtFilesystem> fs_;
};

TEST_F(ExtFilesystemTest, DescribeNamesTypeLabelAndDevice) {
  EXPECT_NE(fs_->Describe().find("ext4 on " + image_), std::string::npos) << fs_->Describe();
  EXPECT_NE(fs_->Describe().find("cairntest"), std::string::npos) << fs_->Describe();
}

TEST_F(ExtFilesystemTest, ListsRootWithoutDotEntries) {
  auto entries = fs_->List(ExtFilesystem::kRootIno);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  std::set<std::string> names;
  for (const DirEntry& e : *entries) names.insert(e.name);
  EXPECT_EQ(names, (std::set<std::string>{"etc", "empty", "sparse", "hardlink", "lost+found"}));
}

TEST_F(ExtFilesystemTest, LookupAndStat) {
  const uint32_t ino = MustLookup("/etc/hostname");
  EXPECT_EQ(MustLookup("etc/hostname"), ino);
  EXPECT_EQ(MustLookup("//etc/./hostname"), ino);
  EXPECT_EQ(MustLookup("/"), ExtFilesystem::kRootIno);
  auto st = fs_->Stat(ino);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_TRUE(S_ISREG(st->mode));
  EXPECT_EQ(st->mode & 07777, 0640u);
  EXPECT_EQ(st->size, 4u);
  EXPECT_EQ(st->links, 2u);  // /hardlink
  EXPECT_EQ(st->uid, ::getuid());
  EXPECT_EQ(st->mtime_ns, 1700000000LL * 1'000'000'000);
  EXPECT_EQ(st->atime_ns, 1600000000LL * 1'000'000'000);
  EXPECT_EQ(MustLookup("/hardlink"), ino);
  auto dir = fs_->Stat(MustLookup("/etc"));
  ASSERT_TRUE(dir.ok());
  EXPECT_TRUE(S_ISDIR(dir->mode));
}

TEST_F(ExtFilesystemTest, TimesKeepNanosecondsAndEpochBits) {
  auto st = fs_->Stat(MustLookup("/etc/app/big.bin"));
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  const int64_t seconds = 1700000000 + (int64_t{1} << 32);  // 2159-12-22
  EXPECT_EQ(st->mtime_ns, seconds * 1'000'000'000 + 654321000);
}

TEST_F(ExtFilesystemTest, LookupErrorsNameThePath) {
  auto missing = fs_->Lookup("/etc/nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "no such file: /etc/nope");
  auto through_file = fs_->Lookup("/etc/hostname/x");
  ASSERT_FALSE(through_file.ok());
  EXPECT_EQ(through_file.status().code(), StatusCode::kFailedPrecondition);
  auto through_link = fs_->Lookup("/etc/fast-link/x");
  ASSERT_FALSE(through_link.ok());
  EXPECT_EQ(through_link.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(ExtFilesystemTest, ReadsFilesInPiecesOfAtMostOneMiB) {
  EXPECT_EQ(ReadAll(MustLookup("/etc/hostname")), "db1\n");
  size_t pieces = 0;
  EXPECT_EQ(ReadAll(MustLookup("/etc/app/big.bin"), &pieces), big_);
  // 3 MiB + 123 bytes; a piece also ends at each 1 MiB boundary of the device.
  EXPECT_GE(pieces, 4u);
  EXPECT_LE(pieces, 5u);
}

TEST_F(ExtFilesystemTest, HolesReadAsZeros) {
  std::string expected(1 << 20, '\0');
  expected += "tail";
  EXPECT_EQ(ReadAll(MustLookup("/sparse")), expected);
}

TEST_F(ExtFilesystemTest, FileExtentsListOnlyData) {
  auto sparse = fs_->FileExtents(MustLookup("/sparse"));
  ASSERT_TRUE(sparse.ok()) << sparse.status().ToString();
  ASSERT_EQ(sparse->size(), 1u);
  EXPECT_EQ((*sparse)[0].offset, uint64_t{1} << 20);
  EXPECT_EQ((*sparse)[0].length, 4u);  // clipped to the size
  EXPECT_FALSE((*sparse)[0].in_inode);
  auto big = fs_->FileExtents(MustLookup("/etc/app/big.bin"));
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  uint64_t total = 0, at = 0;
  for (const FileExtent& e : *big) {
    EXPECT_EQ(e.offset, at);
    at += e.length;
    total += e.length;
  }
  EXPECT_EQ(total, big_.size());
  // ReadExtents streams exactly the data of the extents.
  std::string data;
  ASSERT_TRUE(fs_->ReadExtents(MustLookup("/sparse"), *sparse,
                               [&](ByteSpan piece) {
                                 data += AsStringView(piece);
                                 return Status::OK();
                               })
                  .ok());
  EXPECT_EQ(data, "tail");
  EXPECT_EQ(fs_->FileExtents(MustLookup("/etc")).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(ExtFilesystemTest, UnwrittenExtentsReadAsZerosAndAreNoData) {
  // debugfs fallocate makes unwritten (uninit) extents past the data.
  Sh("debugfs -w -R 'fallocate /etc/hostname 1 15' " + image_ + " >/dev/null");
  Sh("debugfs -w -R 'sif /etc/hostname size 65536' " + image_ + " >/dev/null");
  Sh("debugfs -R 'ex /etc/hostname' " + image_ + " | grep -q Uninit");
  auto fs = ExtFilesystem::Open(OpenImage(image_));
  ASSERT_TRUE(fs.ok()) << fs.status().ToString();
  auto ino = (*fs)->Lookup("/etc/hostname");
  ASSERT_TRUE(ino.ok());
  auto extents = (*fs)->FileExtents(*ino);
  ASSERT_TRUE(extents.ok()) << extents.status().ToString();
  ASSERT_EQ(extents->size(), 1u);
  EXPECT_EQ((*extents)[0].offset, 0u);
  EXPECT_GE((*extents)[0].length, 4u);  // one block (1 KiB on this small filesystem)
  EXPECT_LE((*extents)[0].length, 4096u);
  std::string out;
  ASSERT_TRUE((*fs)
                  ->ReadFile(*ino,
                             [&](ByteSpan piece) {
                               out += AsStringView(piece);
                               return Status::OK();
                             })
                  .ok());
  std::string want(65536, '\0');
  want.replace(0, 4, "db1\n");
  EXPECT_EQ(out, want);
}

// A device whose reads wait until `want` of them are in flight at once (or
// a generous limit passes, so a failure cannot hang the test).
class GatedDevice : public volume::BlockDevice {
 public:
  GatedDevice(std::shared_ptr<volume::BlockDevice> inner, int want)
      : inner_(std::move(inner)), want_(want) {}
  uint64_t Size() const override { return inner_->Size(); }
  volume::Capabilities caps() const override { return inner_->caps(); }
  std::string Describe() const override { return inner_->Describe(); }
  Status Read(uint64_t offset, MutableByteSpan out) override {
    if (offset >= gate_begin_ && offset < gate_end_) {
      std::unique_lock<std::mutex> lock(mu_);
      ++in_flight_;
      max_in_flight_ = std::max(max_in_flight_, in_flight_);
      cv_.notify_all();
      cv_.wait_for(lock, std::chrono::seconds(20), [&] { return max_in_flight_ >= want_; });
      --in_flight_;
    }
    return inner_->Read(offset, out);
  }
  Status Write(uint64_t, ByteSpan, bool) override { return PermissionDeniedError("ro"); }
  Status Flush() override { return Status::OK(); }
  Status Trim(uint64_t, uint64_t) override { return Status::OK(); }
  Status WriteZeroes(uint64_t, uint64_t, bool, bool, bool) override {
    return PermissionDeniedError("ro");
  }
  Result<std::vector<volume::DeviceExtent>> Extents(uint64_t o, uint64_t l) override {
    return inner_->Extents(o, l);
  }

  // Reads starting in [gate_begin_, gate_end_) wait at the gate.
  std::atomic<uint64_t> gate_begin_{0}, gate_end_{0};
  int max_in_flight() {
    std::lock_guard<std::mutex> lock(mu_);
    return max_in_flight_;
  }

 private:
  std::shared_ptr<volume::BlockDevice> inner_;
  const int want_;
  std::mutex mu_;
  std::condition_variable cv_;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
};

TEST_F(ExtFilesystemTest, ReadAheadKeepsSeveralReadsInFlight) {
  auto gated = std::make_shared<GatedDevice>(OpenImage(image_), 4);
  ReadaheadOptions readahead;
  readahead.window = 8;
  readahead.threads = 8;
  auto fs = ExtFilesystem::Open(gated, readahead);
  ASSERT_TRUE(fs.ok()) << fs.status().ToString();
  auto ino = (*fs)->Lookup("/etc/app/big.bin");
  ASSERT_TRUE(ino.ok());
  auto extents = (*fs)->FileExtents(*ino);
  ASSERT_TRUE(extents.ok() && !extents->empty());
  uint64_t begin = UINT64_MAX, end = 0;
  for (const FileExtent& e : *extents) {
    begin = std::min(begin, e.device_offset);
    end = std::max(end, e.device_offset + e.length);
  }
  gated->gate_end_ = end;
  gated->gate_begin_ = begin;
  std::string out;
  ASSERT_TRUE((*fs)
                  ->ReadFile(*ino,
                             [&](ByteSpan piece) {
                               out += AsStringView(piece);
                               return Status::OK();
                             })
                  .ok());
  EXPECT_EQ(out, big_);
  EXPECT_GE(gated->max_in_flight(), 4);  // the 4+ pieces of big.bin at once
}

TEST_F(ExtFilesystemTest, WithoutReadAheadReadsTheSame) {
  auto fs = ExtFilesystem::Open(OpenImage(image_), ReadaheadOptions{0, 0});
  ASSERT_TRUE(fs.ok()) << fs.status().ToString();
  for (const char* path : {"/etc/app/big.bin", "/sparse", "/etc/hostname"}) {
    auto ino = (*fs)->Lookup(path);
    ASSERT_TRUE(ino.ok());
    std::string out;
    ASSERT_TRUE((*fs)
                    ->ReadFile(*ino,
                               [&](ByteSpan piece) {
                                 out += AsStringView(piece);
                                 return Status::OK();
                               })
                    .ok());
    EXPECT_EQ(out, ReadAll(MustLookup(path))) << path;
  }
}

TEST_F(ExtFilesystemTest, SinkErrorStopsTheStream) {
  size_t calls = 0;
  Status s = fs_->ReadFile(MustLookup("/etc/app/big.bin"), [&](ByteSpan) {
    ++calls;
    return CancelledError("stop");
  });
  EXPECT_EQ(s.code(), StatusCode::kCancelled);
  EXPECT_EQ(calls, 1u);
}

TEST_F(ExtFilesystemTest, ReadFileAndListRefuseTheWrongType) {
  EXPECT_EQ(fs_->ReadFile(MustLookup("/etc"), [](ByteSpan) { return Status::OK(); }).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(fs_->List(MustLookup("/etc/hostname")).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(fs_->ReadLink(MustLookup("/etc/hostname")).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(ExtFilesystemTest, ReadsFastAndSlowSymlinks) {
  auto fast = fs_->ReadLink(MustLookup("/etc/fast-link"));
  ASSERT_TRUE(fast.ok()) << fast.status().ToString();
  EXPECT_EQ(*fast, "hostname");
  auto slow = fs_->ReadLink(MustLookup("/etc/slow-link"));
  ASSERT_TRUE(slow.ok()) << slow.status().ToString();
  EXPECT_EQ(*slow, long_target_);
  auto st = fs_->Stat(MustLookup("/etc/slow-link"));
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(S_ISLNK(st->mode));
}

TEST_F(ExtFilesystemTest, ReadsXattrs) {
  auto xattrs = fs_->Xattrs(MustLookup("/etc/hostname"));
  ASSERT_TRUE(xattrs.ok()) << xattrs.status().ToString();
  bool found = false;
  for (const auto& [name, value] : *xattrs) {
    if (name == "user.color") {
      found = true;
      EXPECT_EQ(AsStringView(value), "blue");
    }
  }
  EXPECT_TRUE(found) << "user.color missing among " << xattrs->size() << " xattrs";
  auto none = fs_->Xattrs(MustLookup("/etc/app/big.bin"));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(ExtFilesystemTest, BadInodeIsAnErrorNotACrash) {
  EXPECT_FALSE(fs_->Stat(0).ok());
  EXPECT_FALSE(fs_->Stat(0xFFFFFFF0u).ok());
}

TEST(ExtFilesystemOpenTest, XfsIsUnsupported) {
  TempDir dir;
  const std::string image = dir.Sub("xfs.img");
  ASSERT_TRUE(Sh("truncate -s 300M " + image + " && mkfs.xfs -q -f " + image));
  auto dev = OpenImage(image);
  ASSERT_NE(dev, nullptr);
  auto type = ProbeFilesystem(*dev);
  ASSERT_TRUE(type.ok());
  EXPECT_EQ(*type, "xfs");
  auto fs = ExtFilesystem::Open(dev);
  ASSERT_FALSE(fs.ok());
  EXPECT_EQ(fs.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(fs.status().message().find("unsupported filesystem: xfs (cairn reads ext2, ext3 and "
                                       "ext4)"),
            std::string::npos)
      << fs.status().message();
}

TEST(ExtFilesystemOpenTest, ZerosAreNoFilesystem) {
  TempDir dir;
  const std::string image = dir.Sub("zero.img");
  ASSERT_TRUE(Sh("truncate -s 8M " + image));
  auto fs = ExtFilesystem::Open(OpenImage(image));
  ASSERT_FALSE(fs.ok());
  EXPECT_EQ(fs.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(fs.status().message().find("no filesystem found on"), std::string::npos);
  EXPECT_NE(fs.status().message().find("snapshot partitions"), std::string::npos);
}

TEST(ExtFilesystemOpenTest, ProbesExtVersions) {
  TempDir dir;
  for (const char* type : {"ext2", "ext3", "ext4"}) {
    const std::string image = dir.Sub(std::string(type) + ".img");
    ASSERT_TRUE(Sh(std::string("mkfs.") + type + " -q -F " + image + " 16M"));
    auto dev = OpenImage(image);
    auto probed = ProbeFilesystem(*dev);
    ASSERT_TRUE(probed.ok());
    EXPECT_EQ(*probed, type);
    auto fs = ExtFilesystem::Open(dev);
    ASSERT_TRUE(fs.ok()) << fs.status().ToString();
    EXPECT_EQ((*fs)->Describe().substr(0, 4), type);
  }
}

}  // namespace
}  // namespace cairn::fs
