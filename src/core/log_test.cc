#include "core/log.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace cairn {
namespace {

// Captures what is written to fd 2 (gtest redirects fd 2 to a temp file).
class LogTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::internal::CaptureStderr(); }
  std::string Captured() { return testing::internal::GetCapturedStderr(); }
  void TearDown() override { SetLogLevel(LogLevel::kWarning); }
};

TEST_F(LogTest, DefaultLevelIsWarning) {
  EXPECT_EQ(GetLogLevel(), LogLevel::kWarning);
  LogWarning("disk almost full");
  LogInfo("hidden");
  LogDebug("hidden too");
  EXPECT_EQ(Captured(), "warning: disk almost full\n");
}

TEST_F(LogTest, VerboseLevels) {
  SetLogLevel(LogLevel::kInfo);
  LogInfo("uploaded 3 packs");
  LogDebug("hidden");
  SetLogLevel(LogLevel::kDebug);
  EXPECT_EQ(GetLogLevel(), LogLevel::kDebug);
  LogDebug("pack 3f2a");
  LogWarning("w");
  EXPECT_EQ(Captured(), "uploaded 3 packs\ndebug: pack 3f2a\nwarning: w\n");
}

TEST_F(LogTest, QuietSilencesWarnings) {
  SetLogLevel(LogLevel::kQuiet);
  LogWarning("nobody hears this");
  LogInfo("nor this");
  EXPECT_EQ(Captured(), "");
}

TEST_F(LogTest, LinesFromThreadsDoNotInterleave) {
  SetLogLevel(LogLevel::kInfo);
  const std::string payload(300, 'x');
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) LogInfo(payload);
    });
  }
  for (auto& t : threads) t.join();
  std::string out = Captured();
  size_t lines = 0, pos = 0;
  while (pos < out.size()) {
    size_t nl = out.find('\n', pos);
    ASSERT_NE(nl, std::string::npos);
    ASSERT_EQ(out.substr(pos, nl - pos), payload);
    pos = nl + 1;
    ++lines;
  }
  EXPECT_EQ(lines, 800u);
}

}  // namespace
}  // namespace cairn
