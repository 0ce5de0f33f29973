#include "fs/fsck.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <vector>

#include "core/subprocess.h"

namespace cairn::fs {
namespace {

constexpr size_t kMaxOutput = 1 << 20;

// The first executable `name` in PATH, then /usr/sbin and /sbin; "" if none.
std::string FindE2fsck() {
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH")) {
    std::string_view rest(path);
    while (!rest.empty()) {
      const size_t colon = rest.find(':');
      dirs.emplace_back(rest.substr(0, colon));
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  dirs.insert(dirs.end(), {"/usr/sbin", "/sbin"});
  for (const std::string& dir : dirs) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/e2fsck";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

std::string LastLine(const std::string& text) {
  size_t end = text.find_last_not_of("\n\r ");
  if (end == std::string::npos) return "";
  const size_t start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1,
                     end - (start == std::string::npos ? 0 : start + 1) + 1);
}

}  // namespace

std::string FsckMeaning(int code) {
  if (code == 0) return "no errors";
  if (code < 0 || code > 255) return "e2fsck did not finish";
  std::string out;
  auto add = [&out](const char* text) { out += (out.empty() ? "" : ", ") + std::string(text); };
  if (code & 1) add("errors corrected");
  if (code & 2) add("system should be rebooted");
  if (code & 4) add("errors left uncorrected");
  if (code & 8) add("operational error (nothing or not all was checked)");
  if (code & 16) add("usage or syntax error");
  if (code & 32) add("cancelled");
  if (code & 128) add("shared-library error");
  return out.empty() ? "exit code " + std::to_string(code) : out;
}

Result<FsckVerdict> RunFsck(const std::string& path, const FsckOptions& options) {
  const std::string e2fsck = options.e2fsck.empty() ? FindE2fsck() : options.e2fsck;
  if (e2fsck.empty() || ::access(e2fsck.c_str(), X_OK) != 0) {
    return FailedPreconditionError(
        "e2fsck not found" +
        (options.e2fsck.empty() ? " in PATH, /usr/sbin or /sbin" : " at " + options.e2fsck) +
        ": install e2fsprogs (`apt-get install e2fsprogs`) to check " + path);
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return IoError("pipe for e2fsck's output: " + std::string(std::strerror(errno)));
  }
  SpawnOptions spawn;
  spawn.argv = {e2fsck, "-f", "-n", path};
  spawn.output_fd = pipe_fds[1];
  spawn.env = {"LC_ALL=C"};  // messages in English, whatever the host's locale
  Result<pid_t> pid = SpawnProcess(spawn);
  ::close(pipe_fds[1]);
  if (!pid.ok()) {
    ::close(pipe_fds[0]);
    return pid.status().WithContext("checking " + path);
  }
  FsckVerdict v;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(pipe_fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (v.output.size() < kMaxOutput) {
      v.output.append(buf, std::min<size_t>(static_cast<size_t>(n), kMaxOutput - v.output.size()));
    }
  }
  ::close(pipe_fds[0]);
  ASSIGN_OR_RETURN_CTX(const int status, WaitProcess(*pid), "e2fsck on " + path);
  v.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  v.clean = WIFEXITED(status) && v.exit_code == 0;
  v.meaning = WIFEXITED(status) ? FsckMeaning(v.exit_code)
                                : "killed by signal " + std::to_string(WTERMSIG(status));
  for (char& c : v.output) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80 || (u < 0x20 && c != '\n' && c != '\t')) c = '?';
  }
  v.summary = LastLine(v.output);
  return v;
}

}  // namespace cairn::fs
