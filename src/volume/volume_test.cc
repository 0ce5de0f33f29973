#include "volume/volume.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <random>
#include <thread>

#include "core/crypto.h"
#include "volume/file_util.h"
#include "volume/test_util.h"

namespace cairn::volume {
namespace {

using ::testing::HasSubstr;
using testing::Pattern;
using testing::TempDir;

constexpr uint64_t kMiB = 1 << 20;

Buffer DaemonKey() {
  Buffer k(kDaemonKeySize);
  RandomBytes(k);
  return k;
}

// Runs every test on a plain and on an encrypted volume.
class VolumeTest : public ::testing::TestWithParam<bool> {
 protected:
  bool encrypted() const { return GetParam(); }
  OpenOptions open() const { return {.daemon_key = key_}; }
  std::string vdir() const { return tmp_.Sub("vol"); }

  std::unique_ptr<Volume> Create(uint64_t size, CreateOptions o = {}) {
    o.size = size;
    o.encrypted = encrypted();
    auto v = Volume::Create(vdir(), o, open());
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? std::move(*v) : nullptr;
  }
  std::unique_ptr<Volume> Reopen() {
    auto v = Volume::Open(vdir(), open());
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? std::move(*v) : nullptr;
  }

  TempDir tmp_;
  Buffer key_ = DaemonKey();
};

INSTANTIATE_TEST_SUITE_P(PlainAndEncrypted, VolumeTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Encrypted" : "Plain"; });

TEST_P(VolumeTest, CreateWriteCloseReopenRoundTrip) {
  auto v = Create(16 * kMiB);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->Size(), 16 * kMiB);
  EXPECT_THAT(v->id().str(), ::testing::MatchesRegex("vol-[0-9a-f]{17}"));
  const Capabilities c = v->caps();
  EXPECT_TRUE(c.writable && c.flush && c.fua && c.trim && c.write_zeroes && c.extents &&
              c.multi_conn);
  Buffer a = Pattern(3 * kMiB + 123, 1);
  CAIRN_ASSERT_OK(v->Write(5 * kMiB + 7, a, false));
  CAIRN_ASSERT_OK(v->Write(0, Pattern(4096, 2), true));
  const VolumeId id = v->id();
  CAIRN_ASSERT_OK(v->Close());
  EXPECT_EQ(v->Read(0, MutableByteSpan()).code(), StatusCode::kFailedPrecondition);
  v.reset();

  v = Reopen();
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->id(), id);
  EXPECT_EQ(v->info().encrypted, encrypted());
  Buffer out(a.size());
  CAIRN_ASSERT_OK(v->Read(5 * kMiB + 7, out));
  EXPECT_EQ(out, a);
  Buffer head(4096);
  CAIRN_ASSERT_OK(v->Read(0, head));
  EXPECT_EQ(head, Pattern(4096, 2));
}

TEST_P(VolumeTest, HolesAndDataAreReported) {
  auto v = Create(8 * kMiB);
  ASSERT_NE(v, nullptr);
  CAIRN_ASSERT_OK(v->Write(2 * kMiB, Pattern(kMiB, 3), false));
  std::vector<DeviceExtent> all;
  for (uint64_t off = 0; off < 8 * kMiB;) {
    auto e = v->Extents(off, 8 * kMiB - off);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    ASSERT_FALSE(e->empty());
    for (const auto& x : *e) all.push_back(x);
    off = e->back().offset + e->back().length;
  }
  ASSERT_EQ(all.size(), 3u);
  EXPECT_TRUE(all[0].hole);
  EXPECT_EQ(all[1].offset, 2 * kMiB);
  EXPECT_EQ(all[1].length, kMiB);
  EXPECT_FALSE(all[1].hole);
  EXPECT_TRUE(all[2].hole);
  // A trimmed range reads as zeros and becomes a hole again.
  CAIRN_ASSERT_OK(v->Trim(2 * kMiB, kMiB));
  Buffer out(kMiB);
  CAIRN_ASSERT_OK(v->Read(2 * kMiB, out));
  EXPECT_TRUE(IsAllZero(out));
  auto e = v->Extents(0, 8 * kMiB);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->size(), 1u);
  EXPECT_TRUE((*e)[0].hole);
}

