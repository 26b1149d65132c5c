#include "tools/bench/proc_threads.h"

#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <thread>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace granary::bench {
namespace {

using ::testing::HasSubstr;

TEST(ProcThreadsTest, AThreadThatRanShowsUnderItsName) {
  ThreadCounts before = ThreadsOf();
  std::atomic<bool> stop{false};
  std::thread spinner([&] {
    pthread_setname_np(pthread_self(), "spinner");
    // Until the kernel has charged it at least one clock tick of CPU.
    while (!stop.load()) {
    }
  });
  ThreadCounts during;
  for (absl::Time give_up = absl::Now() + absl::Seconds(30); absl::Now() < give_up;) {
    during = ThreadsOf();
    if (during["spinner"].cpu > absl::ZeroDuration()) break;
    std::this_thread::yield();
  }
  stop.store(true);
  spinner.join();
  EXPECT_EQ(before.count("spinner"), 0u);
  ASSERT_EQ(during["spinner"].threads, 1);
  EXPECT_GT(during["spinner"].cpu, absl::ZeroDuration());
  EXPECT_THAT(PerRequest(before, during, 1), HasSubstr("spinner x1: "));
  // With the time it waited for a CPU (schedstat), which this kernel keeps.
  EXPECT_THAT(PerRequest(before, during, 1), HasSubstr(" switches, waited "));
}

TEST(ProcThreadsTest, PinningMovesEveryThreadAndLaterOnesInherit) {
  cpu_set_t original;
  ASSERT_EQ(sched_getaffinity(0, sizeof(original), &original), 0);
  int cpu = 0;
  while (!CPU_ISSET(cpu, &original)) ++cpu;
  // A thread already running when the process is pinned, and one started after.
  std::atomic<bool> pinned{false};
  cpu_set_t in_running, in_later;
  std::thread running([&] {
    while (!pinned.load()) std::this_thread::yield();
    sched_getaffinity(0, sizeof(in_running), &in_running);
  });
  ASSERT_TRUE(PinToCpu(0, cpu).ok());
  pinned.store(true);
  running.join();
  std::thread later([&] { sched_getaffinity(0, sizeof(in_later), &in_later); });
  later.join();
  for (const cpu_set_t* seen : {&in_running, &in_later}) {
    EXPECT_EQ(CPU_COUNT(seen), 1);
    EXPECT_TRUE(CPU_ISSET(cpu, seen));
  }
  ASSERT_EQ(sched_setaffinity(0, sizeof(original), &original), 0);
}

}  // namespace
}  // namespace granary::bench
