#include "libs/server/dependency_monitor.h"

#include "absl/time/clock.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"

#include "libs/base/log.h"

namespace granary::server {

struct DependencyMonitor::Watched {
  Dependency dependency;
  base::Backoff backoff;
  bool up = false;
  bool checked = false;
  absl::Time next_check = absl::InfinitePast();
  prometheus::Gauge* up_gauge;
  prometheus::Counter* failures;
};

DependencyMonitor::DependencyMonitor(std::vector<Dependency> dependencies, Options options,
                                     std::function<void(bool)> on_change,
                                     prometheus::Registry& metrics)
    : options_(options), on_change_(std::move(on_change)) {
  auto& up = prometheus::BuildGauge()
                 .Name("granary_dependency_up")
                 .Help("1 while the backend answers its health check, else 0.")
                 .Register(metrics);
  auto& failures = prometheus::BuildCounter()
                       .Name("granary_dependency_check_failures_total")
                       .Help("Failed health checks of a backend.")
                       .Register(metrics);
  for (Dependency& d : dependencies) {
    auto w = std::make_unique<Watched>(Watched{
        .dependency = std::move(d),
        .backoff = base::Backoff(options_.retry),
    });
    w->up_gauge = &up.Add({{"dependency", w->dependency.name}});
    w->failures = &failures.Add({{"dependency", w->dependency.name}});
    watched_.push_back(std::move(w));
  }
}

DependencyMonitor::~DependencyMonitor() { Stop(); }

void DependencyMonitor::Start() {
  CheckDue(absl::Now());
  Publish();
  thread_ = std::thread([this] { Loop(); });
}

void DependencyMonitor::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

bool DependencyMonitor::healthy() const {
  absl::MutexLock lock(&mu_);
  return healthy_;
}

absl::Time DependencyMonitor::CheckDue(absl::Time now) {
  absl::Time next = now + options_.interval;
  for (auto& w : watched_) {
    if (w->next_check <= now) {
      absl::Status s = w->dependency.check();
      bool was_up = w->up;
      w->up = s.ok();
      if (s.ok()) {
        w->backoff.Reset();
        w->next_check = absl::Now() + options_.interval;
        if (!was_up) base::LogInfo("dependency up").With("dependency", w->dependency.name);
      } else {
        w->failures->Increment();
        w->next_check = absl::Now() + w->backoff.Next();
        // Log the transition, then only every tenth failure: an outage is not a log flood.
        if (was_up || !w->checked || w->backoff.attempts() % 10 == 0) {
          base::LogWarning("dependency down")
              .With("dependency", w->dependency.name)
              .With("error", s)
              .With("failures", w->backoff.attempts());
        }
      }
      w->checked = true;
      w->up_gauge->Set(w->up ? 1 : 0);
    }
    next = std::min(next, w->next_check);
  }
  return next;
}

void DependencyMonitor::Publish() {
  bool all_up = true;
  for (auto& w : watched_) all_up = all_up && (w->up || !w->dependency.required);
  bool changed;
  {
    absl::MutexLock lock(&mu_);
    changed = !published_ || healthy_ != all_up;
    healthy_ = all_up;
    published_ = true;
  }
  if (changed) on_change_(all_up);
}

void DependencyMonitor::Loop() {
  absl::Time next = absl::Now() + options_.interval;
  for (auto& w : watched_) next = std::min(next, w->next_check);
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      // Wakes early only to stop.
      if (mu_.AwaitWithDeadline(absl::Condition(&stopping_), next)) return;
    }
    next = CheckDue(absl::Now());
    Publish();
  }
}

}  // namespace granary::server