TEST_P(VolumeTest, RandomUnalignedOpsFromThreadsMatchAModel) {
  constexpr uint64_t kSize = 4 * kMiB;
  auto v = Create(kSize, {.block_size = 16 << 10});
  ASSERT_NE(v, nullptr);
  // Each thread owns a quarter; ranges cross block and sector boundaries.
  std::vector<Buffer> models(4, Buffer(kSize / 4));
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(t);
      const uint64_t base = t * (kSize / 4);
      Buffer& model = models[t];
      for (int i = 0; i < 200; ++i) {
        const uint64_t off = rng() % (kSize / 4);
        const uint64_t len = 1 + rng() % std::min<uint64_t>(kSize / 4 - off, 70000);
        const int kind = static_cast<int>(rng() % 8);
        Status s;
        if (kind < 5) {
          Buffer d = Pattern(len, t * 1000 + i);
          s = v->Write(base + off, d, kind == 0);
          std::copy(d.begin(), d.end(), model.begin() + off);
        } else if (kind < 7) {
          s = v->WriteZeroes(base + off, len, kind == 6, false, false);
          std::fill(model.begin() + off, model.begin() + off + len, std::byte{0});
        } else {
          Buffer out(len);
          s = v->Read(base + off, out);
          if (!std::equal(out.begin(), out.end(), model.begin() + off)) failures++;
        }
        if (!s.ok()) failures++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  for (int t = 0; t < 4; ++t) {
    Buffer out(kSize / 4);
    CAIRN_ASSERT_OK(v->Read(t * (kSize / 4), out));
    EXPECT_EQ(out, models[t]) << "quarter " << t;
  }
}

TEST_P(VolumeTest, OutOfRangeIsRefusedAndChangesNothing) {
  auto v = Create(kMiB);
  ASSERT_NE(v, nullptr);
  Buffer b = Pattern(8192, 9);
  Status s = v->Write(kMiB - 4096, b, false);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr(v->id().str()));
  EXPECT_THAT(s.message(), HasSubstr("offset 1044480 length 8192"));
  Buffer out(4096);
  CAIRN_ASSERT_OK(v->Read(kMiB - 4096, out));
  EXPECT_TRUE(IsAllZero(out));
  EXPECT_EQ(v->Read(kMiB, MutableByteSpan(out)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(v->Trim(kMiB - 1, 2).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(v->WriteZeroes(0, kMiB + 1, false, false, false).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(v->Extents(kMiB + 1, 0).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(VolumeTest, ResizeGrowsOnlyAndPersists) {
  auto v = Create(kMiB);
  ASSERT_NE(v, nullptr);
  CAIRN_ASSERT_OK(v->Write(kMiB - 4096, Pattern(4096, 1), false));
  Status s = v->Resize(kMiB / 2);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("--size: volumes only grow"));
  EXPECT_EQ(v->Resize(kMiB + 1).code(), StatusCode::kInvalidArgument);
  CAIRN_ASSERT_OK(v->Resize(3 * kMiB));
  EXPECT_EQ(v->Size(), 3 * kMiB);
  Buffer out(2 * kMiB);
  CAIRN_ASSERT_OK(v->Read(kMiB, out));
  EXPECT_TRUE(IsAllZero(out));
  CAIRN_ASSERT_OK(v->Write(3 * kMiB - 10, Pattern(10, 2), false));
  v.reset();  // destructor closes
  v = Reopen();
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->Size(), 3 * kMiB);
  EXPECT_EQ(v->info().size, 3 * kMiB);
  Buffer tail(10), old(4096);
  CAIRN_ASSERT_OK(v->Read(3 * kMiB - 10, tail));
  CAIRN_ASSERT_OK(v->Read(kMiB - 4096, old));
  EXPECT_EQ(tail, Pattern(10, 2));
  EXPECT_EQ(old, Pattern(4096, 1));
}

TEST_P(VolumeTest, OneOpenAtATime) {
  auto v = Create(kMiB);
  ASSERT_NE(v, nullptr);
  auto second = Volume::Open(vdir(), open());
  EXPECT_EQ(second.status().code(), StatusCode::kAborted);
  EXPECT_EQ(Volume::Remove(vdir()).code(), StatusCode::kAborted);
  v.reset();
  CAIRN_ASSERT_OK(Volume::Remove(vdir()));
  EXPECT_FALSE(PathExists(vdir()));
  EXPECT_EQ(Volume::Open(vdir(), open()).status().code(), StatusCode::kNotFound);
}

TEST_P(VolumeTest, CreateRefusesBadArgumentsAndExistingVolumes) {
  CreateOptions o{.size = kMiB + 1, .encrypted = encrypted()};
  Status s = Volume::Create(vdir(), o, open()).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("--size"));
  o.size = kMiB;
  o.qos = {VolumeType::kIo2, 0, 0};
  EXPECT_THAT(Volume::Create(vdir(), o, open()).status().message(), HasSubstr("--iops"));
  o.qos = {};
  o.block_size = 3000;
  EXPECT_EQ(Volume::Create(vdir(), o, open()).status().code(), StatusCode::kInvalidArgument);
  o.block_size = 64 << 10;
  ASSERT_TRUE(Volume::Create(vdir(), o, open()).ok());
  EXPECT_EQ(Volume::Create(vdir(), o, open()).status().code(), StatusCode::kAlreadyExists);
}

TEST_P(VolumeTest, QosChangesAtRunTimeAndPersists) {
  auto v = Create(kMiB);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->info().qos, (QosConfig{VolumeType::kGp3, 3000, 125}));
  EXPECT_THAT(v->SetQos({VolumeType::kGp3, 20000, 0}).message(), HasSubstr("--iops 20000"));
  CAIRN_ASSERT_OK(v->SetQos({VolumeType::kIo2, 5000, 0}));
  // I/O is counted in 256 KiB units.
  CAIRN_ASSERT_OK(v->Write(0, Pattern(512 << 10, 1), false));
  EXPECT_EQ(v->qos_stats().ops, 2u);
  v.reset();
  v = Reopen();
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->info().qos, (QosConfig{VolumeType::kIo2, 5000, 0}));
}

TEST(VolumeEncryptionTest, DataFileHoldsNoPlaintextAndKeyIsChecked) {
  TempDir tmp;
  const std::string dir = tmp.Sub("vol");
  Buffer key = DaemonKey();
  // Without a daemon key an encrypted volume cannot be made.
  EXPECT_EQ(Volume::Create(dir, {.size = kMiB, .encrypted = true}).status().code(),
            StatusCode::kFailedPrecondition);
  auto v = Volume::Create(dir, {.size = kMiB, .encrypted = true}, {.daemon_key = key});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  const std::string secret = "cairn-secret-marker-0123456789";
  std::string text;
  while (text.size() < 256 << 10) text += secret;
  CAIRN_ASSERT_OK((*v)->Write(1000, AsBytes(text), false));
  CAIRN_ASSERT_OK((*v)->Close());
  Result<Buffer> raw = ReadWholeFile(dir + "/data");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(std::string_view(AsStringView(*raw)).find("cairn-secret"), std::string_view::npos);
  Result<Buffer> meta = ReadWholeFile(dir + "/volume.json");
  ASSERT_TRUE(meta.ok());
  EXPECT_THAT(std::string(AsStringView(*meta)), HasSubstr("\"wrapped_key\""));
  v->reset();

  Status s = Volume::Open(dir, {.daemon_key = DaemonKey()}).status();
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(s.message(), HasSubstr("wrong daemon key"));
  EXPECT_EQ(Volume::Open(dir).status().code(), StatusCode::kFailedPrecondition);
  auto again = Volume::Open(dir, {.daemon_key = key});
  ASSERT_TRUE(again.ok());
  Buffer out(text.size());
  CAIRN_ASSERT_OK((*again)->Read(1000, out));
  EXPECT_EQ(AsStringView(out), text);
}

}  // namespace
}  // namespace cairn::volume
