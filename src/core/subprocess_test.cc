#include "core/subprocess.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace cairn {
namespace {

// Runs `options` with its output into a pipe; returns the output and sets *status.
std::string RunCapture(SpawnOptions options, int* status) {
  int fds[2];
  EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  options.output_fd = fds[1];
  Result<pid_t> pid = SpawnProcess(options);
  ::close(fds[1]);
  EXPECT_TRUE(pid.ok()) << pid.status().ToString();
  std::string out;
  char buf[256];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, n);
  ::close(fds[0]);
  if (pid.ok()) {
    Result<int> s = WaitProcess(*pid);
    EXPECT_TRUE(s.ok());
    *status = *s;
  }
  return out;
}

TEST(SubprocessTest, OutputEnvironmentAndExitStatusReachTheCaller) {
  int status = -1;
  std::string out = RunCapture(
      {.argv = {"sh", "-c", "echo \"$CAIRN_SPAWN_TEST\"; echo err >&2; exit 3"},
       .env = {"CAIRN_SPAWN_TEST=hello"}},
      &status);
  EXPECT_EQ(out, "hello\nerr\n");  // stderr goes where stdout goes
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);
}

TEST(SubprocessTest, EnvironmentOverrideReplacesTheInheritedValue) {
  ::setenv("CAIRN_SPAWN_TEST", "inherited", 1);
  int status = -1;
  std::string out =
      RunCapture({.argv = {"sh", "-c", "env | grep -c '^CAIRN_SPAWN_TEST='; echo $CAIRN_SPAWN_TEST"},
                  .env = {"CAIRN_SPAWN_TEST=mine"}},
                 &status);
  ::unsetenv("CAIRN_SPAWN_TEST");
  EXPECT_EQ(out, "1\nmine\n");
}

TEST(SubprocessTest, MissingProgramIsNotFoundNamingIt) {
  Result<pid_t> pid = SpawnProcess({.argv = {"cairn-no-such-program"}});
  ASSERT_FALSE(pid.ok());
  EXPECT_EQ(pid.status().code(), StatusCode::kNotFound);
  EXPECT_NE(pid.status().message().find("cairn-no-such-program"), std::string::npos);
}

}  // namespace
}  // namespace cairn
