#include "services/serving/compute_pool.h"

#include <algorithm>
#include <deque>
#include <thread>

#include "absl/synchronization/mutex.h"

#include "libs/base/thread_name.h"

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
    std::thread([queue = queue_] {
      base::NameThisThread("compute");
      queue->Work();
    }).detach();
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

}  // namespace granary::serving
