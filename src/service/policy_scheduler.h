// PolicyScheduler: the daemon's thread that runs policies when they are due
// (service/policy.h). It owns the state half of every policy record: next
// run, counters, the last run.
//
//   loop: read the policies from the catalog
//         ├─ a run was asked for (RequestRun)   → run it now
//         ├─ an enabled policy's next_run ≤ now → run it (the earliest first)
//         └─ else sleep until the earliest next_run, a Wake() or Stop()
//   run:  RunFn(policy, run number, stop token) → PolicyRun
//         → state: runs+1, failures+1 if failed, last_run, next_run
//
// One run at a time, in this thread: a long run delays the others, it never
// overlaps them. next_run after a scheduled run is the schedule's next time
// after the run started; when the run outlasted that too, the next time
// after it finished (missed slots are skipped, not piled up). A next_run that
// passed while the daemon was stopped makes the policy due at once, one run
// however many were missed (like cron's anacron mode); its start event says
// which time it was scheduled for. A requested run leaves next_run alone.
// A disabled policy has no next_run and runs only when asked; enabling or a
// new schedule (daemon_policy_modify.cc) sets next_run from that moment, so
// times missed while disabled are not caught up. A run works on the copy of
// the record it started with: a modify during the run applies from the next
// run, and the run's result is written onto the record as it is then, in
// one atomic step (Catalog::UpdatePolicy), so the modify is never undone.
//
// Thread-safety: every public method may be called from any thread.
#ifndef CAIRN_SERVICE_POLICY_SCHEDULER_H_
#define CAIRN_SERVICE_POLICY_SCHEDULER_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <stop_token>
#include <string>
#include <thread>

#include "core/status.h"
#include "service/catalog.h"
#include "service/event_log.h"
#include "service/policy.h"

namespace cairn::service {

class PolicyScheduler {
 public:
  // Does one run of `policy` (numbered `run`, from 1) and reports it; must
  // return soon after `stop` is requested.
  using RunFn =
      std::function<PolicyRun(const PolicyRecord& policy, uint64_t run, std::stop_token stop)>;

  // `catalog` and `events` must outlive the scheduler.
  PolicyScheduler(Catalog& catalog, EventLog& events, RunFn run);
  ~PolicyScheduler();  // Stop()s
  PolicyScheduler(const PolicyScheduler&) = delete;
  PolicyScheduler& operator=(const PolicyScheduler&) = delete;

  void Start();
  // Cancels the run in progress (its stop token), joins the thread.
  // Idempotent.
  void Stop();
  // A policy was created, changed or deleted: read them again.
  void Wake();
  // Runs `id` as soon as the run in progress (if any) ends.
  void RequestRun(const std::string& id);
  // The id of the policy running now; "" when none.
  std::string Running() const;

  // The next_run to store for a policy with `schedule` (canonical text) at
  // `now`; "" if the schedule does not parse.
  static std::string FirstRun(const std::string& schedule,
                              std::chrono::system_clock::time_point now);

 private:
  void Loop(std::stop_token stop);
  void RunOne(const PolicyRecord& p, bool requested, std::stop_token stop);

  Catalog& catalog_;
  EventLog& events_;
  RunFn run_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  bool woken_ = false;               // guarded by mu_
  std::set<std::string> requested_;  // guarded by mu_
  std::string running_;              // guarded by mu_
  std::jthread thread_;
};

}  // namespace cairn::service

#endif  // CAIRN_SERVICE_POLICY_SCHEDULER_H_
