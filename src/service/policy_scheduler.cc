#include "service/policy_scheduler.h"

#include <fmt/format.h>

#include <optional>

#include "core/log.h"
#include "core/units.h"
#include "service/schedule.h"

namespace cairn::service {
namespace {

using Clock = std::chrono::system_clock;

// How long to sleep when nothing is scheduled or the catalog failed.
constexpr auto kIdleWait = std::chrono::seconds(60);
constexpr auto kRetryWait = std::chrono::seconds(10);
// A run that starts this much after its time says so in its event.
constexpr auto kLateNotice = std::chrono::seconds(60);

std::optional<Clock::time_point> NextRunOf(const PolicyRecord& p) {
  if (!p.state.enabled || p.state.next_run.empty()) return std::nullopt;
  auto t = ParseTimeUtc(p.state.next_run);
  if (!t.ok()) return Clock::time_point{};  // unreadable: due now, and rewritten after
  return *t;
}

}  // namespace

PolicyScheduler::PolicyScheduler(Catalog& catalog, EventLog& events, RunFn run)
    : catalog_(catalog), events_(events), run_(std::move(run)) {}

PolicyScheduler::~PolicyScheduler() { Stop(); }

std::string PolicyScheduler::FirstRun(const std::string& schedule, Clock::time_point now) {
  auto s = Schedule::Parse(schedule);
  return s.ok() ? FormatTimeUtcMillis(s->Next(now)) : "";
}

void PolicyScheduler::Start() {
  thread_ = std::jthread([this](std::stop_token stop) { Loop(stop); });
}

void PolicyScheduler::Stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  cv_.notify_all();
  thread_.join();
}

void PolicyScheduler::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void PolicyScheduler::RequestRun(const std::string& id) {
  {
    std::lock_guard lock(mu_);
    requested_.insert(id);
  }
  cv_.notify_all();
}

std::string PolicyScheduler::Running() const {
  std::lock_guard lock(mu_);
  return running_;
}

void PolicyScheduler::Loop(std::stop_token stop) {
  while (!stop.stop_requested()) {
    {
      std::lock_guard lock(mu_);
      woken_ = false;
    }
    auto wait_until = Clock::now() + kIdleWait;
    auto policies = catalog_.ListPolicies();
    if (!policies.ok()) {
      LogWarning("policies: reading the catalog failed, trying again in 10 s: " +
                 policies.status().ToString());
      wait_until = Clock::now() + kRetryWait;
    } else {
      const PolicyRecord* due = nullptr;
      bool requested = false;
      std::optional<Clock::time_point> earliest;
      {
        std::lock_guard lock(mu_);
        for (const PolicyRecord& p : *policies) {
          if (requested_.count(p.id) > 0) {
            due = &p;
            requested = true;
            break;
          }
        }
        // Requests for policies deleted meanwhile are dropped.
        if (!requested) requested_.clear();
      }
      for (const PolicyRecord& p : *policies) {
        if (due != nullptr) break;
        auto next = NextRunOf(p);
        if (next && (!earliest || *next < *earliest)) earliest = next;
      }
      if (due == nullptr && earliest && *earliest <= Clock::now()) {
        for (const PolicyRecord& p : *policies) {
          if (NextRunOf(p) == earliest) due = &p;
        }
      }
      if (due != nullptr) {
        RunOne(*due, requested, stop);
        continue;
      }
      if (earliest) wait_until = std::min(wait_until, *earliest);
    }
    std::unique_lock lock(mu_);
    cv_.wait_until(lock, stop, wait_until, [this] { return woken_ || !requested_.empty(); });
  }
}

void PolicyScheduler::RunOne(const PolicyRecord& p, bool requested, std::stop_token stop) {
  {
    std::lock_guard lock(mu_);
    requested_.erase(p.id);
    running_ = p.id;
  }
  const uint64_t number = p.state.runs + 1;
  const auto started = Clock::now();
  std::string why = requested ? " (asked for)" : "";
  if (!requested) {
    auto scheduled = NextRunOf(p);
    if (scheduled && started - *scheduled > kLateNotice) {
      why =
          " (scheduled for " + p.state.next_run + ", missed while the daemon was stopped or busy)";
    }
  }
  events_.Info(p.id,
               fmt::format("run {} started{}: {}", number, why, DescribeTargets(p.definition)));
  PolicyRun run = run_(p, number, stop);
  const auto finished = Clock::now();
  run.started = FormatTimeUtcMillis(started);
  run.finished = FormatTimeUtcMillis(finished);
  const double seconds = std::chrono::duration<double>(finished - started).count();
  if (run.result == "ok") {
    events_.Info(p.id, fmt::format("run {} ok in {}: {}", number, fmt::format("{:.1f} s", seconds),
                                   run.message));
  } else {
    run.result = "failed";
    events_.Warning(p.id, fmt::format("run {} failed in {}: {}", number,
                                      fmt::format("{:.1f} s", seconds), run.message));
  }

  // Onto the record as it is now, in one atomic step: a delete, a modify or
  // an enable/disable may have come during the run, and is kept (a disabled
  // policy gets no next run; a new schedule gives the next run).
  Status s = catalog_.UpdatePolicy(p.id, [&](PolicyRecord& now) {
    PolicyState& state = now.state;
    const auto next_before = NextRunOf(now);
    state.runs += 1;
    if (run.result != "ok") state.failures += 1;
    state.last_run = run;
    auto schedule = Schedule::Parse(now.definition.schedule);
    if (!state.enabled || !schedule.ok()) {
      state.next_run.clear();
    } else if (!requested || next_before.value_or(Clock::time_point{}) <= finished) {
      auto next = schedule->Next(started);
      if (next <= finished) next = schedule->Next(finished);
      state.next_run = FormatTimeUtcMillis(next);
    }
    return Status::OK();
  });
  if (!s.ok() && s.code() != StatusCode::kNotFound) {
    LogWarning("policy " + p.id + ": recording run " + std::to_string(number) +
               " failed: " + s.ToString());
  }
  std::lock_guard lock(mu_);
  running_.clear();
}

}  // namespace cairn::service
