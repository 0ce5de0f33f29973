#include "service/nbd_file_mount.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "core/log.h"
#include "core/subprocess.h"

namespace cairn::service {
namespace {

using Clock = std::chrono::steady_clock;

// Starts args[0] (searched in PATH) with stdout and stderr appended to
// `log`; returns its pid.
Result<pid_t> Spawn(const std::vector<std::string>& args, const std::string& log) {
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("opening " + log + ": " + std::strerror(errno));
  Result<pid_t> pid = SpawnProcess({.argv = args, .output_fd = fd});
  ::close(fd);
  if (pid.status().code() == StatusCode::kNotFound) {
    return FailedPreconditionError(args[0] + " not found in PATH: install " +
                                   (args[0] == "nbdfuse" ? "libnbd-bin" : "fuse3"));
  }
  return pid;
}

// waitpid with a deadline; true once reaped (status in *status).
bool WaitFor(pid_t pid, Clock::duration timeout, int* status) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const pid_t r = ::waitpid(pid, status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Result<std::unique_ptr<NbdFileMount>> NbdFileMount::Mount(const std::string& uri,
                                                          const std::string& dir, bool read_only) {
  if (::access("/dev/fuse", R_OK | W_OK) != 0) {
    return FailedPreconditionError("cannot show " + uri + " as a file: /dev/fuse is " +
                                   (errno == ENOENT
                                        ? "missing (load the fuse module)"
                                        : "not accessible: " + std::string(std::strerror(errno))));
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("creating mount directory " + dir + ": " + ec.message());
  const std::string pid_file = dir + ".pid";
  const std::string log = dir + ".log";
  std::filesystem::remove(pid_file, ec);
  std::vector<std::string> args = {"nbdfuse"};
  if (read_only) args.push_back("-r");
  args.insert(args.end(), {"-P", pid_file, dir + "/disk", uri});
  ASSIGN_OR_RETURN(pid_t pid, Spawn(args, log));
  std::unique_ptr<NbdFileMount> mount(new NbdFileMount(dir, dir + "/disk", log, pid));

  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (!std::filesystem::exists(pid_file)) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      mount->pid_ = -1;
      return IoError("nbdfuse could not show " + uri + " as " + mount->file_ + " (exit " +
                     std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                     "): " + Slurp(log));
    }
    if (Clock::now() >= deadline) {
      return IoError("nbdfuse did not get " + uri + " ready at " + mount->file_ +
                     " within 20 s: " + Slurp(log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return mount;
}

Status NbdFileMount::Unmount() {
  if (pid_ < 0) return Status::OK();
  Status result;
  auto fusermount = Spawn({"fusermount3", "-u", dir_}, log_);
  int status = 0;
  if (fusermount.ok()) {
    if (!WaitFor(*fusermount, std::chrono::seconds(10), &status)) {
      ::kill(*fusermount, SIGKILL);
      WaitFor(*fusermount, std::chrono::seconds(2), &status);
      result = IoError("fusermount3 -u " + dir_ + " hung");
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      result = IoError("fusermount3 -u " + dir_ + " failed: " + Slurp(log_));
    }
  } else {
    result = fusermount.status();
  }
  if (!WaitFor(pid_, std::chrono::seconds(10), &status)) {
    ::kill(pid_, SIGTERM);
    if (!WaitFor(pid_, std::chrono::seconds(5), &status)) {
      ::kill(pid_, SIGKILL);
      WaitFor(pid_, std::chrono::seconds(5), &status);
    }
    if (result.ok()) result = IoError("nbdfuse for " + dir_ + " did not exit after unmount");
  }
  pid_ = -1;
  std::error_code ec;
  std::filesystem::remove(dir_ + ".pid", ec);
  std::filesystem::remove(dir_, ec);  // empty once unmounted
  return result;
}

NbdFileMount::~NbdFileMount() {
  Status s = Unmount();
  if (!s.ok()) LogWarning("unmounting " + dir_ + ": " + s.message());
}

}  // namespace cairn::service
