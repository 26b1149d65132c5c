#include "libs/base/periodic.h"

#include <atomic>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace granary::base {
namespace {

// An interval no test waits for: a pass that runs did so because it was woken.
constexpr absl::Duration kNever = absl::Hours(1);

TEST(PeriodicTest, WakeRunsAPassWithoutWaitingForTheInterval) {
  absl::Notification ran;
  Periodic p("test", kNever, [&] {
    if (!ran.HasBeenNotified()) ran.Notify();
    return absl::OkStatus();
  });
  p.Start();
  p.Wake();
  EXPECT_TRUE(ran.WaitForNotificationWithTimeout(absl::Seconds(30)));
}

TEST(PeriodicTest, RepeatsEveryIntervalAndKeepsGoingAfterAFailure) {
  std::atomic<int> passes{0};
  absl::Notification three;
  Periodic p("test", absl::Milliseconds(5), [&] {
    if (++passes == 3) three.Notify();
    return absl::UnavailableError("down");  // a failing pass is retried, not the end
  });
  p.Start();
  EXPECT_TRUE(three.WaitForNotificationWithTimeout(absl::Seconds(30)));
}

TEST(PeriodicTest, StopReturnsOnlyAfterThePassInProgressFinished) {
  absl::Notification in_pass;
  std::atomic<bool> finished{false};
  Periodic* periodic = nullptr;
  Periodic p("test", kNever, [&] {
    in_pass.Notify();
    // The pass outlives the call to Stop: it ends only once Stop was called.
    while (!periodic->stopping()) absl::SleepFor(absl::Milliseconds(1));
    finished = true;
    return absl::OkStatus();
  });
  periodic = &p;
  p.Start();
  p.Wake();
  ASSERT_TRUE(in_pass.WaitForNotificationWithTimeout(absl::Seconds(30)));
  p.Stop();
  EXPECT_TRUE(finished);
}

TEST(PeriodicTest, StartAfterStopResumes) {
  absl::Notification ran;
  Periodic p("test", kNever, [&] {
    if (!ran.HasBeenNotified()) ran.Notify();
    return absl::OkStatus();
  });
  p.Start();
  p.Stop();
  p.Start();
  p.Wake();
  EXPECT_TRUE(ran.WaitForNotificationWithTimeout(absl::Seconds(30)));
}

}  // namespace
}  // namespace granary::base
