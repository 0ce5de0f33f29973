#include "cli/passphrase.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cli/signals.h"

namespace cairn::cli {
namespace {

// Closes a file descriptor on scope exit.
struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) close(fd);
  }
};

void StripNewline(std::string& line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
    line.pop_back();
  }
}

}  // namespace

bool HaveTerminal() {
  FdCloser tty{open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)};
  return tty.fd >= 0;
}

Result<std::string> PromptPassphrase(std::string_view prompt,
                                     std::string_view no_terminal_message) {
  FdCloser tty{open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)};
  if (tty.fd < 0) return UnauthenticatedError(std::string(no_terminal_message));
  struct termios saved;
  const bool is_tty = tcgetattr(tty.fd, &saved) == 0;
  if (is_tty) {
    struct termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    SetTerminalRestore(tty.fd, &saved);
    tcsetattr(tty.fd, TCSAFLUSH, &quiet);
  }
  (void)!write(tty.fd, prompt.data(), prompt.size());
  std::string line;
  char c;
  ssize_t n;
  while ((n = read(tty.fd, &c, 1)) == 1 && c != '\n') line.push_back(c);
  const int read_errno = errno;
  if (is_tty) {
    tcsetattr(tty.fd, TCSAFLUSH, &saved);
    SetTerminalRestore(-1, nullptr);
  }
  if (n < 0) return ErrnoToStatus(read_errno, "reading passphrase from terminal");
  if (n == 0 && line.empty()) {
    return UnauthenticatedError("no passphrase entered (end of input)");
  }
  StripNewline(line);
  return line;
}

}  // namespace cairn::cli
