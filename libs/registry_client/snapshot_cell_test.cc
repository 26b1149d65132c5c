#include "libs/registry_client/snapshot_cell.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace granary::registry_client {
namespace {

TEST(SnapshotCellTest, EmptyThenSetThenReplaced) {
  SnapshotCell<int> cell;
  EXPECT_EQ(cell.Get(), nullptr);
  cell.Set(std::make_shared<const int>(1));
  EXPECT_EQ(*cell.Get(), 1);
  EXPECT_EQ(*cell.Get(), 1);  // from the thread's copy
  cell.Set(std::make_shared<const int>(2));
  EXPECT_EQ(*cell.Get(), 2);
  cell.Set(nullptr);
  EXPECT_EQ(cell.Get(), nullptr);
}

TEST(SnapshotCellTest, ManyCellsPerThreadDoNotMixUpAndStayLockFree) {
  std::vector<std::unique_ptr<SnapshotCell<int>>> cells;
  for (int i = 0; i < 50; ++i) {
    cells.push_back(std::make_unique<SnapshotCell<int>>());
    cells.back()->Set(std::make_shared<const int>(i));
  }
  for (int i = 0; i < 50; ++i) EXPECT_EQ(*cells[i]->Get(), i);  // first reads take the lock
  uint64_t locked = LockedReadsOnThisThread();
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 50; ++i) EXPECT_EQ(*cells[i]->Get(), i);
  }
  EXPECT_EQ(LockedReadsOnThisThread(), locked);  // every later read was lock-free
  cells[7]->Set(std::make_shared<const int>(700));
  EXPECT_EQ(*cells[7]->Get(), 700);
  EXPECT_EQ(LockedReadsOnThisThread(), locked + 1);  // once, for the changed cell
}

TEST(SnapshotCellTest, ReadersAlwaysSeeAWholeValueAndEventuallyTheLast) {
  struct Pair {
    int a, b;  // always equal: a torn read would show a != b
  };
  SnapshotCell<Pair> cell;
  cell.Set(std::make_shared<const Pair>(Pair{0, 0}));
  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!done) {
        std::shared_ptr<const Pair> p = cell.Get();
        if (p->a != p->b) ++torn;
      }
      EXPECT_EQ(cell.Get()->a, 10000);
    });
  }
  for (int i = 1; i <= 10000; ++i) cell.Set(std::make_shared<const Pair>(Pair{i, i}));
  done = true;
  for (auto& r : readers) r.join();
  EXPECT_EQ(torn, 0);
}

}  // namespace
}  // namespace granary::registry_client
