#include "volume/xts_device.h"

#include <gtest/gtest.h>

#include <random>

#include "core/crypto.h"
#include "volume/file_device.h"
#include "volume/test_util.h"

namespace cairn::volume {
namespace {

using testing::Pattern;
using testing::TempDir;

class XtsDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto f = FileDevice::Open(dir_.Sub("data"), {.create = true, .create_size = kSize});
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    file_ = std::move(*f);
    key_.resize(XtsCipher::kKeySize);
    RandomBytes(key_);
    dev_ = std::make_unique<XtsDevice>(file_.get(), key_);
  }
  static constexpr uint64_t kSize = 1 << 20;
  TempDir dir_;
  std::unique_ptr<FileDevice> file_;
  Buffer key_;
  std::unique_ptr<XtsDevice> dev_;
};

TEST_F(XtsDeviceTest, NewDeviceReadsZerosAndReportsHoles) {
  Buffer out(kSize, std::byte{1});
  ASSERT_TRUE(dev_->Read(0, out).ok());
  EXPECT_TRUE(IsAllZero(out));
  auto ext = dev_->Extents(0, kSize);
  ASSERT_TRUE(ext.ok());
  ASSERT_EQ(ext->size(), 1u);
  EXPECT_TRUE((*ext)[0].hole);
}

TEST_F(XtsDeviceTest, RandomUnalignedOpsMatchAModelAndStoreNoPlaintext) {
  Buffer model(kSize);
  std::mt19937_64 rng(42);
  for (int i = 0; i < 300; ++i) {
    const uint64_t off = rng() % kSize;
    const uint64_t len = 1 + rng() % std::min<uint64_t>(kSize - off, 20000);
    const int kind = static_cast<int>(rng() % 10);
    if (kind < 7) {
      Buffer data = Pattern(len, i);
      ASSERT_TRUE(dev_->Write(off, data, kind == 0).ok());
      std::copy(data.begin(), data.end(), model.begin() + off);
    } else if (kind < 9) {
      ASSERT_TRUE(dev_->WriteZeroes(off, len, kind == 8, false, false).ok());
      std::fill(model.begin() + off, model.begin() + off + len, std::byte{0});
    } else {
      Buffer out(len);
      ASSERT_TRUE(dev_->Read(off, out).ok());
      ASSERT_TRUE(std::equal(out.begin(), out.end(), model.begin() + off)) << "op " << i;
    }
  }
  Buffer all(kSize);
  ASSERT_TRUE(dev_->Read(0, all).ok());
  EXPECT_EQ(all, model);
  // The file holds ciphertext: no 16-byte piece of any written pattern.
  Buffer raw(kSize);
  ASSERT_TRUE(file_->Read(0, raw).ok());
  for (uint64_t off = 0; off + 16 <= kSize; off += 4096) {
    ByteSpan piece = ByteSpan(model).subspan(off, 16);
    if (IsAllZero(piece)) continue;
    EXPECT_FALSE(std::equal(piece.begin(), piece.end(), raw.begin() + off)) << off;
  }
}

TEST_F(XtsDeviceTest, TrimTouchesOnlyWholeSectors) {
  Buffer data = Pattern(3 * 4096, 7);
  ASSERT_TRUE(dev_->Write(0, data, false).ok());
  ASSERT_TRUE(dev_->Trim(100, 2 * 4096).ok());  // only sector 1 is whole
  Buffer out(3 * 4096);
  ASSERT_TRUE(dev_->Read(0, out).ok());
  EXPECT_TRUE(std::equal(out.begin(), out.begin() + 4096, data.begin()));
  EXPECT_TRUE(IsAllZero(ByteSpan(out).subspan(4096, 4096)));
  EXPECT_TRUE(std::equal(out.begin() + 8192, out.end(), data.begin() + 8192));
}

TEST_F(XtsDeviceTest, SameDataAtAnotherOffsetEncryptsDifferently) {
  Buffer data(4096, std::byte{0x41});
  ASSERT_TRUE(dev_->Write(0, data, false).ok());
  ASSERT_TRUE(dev_->Write(4096, data, false).ok());
  Buffer raw(8192);
  ASSERT_TRUE(file_->Read(0, raw).ok());
  EXPECT_FALSE(std::equal(raw.begin(), raw.begin() + 4096, raw.begin() + 4096));
}

TEST_F(XtsDeviceTest, OutOfRangeIsInvalidArgument) {
  Buffer b(10);
  EXPECT_EQ(dev_->Read(kSize - 5, b).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(dev_->Write(kSize, b, false).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cairn::volume
