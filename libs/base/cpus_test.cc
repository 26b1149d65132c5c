#include "libs/base/cpus.h"

#include <sched.h>

#include <thread>

#include "gtest/gtest.h"

namespace granary::base {
namespace {

TEST(UsableCpus, FollowsTheAffinityMaskNotTheHost) {
  cpu_set_t all;
  ASSERT_EQ(sched_getaffinity(0, sizeof(all), &all), 0);
  EXPECT_LE(UsableCpus(), CPU_COUNT(&all));  // a cgroup quota may lower it
  EXPECT_GE(UsableCpus(), 1);

  // A thread narrowed to one CPU sees one, whatever the host has.
  int seen = 0;
  std::thread narrowed([&] {
    cpu_set_t one;
    CPU_ZERO(&one);
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &all)) {
        CPU_SET(cpu, &one);
        break;
      }
    }
    if (sched_setaffinity(0, sizeof(one), &one) == 0) seen = UsableCpus();
  });
  narrowed.join();
  EXPECT_EQ(seen, 1);
}

}  // namespace
}  // namespace granary::base
