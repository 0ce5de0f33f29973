#include "core/progress.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace cairn {
namespace {

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t nl = s.find('\n', pos);
    if (nl == std::string::npos) nl = s.size();
    out.push_back(s.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

TEST(ProgressTest, NoneWritesNothing) {
  testing::internal::CaptureStderr();
  {
    Progress p(Progress::Mode::kNone, "backup", 100);
    p.Add(60);
    EXPECT_EQ(p.done(), 60u);
    p.Finish();
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

TEST(ProgressTest, JsonLinesFinalObject) {
  testing::internal::CaptureStderr();
  {
    Progress p(Progress::Mode::kJsonLines, "restore \"x\"", 4096);
    p.Add(1024);
    p.Add(3072);
    p.Finish();
    p.Finish();  // idempotent
  }
  std::vector<std::string> lines = Lines(testing::internal::GetCapturedStderr());
  ASSERT_EQ(lines.size(), 1u);  // finished well within the first second
  const std::string& last = lines.back();
  EXPECT_EQ(last.front(), '{');
  EXPECT_EQ(last.back(), '}');
  EXPECT_NE(last.find("\"type\":\"progress\""), std::string::npos) << last;
  EXPECT_NE(last.find("\"op\":\"restore \\\"x\\\"\""), std::string::npos) << last;
  EXPECT_NE(last.find("\"bytes_done\":4096"), std::string::npos) << last;
  EXPECT_NE(last.find("\"bytes_total\":4096"), std::string::npos) << last;
  EXPECT_NE(last.find("\"eta_seconds\":0"), std::string::npos) << last;
  EXPECT_NE(last.find("\"done\":true"), std::string::npos) << last;
}

TEST(ProgressTest, JsonLinesAboutOncePerSecond) {
  testing::internal::CaptureStderr();
  {
    Progress p(Progress::Mode::kJsonLines, "backup", 1000);
    p.Add(10);
    std::this_thread::sleep_for(std::chrono::milliseconds(2300));
  }  // destructor finishes
  std::vector<std::string> lines = Lines(testing::internal::GetCapturedStderr());
  // Periodic lines near t=1s and t=2s (a loaded machine may lose one), then
  // the final one; never more than one per second.
  ASSERT_GE(lines.size(), 2u);
  ASSERT_LE(lines.size(), 3u);
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    EXPECT_EQ(lines[i].find("\"done\""), std::string::npos) << lines[i];
    EXPECT_NE(lines[i].find("\"bytes_done\":10,"), std::string::npos) << lines[i];
  }
  EXPECT_NE(lines.back().find("\"done\":true"), std::string::npos);
}

TEST(ProgressTest, BarDrawsAndEndsLine) {
  testing::internal::CaptureStderr();
  {
    Progress p(Progress::Mode::kBar, "backup", uint64_t{4} << 30);
    p.Add(uint64_t{1} << 30);
    std::this_thread::sleep_for(std::chrono::milliseconds(650));
    p.Finish();
  }
  std::string out = testing::internal::GetCapturedStderr();
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.front(), '\r');
  EXPECT_EQ(out.back(), '\n');
  EXPECT_EQ(out.find('\n'), out.size() - 1);               // one line, redrawn in place
  EXPECT_GE(std::count(out.begin(), out.end(), '\r'), 2);  // periodic + final
  EXPECT_NE(out.find("backup  1.0 GiB / 4.0 GiB   25%"), std::string::npos) << out;
  EXPECT_NE(out.find("[#"), std::string::npos) << out;
  EXPECT_NE(out.find("/s"), std::string::npos) << out;
  EXPECT_NE(out.find("ETA "), std::string::npos) << out;
}

}  // namespace
}  // namespace cairn
