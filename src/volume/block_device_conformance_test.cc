// The one suite every BlockDevice passes (STYLE.md "Interfaces and
// suites"): a plain file, a live volume (plain and encrypted), and a frozen
// view of a volume (the read-only half). A new implementation adds a row to
// Devices() below.
#include <algorithm>
#include <functional>
#include <ostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "volume/block_device.h"
#include "volume/file_device.h"
#include "volume/test_util.h"
#include "volume/volume.h"

namespace cairn::volume {
namespace {

using testing::Pattern;
using testing::TempDir;

constexpr uint64_t kSize = 8 << 20;

// Holds a device and whatever keeps it alive.
struct Fixture {
  std::unique_ptr<TempDir> dir;
  std::shared_ptr<BlockDevice> device;
  std::shared_ptr<void> owner;  // e.g. the volume a view belongs to
};

struct DeviceKind {
  std::string name;
  bool writable;
  // Makes a device of kSize bytes whose content is Pattern(kSize, 7) in the
  // first half and zeros (a hole) in the second.
  std::function<Fixture()> make;
};

// Test names and failure messages show the kind, not the struct's bytes.
void PrintTo(const DeviceKind& kind, std::ostream* os) { *os << kind.name; }

Buffer Content() {
  Buffer b = Pattern(kSize / 2, 7);
  b.resize(kSize);
  return b;
}

Buffer DaemonKey() { return Buffer(kDaemonKeySize, std::byte{0x5a}); }

Fixture MakeFile() {
  Fixture f;
  f.dir = std::make_unique<TempDir>();
  auto dev = FileDevice::Open(f.dir->Sub("disk"), {.create = true, .create_size = kSize});
  if (!dev.ok()) throw std::runtime_error(dev.status().ToString());
  Buffer half = Pattern(kSize / 2, 7);
  if (!(*dev)->Write(0, half, false).ok()) throw std::runtime_error("write");
  f.device = std::move(*dev);
  return f;
}

Fixture MakeVolume(bool encrypted) {
  Fixture f;
  f.dir = std::make_unique<TempDir>();
  static const Buffer key = DaemonKey();
  CreateOptions c;
  c.size = kSize;
  c.encrypted = encrypted;
  auto vol = Volume::Create(f.dir->Sub("vol"), c, OpenOptions{.daemon_key = key});
  if (!vol.ok()) throw std::runtime_error(vol.status().ToString());
  Buffer half = Pattern(kSize / 2, 7);
  if (!(*vol)->Write(0, half, false).ok()) throw std::runtime_error("write");
  f.device = std::move(*vol);
  return f;
}

// A view frozen over the content, after which the live volume is changed:
// the view must still show the content.
Fixture MakeView() {
  Fixture f = MakeVolume(false);
  auto* vol = static_cast<Volume*>(f.device.get());
  auto view = vol->Freeze();
  if (!view.ok()) throw std::runtime_error(view.status().ToString());
  Buffer other = Pattern(kSize, 99);
  if (!vol->Write(0, other, false).ok()) throw std::runtime_error("write after freeze");
  f.owner = f.device;
  f.device = *view;
  return f;
}

std::vector<DeviceKind> Devices() {
  return {
      {"File", true, MakeFile},
      {"Volume", true, [] { return MakeVolume(false); }},
      {"EncryptedVolume", true, [] { return MakeVolume(true); }},
      {"VolumeView", false, MakeView},
  };
}

class BlockDeviceConformance : public ::testing::TestWithParam<DeviceKind> {
 protected:
  void SetUp() override {
    f_ = GetParam().make();
    dev_ = f_.device.get();
  }
  Buffer ReadAll() {
    Buffer b(dev_->Size());
    Status s = dev_->Read(0, b);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return b;
  }
  Fixture f_;
  BlockDevice* dev_ = nullptr;
};

TEST_P(BlockDeviceConformance, SizeAndContent) {
  EXPECT_EQ(dev_->Size(), kSize);
  EXPECT_EQ(ReadAll(), Content());
  EXPECT_FALSE(dev_->Describe().empty());
  EXPECT_EQ(dev_->caps().writable, GetParam().writable);
}

TEST_P(BlockDeviceConformance, UnalignedReadsMatchContent) {
  const Buffer want = Content();
  for (uint64_t off : {uint64_t{0}, uint64_t{1}, uint64_t{4095}, kSize / 2 - 7, kSize - 10}) {
    for (size_t len : {size_t{1}, size_t{513}, size_t{70000}}) {
      if (off + len > kSize) continue;
      Buffer got(len);
      ASSERT_TRUE(dev_->Read(off, got).ok()) << off << "+" << len;
      EXPECT_TRUE(std::equal(got.begin(), got.end(), want.begin() + static_cast<long>(off)))
          << "offset " << off << " length " << len;
    }
  }
}

TEST_P(BlockDeviceConformance, OutOfRangeIsInvalidArgumentNamingTheRange) {
  Buffer b(4096);
  for (uint64_t off : {kSize - 100, kSize, kSize + 4096, UINT64_MAX - 10}) {
    Status s = dev_->Read(off, b);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << off << ": " << s.ToString();
    EXPECT_NE(s.message().find(std::to_string(off)), std::string::npos) << s.ToString();
  }
  if (GetParam().writable) {
    EXPECT_EQ(dev_->Write(kSize - 1, b, false).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(dev_->WriteZeroes(kSize, 1, false, false, false).code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(dev_->Trim(kSize - 1, 2).code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(ReadAll(), Content());  // nothing changed
}

TEST_P(BlockDeviceConformance, ReadOnlyRefusesEveryChange) {
  if (GetParam().writable) GTEST_SKIP() << "writable device";
  Buffer b(4096, std::byte{1});
  EXPECT_EQ(dev_->Write(0, b, false).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(dev_->WriteZeroes(0, 4096, true, false, false).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(dev_->Trim(0, 4096).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ReadAll(), Content());
}

TEST_P(BlockDeviceConformance, WritesAreReadBackExactly) {
  if (!GetParam().writable) GTEST_SKIP() << "read-only device";
  Buffer want = Content();
  struct W {
    uint64_t off;
    size_t len;
    uint32_t seed;
  };
  for (const W& w : {W{0, 4096, 1}, W{5, 3, 2}, W{4095, 8193, 3}, W{kSize / 2 - 100, 300, 4},
                     W{kSize - 4096, 4096, 5}, W{kSize - 1, 1, 6}}) {
    Buffer data = Pattern(w.len, w.seed);
    ASSERT_TRUE(dev_->Write(w.off, data, w.seed % 2 == 0).ok()) << w.off;
    std::copy(data.begin(), data.end(), want.begin() + static_cast<long>(w.off));
  }
  ASSERT_TRUE(dev_->Flush().ok());
  EXPECT_EQ(ReadAll(), want);
}

TEST_P(BlockDeviceConformance, WriteZeroesReadsZeroAndTrimKeepsOthers) {
  if (!GetParam().writable) GTEST_SKIP() << "read-only device";
  Buffer want = Content();
  ASSERT_TRUE(dev_->WriteZeroes(1000, 70000, /*may_trim=*/true, false, false).ok());
  ASSERT_TRUE(dev_->WriteZeroes(200000, 4096, /*may_trim=*/false, true, false).ok());
  std::fill(want.begin() + 1000, want.begin() + 71000, std::byte{0});
  std::fill(want.begin() + 200000, want.begin() + 204096, std::byte{0});
  // Trim leaves the trimmed range unspecified, but never touches others.
  ASSERT_TRUE(dev_->Trim(1 << 20, 1 << 20).ok());
  Buffer got = ReadAll();
  EXPECT_TRUE(std::equal(got.begin(), got.begin() + (1 << 20), want.begin()));
  EXPECT_TRUE(std::equal(got.begin() + (2 << 20), got.end(), want.begin() + (2 << 20)));
}

TEST_P(BlockDeviceConformance, ExtentsCoverTheRangeInOrderAndHolesReadZero) {
  const Buffer content = ReadAll();
  uint64_t at = 0;
  while (at < kSize) {
    auto extents = dev_->Extents(at, kSize - at);
    ASSERT_TRUE(extents.ok()) << extents.status().ToString();
    ASSERT_FALSE(extents->empty()) << "no extent at " << at;
    for (const DeviceExtent& e : *extents) {
      ASSERT_EQ(e.offset, at) << "extents must be contiguous";
      ASSERT_GT(e.length, 0u);
      ASSERT_LE(e.offset + e.length, kSize);
      if (e.hole || e.zero) {
        EXPECT_TRUE(IsAllZero(ByteSpan(content).subspan(e.offset, e.length)))
            << "extent at " << e.offset << " claims zeros";
      }
      at += e.length;
    }
  }
  if (dev_->caps().extents) {
    // The second half was never written: some of it must be reported a hole.
    auto tail = dev_->Extents(kSize - 4096, 4096);
    ASSERT_TRUE(tail.ok());
    EXPECT_TRUE(tail->front().hole || tail->front().zero);
  }
}

TEST_P(BlockDeviceConformance, ConcurrentWritersToDisjointRangesAllLand) {
  if (!GetParam().writable) GTEST_SKIP() << "read-only device";
  constexpr int kThreads = 4;
  constexpr uint64_t kSlice = kSize / kThreads;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t off = 0; off < kSlice; off += 12288) {
        Buffer d = Pattern(std::min<uint64_t>(12288, kSlice - off), static_cast<uint32_t>(t));
        EXPECT_TRUE(dev_->Write(t * kSlice + off, d, false).ok());
      }
    });
  }
  for (std::thread& th : threads) th.join();
  ASSERT_TRUE(dev_->Flush().ok());
  const Buffer got = ReadAll();
  for (int t = 0; t < kThreads; ++t) {
    for (uint64_t off = 0; off < kSlice; off += 12288) {
      Buffer d = Pattern(std::min<uint64_t>(12288, kSlice - off), static_cast<uint32_t>(t));
      ASSERT_TRUE(std::equal(d.begin(), d.end(), got.begin() + static_cast<long>(t * kSlice + off)))
          << "thread " << t << " offset " << off;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllDevices, BlockDeviceConformance, ::testing::ValuesIn(Devices()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace cairn::volume
