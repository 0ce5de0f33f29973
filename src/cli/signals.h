// SignalWatcher: turns SIGINT/SIGTERM into a stop request.
//
// The constructor blocks SIGINT and SIGTERM in the calling thread (so in
// every thread started after it: construct it first thing in main) and
// starts a thread that waits for them with sigwait. On a signal:
//   - while an operation is cancellable (it honours stop_token()), the
//     watcher requests stop; the operation ends with kCancelled (exit 130)
//     and commits nothing half-written;
//   - otherwise, or at a second signal, the process exits 130 at once (the
//     repository format is crash-safe), first restoring the terminal if a
//     passphrase prompt had turned echo off.
//
// Thread-safety: set_cancellable and SetTerminalRestore may be called from
// any thread.
#ifndef CAIRN_CLI_SIGNALS_H_
#define CAIRN_CLI_SIGNALS_H_

#include <termios.h>

#include <atomic>
#include <stop_token>
#include <thread>

namespace cairn::cli {

class SignalWatcher {
 public:
  SignalWatcher();
  ~SignalWatcher();  // stops and joins the watcher thread
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

  std::stop_token token() const { return stop_.get_token(); }
  void set_cancellable(bool cancellable) { cancellable_.store(cancellable); }

 private:
  void Run();

  std::stop_source stop_;
  std::atomic<bool> cancellable_{false};
  std::thread thread_;
};

// Terminal state to restore on an interrupt while echo is off (nullptr:
// nothing to restore). The pointee must stay valid until cleared.
void SetTerminalRestore(int fd, const struct termios* state);

}  // namespace cairn::cli

#endif  // CAIRN_CLI_SIGNALS_H_
