#include "core/progress.h"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

#include "core/units.h"

namespace cairn {

namespace {

void WriteAll(std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(STDERR_FILENO, s.data(), s.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    s.remove_prefix(size_t(n));
  }
}

int TerminalColumns() {
  struct winsize ws {};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

std::string FormatEta(uint64_t secs) {
  if (secs >= 3600) return fmt::format("{}:{:02d}:{:02d}", secs / 3600, secs / 60 % 60, secs % 60);
  return fmt::format("{}:{:02d}", secs / 60, secs % 60);
}

std::string JsonEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", int(c));
        } else {
          out += c;
        }
    }
  }
  return out;
}

}  // namespace

Progress::Progress(Mode mode, std::string operation, uint64_t total_bytes)
    : mode_(mode),
      operation_(std::move(operation)),
      total_(total_bytes),
      start_(std::chrono::steady_clock::now()) {
  if (mode_ != Mode::kNone) thread_ = std::thread([this] { Run(); });
}

Progress::~Progress() { Finish(); }

void Progress::Finish() {
  if (!thread_.joinable()) return;  // kNone, or already finished
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  Draw(/*final=*/true);
}

void Progress::Run() {
  const auto period =
      mode_ == Mode::kJsonLines ? std::chrono::seconds(1) : std::chrono::milliseconds(200);
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, period, [this] { return stop_; })) {
    lock.unlock();
    Draw(/*final=*/false);
    lock.lock();
  }
}

void Progress::Draw(bool final) {
  const uint64_t done = this->done();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const uint64_t rate = elapsed > 0 ? uint64_t(double(done) / elapsed) : 0;
  const bool eta_known = total_ > 0 && rate > 0;
  const uint64_t eta = final || done >= total_ ? 0 : eta_known ? (total_ - done) / rate : 0;

  if (mode_ == Mode::kJsonLines) {
    std::string eta_json = final || eta_known ? std::to_string(eta) : "null";
    WriteAll(fmt::format(
        "{{\"type\":\"progress\",\"op\":\"{}\",\"bytes_done\":{},\"bytes_total\":{},"
        "\"rate\":{},\"eta_seconds\":{}{}}}\n",
        JsonEscape(operation_), done, total_, rate, eta_json, final ? ",\"done\":true" : ""));
    return;
  }
  if (mode_ != Mode::kBar) return;

  std::string head = fmt::format("{}  {}", operation_, FormatBytes(done));
  std::string pct, tail;
  int percent = 0;
  if (total_ > 0) {
    percent = int(std::min<uint64_t>(100, done * 100.0 / double(total_)));
    head += fmt::format(" / {}", FormatBytes(total_));
    pct = fmt::format("  {:3d}%", percent);
  }
  tail = fmt::format("  {}/s", FormatBytes(rate));
  if (final) {
    tail += "  in " + FormatEta(uint64_t(elapsed));
  } else if (total_ > 0) {
    tail += eta_known ? "  ETA " + FormatEta(eta) : "  ETA --:--";
  }

  std::string line = head + pct;
  // The bar's width depends only on the terminal and the operation name, so
  // it does not jump as the numbers change: reserve the widest text.
  const int cols = TerminalColumns();
  const int reserved = int(operation_.size()) + 62;
  const int width = std::min(cols - 1 - reserved, 40);
  if (total_ > 0 && width >= 10) {
    const int filled = width * percent / 100;
    line +=
        "  [" + std::string(size_t(filled), '#') + std::string(size_t(width - filled), '.') + "]";
  }
  line += tail;
  if (int(line.size()) >= cols) line.resize(size_t(std::max(cols - 1, 0)));
  // '\r' returns to the line start; ESC[K clears what a longer line left.
  WriteAll("\r" + line + "\x1b[K" + (final ? "\n" : ""));
}

}  // namespace cairn
