#include "libs/server/dependency_monitor.h"

#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"

#include "libs/base/log.h"
#include "libs/base/thread_name.h"

namespace granary::server {

// Shared by the monitor and its workers: a worker stuck in a check may outlive the monitor.
struct DependencyMonitor::State {
  Options options;
  std::function<void(bool)> on_change;
  absl::Mutex mu;
  bool stopping ABSL_GUARDED_BY(mu) = false;
  bool healthy ABSL_GUARDED_BY(mu) = false;
  bool published ABSL_GUARDED_BY(mu) = false;
  int first_round_pending ABSL_GUARDED_BY(mu) = 0;
  std::vector<std::shared_ptr<Watched>> watched;  // fixed after construction

  // Recomputes overall health and reports a change. Called with mu held.
  void Publish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
};

struct DependencyMonitor::Watched {
  Dependency dependency;
  prometheus::Gauge* up_gauge = nullptr;
  prometheus::Counter* failures = nullptr;
  bool up = false;  // guarded by State::mu
  absl::Notification exited;
};

void DependencyMonitor::State::Publish() {
  if (first_round_pending > 0 || stopping) return;
  bool all_up = true;
  for (const auto& w : watched) all_up = all_up && (w->up || !w->dependency.required);
  if (published && healthy == all_up) return;
  healthy = all_up;
  published = true;
  // Under mu: changes are reported one at a time, in order, and never after Stop.
  on_change(all_up);
}

DependencyMonitor::DependencyMonitor(std::vector<Dependency> dependencies, Options options,
                                     std::function<void(bool)> on_change,
                                     prometheus::Registry& metrics)
    : state_(std::make_shared<State>()) {
  state_->options = options;
  state_->on_change = std::move(on_change);
  auto& up = prometheus::BuildGauge()
                 .Name("granary_dependency_up")
                 .Help("1 while the backend answers its health check, else 0.")
                 .Register(metrics);
  auto& failures = prometheus::BuildCounter()
                       .Name("granary_dependency_check_failures_total")
                       .Help("Failed health checks of a backend.")
                       .Register(metrics);
  for (Dependency& d : dependencies) {
    auto w = std::make_shared<Watched>();
    w->up_gauge = &up.Add({{"dependency", d.name}});
    w->failures = &failures.Add({{"dependency", d.name}});
    w->dependency = std::move(d);
    watched_.push_back(w);
  }
  state_->watched = watched_;
}

DependencyMonitor::~DependencyMonitor() { Stop(); }

void DependencyMonitor::Work(std::shared_ptr<State> state, std::shared_ptr<Watched> w) {
  base::Backoff backoff(state->options.retry);
  bool first = true;
  while (true) {
    absl::Status s = w->dependency.check();
    absl::Duration wait;
    {
      absl::MutexLock lock(&state->mu);
      if (state->stopping) break;
      bool was_up = w->up;
      w->up = s.ok();
      w->up_gauge->Set(s.ok() ? 1 : 0);
      if (s.ok()) {
        backoff.Reset();
        wait = state->options.interval;
        if (!was_up) base::LogInfo("dependency up").With("dependency", w->dependency.name);
      } else {
        w->failures->Increment();
        wait = backoff.Next();
        // The first failure, then every tenth: an outage is not a log flood.
        if (was_up || first || backoff.attempts() % 10 == 0) {
          base::LogWarning("dependency down")
              .With("dependency", w->dependency.name)
              .With("error", s)
              .With("failures", backoff.attempts());
        }
      }
      if (first) --state->first_round_pending;
      first = false;
      state->Publish();
      // Sleeps until the next check, waking early only to stop.
      if (state->mu.AwaitWithTimeout(absl::Condition(&state->stopping), wait)) break;
    }
  }
  w->exited.Notify();
}

void DependencyMonitor::Start() {
  {
    absl::MutexLock lock(&state_->mu);
    state_->first_round_pending = static_cast<int>(watched_.size());
  }
  for (const auto& w : watched_) {
    std::thread([state = state_, w] {
      base::NameThisThread("dependency-chk");
      Work(state, w);
    }).detach();
  }
  absl::MutexLock lock(&state_->mu);
  auto first_round_done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_->mu) {
    return state_->first_round_pending == 0;
  };
  if (!state_->mu.AwaitWithTimeout(absl::Condition(&first_round_done), state_->options.wait)) {
    // A check is stuck: report what is known, counting the silent ones as down.
    state_->first_round_pending = 0;
  }
  state_->Publish();
}

void DependencyMonitor::Stop() {
  {
    absl::MutexLock lock(&state_->mu);
    if (state_->stopping) return;
    state_->stopping = true;
  }
  for (const auto& w : watched_) {
    // A worker stuck inside a check is left behind; it owns what it touches and reports
    // nothing once stopping is set.
    if (!w->exited.WaitForNotificationWithTimeout(state_->options.wait)) {
      base::LogWarning("dependency check still running at stop")
          .With("dependency", w->dependency.name);
    }
  }
}

bool DependencyMonitor::healthy() const {
  absl::MutexLock lock(&state_->mu);
  return state_->healthy;
}

}  // namespace granary::server
