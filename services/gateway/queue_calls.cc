#include "services/gateway/queue_calls.h"

#include <utility>

namespace granary::gateway {

QueueCalls::QueueCalls(std::shared_ptr<ProxyDeps> deps, int waiting_threads)
    : deps_(std::move(deps)) {
  for (int i = 0; i < waiting_threads; ++i) threads_.emplace_back([this] { WaitingLoop(); });
}

QueueCalls::~QueueCalls() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& thread : threads_) thread.join();
}

bool QueueCalls::Enter() {
  live_.fetch_add(1);
  if (!draining_.load()) return true;
  Leave();
  return false;
}

void QueueCalls::Leave() {
  if (live_.fetch_sub(1) == 1 && draining_.load()) {
    // The drain may be waiting for this one: wake it (under the lock it waits with).
    absl::MutexLock lock(&mu_);
  }
}

bool QueueCalls::RunWaiting(std::function<void()> work, const std::atomic<bool>* abandoned,
                            grpc::Alarm* alarm, grpc::CompletionQueue* queue, void* tag) {
  absl::MutexLock lock(&mu_);
  if (waiting_.size() >= kMaxWaiting) return false;
  waiting_.push_back([work = std::move(work), abandoned, alarm, queue, tag] {
    if (!abandoned->load()) work();
    alarm->Set(queue, gpr_now(GPR_CLOCK_MONOTONIC), tag);
  });
  return true;
}

void QueueCalls::Drain() {
  draining_.store(true);
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](std::atomic<int>* live) { return live->load() == 0; }, &live_));
}

void QueueCalls::WaitingLoop() {
  for (;;) {
    std::function<void()> work;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](QueueCalls* self) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return self->stopping_ || !self->waiting_.empty();
          },
          this));
      if (waiting_.empty()) return;
      work = std::move(waiting_.front());
      waiting_.pop_front();
    }
    work();
  }
}

}  // namespace granary::gateway
