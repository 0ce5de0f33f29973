#include "cli/signals.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <mutex>

namespace cairn::cli {
namespace {

// SIGUSR2 is sent by the destructor to end the watcher.
constexpr int kQuitSignal = SIGUSR2;

sigset_t WatchedSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, kQuitSignal);
  return set;
}

std::mutex tty_mu;
int tty_fd = -1;                          // guarded by tty_mu
const struct termios* tty_state = nullptr;  // guarded by tty_mu

[[noreturn]] void ExitInterrupted() {
  {
    std::lock_guard lock(tty_mu);
    if (tty_state != nullptr) {
      tcsetattr(tty_fd, TCSAFLUSH, tty_state);
      (void)!write(tty_fd, "\n", 1);
    }
  }
  static const char kMsg[] = "cairn: interrupted\n";
  (void)!write(STDERR_FILENO, kMsg, sizeof kMsg - 1);
  _exit(130);
}

}  // namespace

void SetTerminalRestore(int fd, const struct termios* state) {
  std::lock_guard lock(tty_mu);
  tty_fd = fd;
  tty_state = state;
}

SignalWatcher::SignalWatcher() {
  sigset_t set = WatchedSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  thread_ = std::thread([this] { Run(); });
}

SignalWatcher::~SignalWatcher() {
  pthread_kill(thread_.native_handle(), kQuitSignal);
  thread_.join();
}

void SignalWatcher::Run() {
  const sigset_t set = WatchedSignals();
  int signals_seen = 0;
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == kQuitSignal) return;
    ++signals_seen;
    if (!cancellable_.load() || signals_seen > 1) ExitInterrupted();
    static const char kMsg[] =
        "\ncairn: stopping (press Ctrl-C again to exit at once)\n";
    (void)!write(STDERR_FILENO, kMsg, sizeof kMsg - 1);
    stop_.request_stop();
  }
}

}  // namespace cairn::cli
