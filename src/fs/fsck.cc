#include "fs/fsck.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <vector>

extern char** environ;

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
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);

  std::vector<std::string> env_store;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view v(*e);
    if (v.starts_with("LC_ALL=") || v.starts_with("LANG=")) continue;
    env_store.emplace_back(v);
  }
  env_store.emplace_back("LC_ALL=C");
  std::vector<char*> envp;
  for (std::string& s : env_store) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string arg0 = e2fsck, arg1 = "-f", arg2 = "-n", arg3 = path;
  char* argv[] = {arg0.data(), arg1.data(), arg2.data(), arg3.data(), nullptr};

  // The caller may block signals (cairn's signal thread): the child starts
  // with none blocked and the usual dispositions.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, e2fsck.c_str(), &actions, &attr, argv, envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (rc != 0) {
    ::close(pipe_fds[0]);
    return IoError("starting " + e2fsck + " on " + path + ": " + std::strerror(rc));
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
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      return IoError("waiting for e2fsck on " + path + ": " + std::strerror(errno));
  }
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
