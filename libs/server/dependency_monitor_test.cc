#include "libs/server/dependency_monitor.h"

#include <atomic>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"

namespace granary::server {
namespace {

using ::testing::HasSubstr;

// Records health changes; tests wait for one with a bounded condition wait.
class Changes {
 public:
  void Record(bool healthy) {
    absl::MutexLock lock(&mu_);
    history_.push_back(healthy);
  }
  bool WaitFor(bool healthy, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto seen = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return !history_.empty() && history_.back() == healthy;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&seen), timeout);
  }
  std::vector<bool> history() {
    absl::MutexLock lock(&mu_);
    return history_;
  }

 private:
  absl::Mutex mu_;
  std::vector<bool> history_ ABSL_GUARDED_BY(mu_);
};

DependencyMonitor::Options Fast() {
  return {.interval = absl::Milliseconds(10),
          .retry = {.initial = absl::Milliseconds(5), .max = absl::Milliseconds(20)}};
}

std::string Scrape(prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

TEST(DependencyMonitorTest, NoDependenciesIsHealthyAtOnce) {
  prometheus::Registry registry;
  Changes changes;
  DependencyMonitor monitor(
      {}, Fast(), [&](bool h) { changes.Record(h); }, registry);
  monitor.Start();
  EXPECT_TRUE(monitor.healthy());
  EXPECT_EQ(changes.history(), std::vector<bool>{true});
}

TEST(DependencyMonitorTest, FollowsABackendDownAndUp) {
  prometheus::Registry registry;
  std::atomic<bool> up{false};
  Changes changes;
  DependencyMonitor monitor(
      {{"redis",
        [&]() -> absl::Status {
          return up ? absl::OkStatus() : absl::UnavailableError("connection refused");
        }}},
      Fast(), [&](bool h) { changes.Record(h); }, registry);
  monitor.Start();
  // The first status is known when Start returns.
  EXPECT_FALSE(monitor.healthy());
  EXPECT_EQ(changes.history(), std::vector<bool>{false});
  EXPECT_THAT(Scrape(registry), HasSubstr("granary_dependency_up{dependency=\"redis\"} 0"));

  up = true;
  ASSERT_TRUE(changes.WaitFor(true, absl::Seconds(10)));
  EXPECT_TRUE(monitor.healthy());
  EXPECT_THAT(Scrape(registry), HasSubstr("granary_dependency_up{dependency=\"redis\"} 1"));

  up = false;
  ASSERT_TRUE(changes.WaitFor(false, absl::Seconds(10)));
  EXPECT_FALSE(monitor.healthy());
  monitor.Stop();
  // Each change is reported once: down, up, down.
  EXPECT_EQ(changes.history(), (std::vector<bool>{false, true, false}));
  EXPECT_THAT(Scrape(registry),
              HasSubstr("granary_dependency_check_failures_total{dependency=\"redis\"}"));
}

TEST(DependencyMonitorTest, HealthyOnlyWhenEveryDependencyIs) {
  prometheus::Registry registry;
  std::atomic<bool> a{true}, b{false};
  Changes changes;
  auto check = [](std::atomic<bool>& flag) {
    return [&flag]() { return flag ? absl::OkStatus() : absl::UnavailableError("down"); };
  };
  DependencyMonitor monitor(
      {{"a", check(a)}, {"b", check(b)}}, Fast(), [&](bool h) { changes.Record(h); }, registry);
  monitor.Start();
  EXPECT_FALSE(monitor.healthy());
  b = true;
  ASSERT_TRUE(changes.WaitFor(true, absl::Seconds(10)));
  a = false;
  ASSERT_TRUE(changes.WaitFor(false, absl::Seconds(10)));
}

TEST(DependencyMonitorTest, OptionalDependenciesAreWatchedButDoNotGateHealth) {
  prometheus::Registry registry;
  Changes changes;
  DependencyMonitor monitor(
      {{"registry", [] { return absl::OkStatus(); }},
       {"materializer", [] { return absl::UnavailableError("down"); }, /*required=*/false}},
      Fast(), [&](bool h) { changes.Record(h); }, registry);
  monitor.Start();
  EXPECT_TRUE(monitor.healthy());
  EXPECT_THAT(Scrape(registry), HasSubstr("granary_dependency_up{dependency=\"materializer\"} 0"));
}

TEST(DependencyMonitorTest, AStuckCheckNeitherFreezesOthersNorBlocksStop) {
  prometheus::Registry registry;
  // Shared: the stuck worker may still be inside this after the test body returns.
  auto release = std::make_shared<absl::Notification>();
  std::atomic<bool> b_up{false};
  absl::Notification b_checked_while_up;
  std::once_flag once;
  Changes changes;
  DependencyMonitor::Options options = Fast();
  options.wait = absl::Milliseconds(200);
  {
    DependencyMonitor monitor(
        {{"stuck",
          [release] {
            release->WaitForNotification();
            return absl::OkStatus();
          }},
         {"b",
          [&] {
            if (!b_up) return absl::UnavailableError("down");
            std::call_once(once, [&] { b_checked_while_up.Notify(); });
            return absl::OkStatus();
          },
          /*required=*/false}},
        options, [&](bool h) { changes.Record(h); }, registry);
    monitor.Start();  // returns after `wait`, counting the silent check as down
    EXPECT_FALSE(monitor.healthy());
    b_up = true;
    // b's own worker keeps going while the other one is stuck.
    ASSERT_TRUE(b_checked_while_up.WaitForNotificationWithTimeout(absl::Seconds(10)));
    // Returns at all: it does not wait for the stuck check (released only after the test).
    monitor.Stop();
  }
  // The stuck worker finishes after the monitor is gone and reports nothing.
  size_t before = changes.history().size();
  release->Notify();
  EXPECT_EQ(changes.history().size(), before);
}

TEST(DependencyMonitorTest, StopIsPromptEvenWithALongInterval) {
  prometheus::Registry registry;
  DependencyMonitor monitor(
      {{"x", [] { return absl::OkStatus(); }}}, {.interval = absl::Hours(1)}, [](bool) {},
      registry);
  monitor.Start();
  absl::Time start = absl::Now();
  monitor.Stop();
  // Long before the hour it would take without being woken (a loose bound, not a timing).
  EXPECT_LT(absl::Now() - start, absl::Minutes(5));
}

}  // namespace
}  // namespace granary::server
