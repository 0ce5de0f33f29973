#include "core/compress.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace cairn {
namespace {

Buffer Compressible(size_t n) {
  Buffer b(n);
  for (size_t i = 0; i < n; ++i) b[i] = std::byte("cairn block data "[i % 17]);
  return b;
}

TEST(CompressTest, RoundTrip) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{1000}, size_t{512 * 1024}}) {
    Buffer in = Compressible(n);
    Buffer frame;
    ZstdCompressTo(in, 3, frame);
    if (n >= 1000) {
      EXPECT_LT(frame.size(), n / 10);
    }
    Result<Buffer> out = ZstdDecompress(frame, n);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(*out, in);
  }
}

TEST(CompressTest, AppendsToExistingBytes) {
  Buffer out = ToBuffer("HDR");
  Buffer in = Compressible(4096);
  ZstdCompressTo(in, 1, out);
  EXPECT_EQ(AsStringView(ByteSpan(out).first(3)), "HDR");
  EXPECT_EQ(*ZstdDecompress(ByteSpan(out).subspan(3), in.size()), in);
}

TEST(CompressTest, ConcurrentUse) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        Buffer in = Compressible(5000 + 13 * t + i);
        Buffer frame;
        ZstdCompressTo(in, 1 + t, frame);
        Result<Buffer> out = ZstdDecompress(frame, in.size());
        if (!out.ok() || *out != in) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(CompressTest, WrongExpectedSize) {
  Buffer in = Compressible(10000);
  Buffer frame;
  ZstdCompressTo(in, 3, frame);
  for (size_t expected : {size_t{9999}, size_t{10001}, size_t{0}}) {
    Result<Buffer> r = ZstdDecompress(frame, expected);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    EXPECT_NE(r.status().message().find(std::to_string(expected)), std::string::npos)
        << r.status().message();
  }
}

TEST(CompressTest, CorruptedFrame) {
  Buffer in = Compressible(10000);
  Buffer frame;
  ZstdCompressTo(in, 3, frame);
  // Bad magic.
  Buffer bad = frame;
  bad[0] ^= std::byte{0xff};
  EXPECT_EQ(ZstdDecompress(bad, in.size()).status().code(), StatusCode::kCorruption);
  // Truncated.
  EXPECT_EQ(ZstdDecompress(ByteSpan(frame).first(frame.size() - 3), in.size()).status().code(),
            StatusCode::kCorruption);
  // Trailing garbage after the frame.
  Buffer trailing = frame;
  trailing.push_back(std::byte{0x42});
  EXPECT_EQ(ZstdDecompress(trailing, in.size()).status().code(), StatusCode::kCorruption);
  // Empty input.
  EXPECT_EQ(ZstdDecompress({}, in.size()).status().code(), StatusCode::kCorruption);
}

TEST(CompressTest, DamagedPayloadNeverReturnsWrongData) {
  Buffer in(50000);
  for (size_t i = 0; i < in.size(); ++i) in[i] = std::byte((i * i) >> 5);
  Buffer frame;
  ZstdCompressTo(in, 3, frame);
  // Frames carry no checksum (the AEAD tag covers that), so a damaged payload
  // may decode to other bytes; it must fail as kCorruption or not crash.
  int failures = 0;
  for (size_t pos = 6; pos < frame.size(); pos += 97) {
    Buffer bad = frame;
    bad[pos] ^= std::byte{0x10};
    Result<Buffer> r = ZstdDecompress(bad, in.size());
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
      ++failures;
    }
  }
  EXPECT_GT(failures, 0);
}

}  // namespace
}  // namespace cairn
