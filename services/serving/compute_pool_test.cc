#include "services/serving/compute_pool.h"

#include <atomic>
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace granary::serving {
namespace {

TEST(ComputePoolTest, OneThreadRunsTasksInTheOrderScheduled) {
  ComputePool pool(1);
  absl::Mutex mu;
  std::vector<int> order;
  absl::Notification last;
  for (int i = 0; i < 100; ++i) {
    pool.Schedule([&, i] {
      absl::MutexLock lock(&mu);
      order.push_back(i);
      if (i == 99) last.Notify();
    });
  }
  last.WaitForNotification();
  absl::MutexLock lock(&mu);
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
}

TEST(ComputePoolTest, WhatIsQueuedRunsAfterThePoolIsGoneAndALastOwnerMayBeATask) {
  auto pool = std::make_shared<ComputePool>(2);
  std::atomic<int> ran{0};
  absl::Notification gate, done, all;
  auto run = [&] {
    if (++ran == 12) all.Notify();
  };
  // Both threads wait at the gate while more is queued behind them.
  for (int i = 0; i < 2; ++i) {
    pool->Schedule([&] {
      gate.WaitForNotification();
      run();
    });
  }
  for (int i = 0; i < 10; ++i) pool->Schedule(run);
  // The last task holds the last reference: the pool is destroyed on its own thread.
  pool->Schedule([&, keep = pool]() mutable {
    keep.reset();
    done.Notify();
  });
  pool.reset();
  gate.Notify();
  done.WaitForNotification();
  all.WaitForNotification();
  EXPECT_EQ(ran.load(), 12);
}

}  // namespace
}  // namespace granary::serving
