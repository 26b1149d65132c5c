#include "services/serving/compute_pool.h"

#include <sched.h>

#include <algorithm>
#include <deque>
#include <thread>

#include "absl/synchronization/mutex.h"

namespace granary::serving {

struct ComputePool::Queue {
  absl::Mutex mu;
  std::deque<std::function<void()>> tasks ABSL_GUARDED_BY(mu);
  bool stopping ABSL_GUARDED_BY(mu) = false;

  void Work() {
    while (true) {
      std::function<void()> task;
      {
        absl::MutexLock lock(&mu);
        auto ready = [this]()
                         ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return stopping || !tasks.empty(); };
        mu.Await(absl::Condition(&ready));
        if (tasks.empty()) return;  // stopping, and nothing left to run
        task = std::move(tasks.front());
        tasks.pop_front();
      }
      task();
    }
  }
};

ComputePool::ComputePool(int threads) : queue_(std::make_shared<Queue>()) {
  for (int i = 0; i < std::max(1, threads); ++i) {
    std::thread([queue = queue_] { queue->Work(); }).detach();
  }
}

ComputePool::~ComputePool() {
  absl::MutexLock lock(&queue_->mu);
  queue_->stopping = true;
}

void ComputePool::Schedule(std::function<void()> task) {
  absl::MutexLock lock(&queue_->mu);
  queue_->tasks.push_back(std::move(task));
}

int ComputePool::AvailableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  return std::max(1, CPU_COUNT(&set));
}

}  // namespace granary::serving
