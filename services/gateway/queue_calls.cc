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
  absl::MutexLock lock(&mu_);
  if (draining_) return false;
  ++live_;
  return true;
}

void QueueCalls::Leave() {
  absl::MutexLock lock(&mu_);
  --live_;
}

void QueueCalls::RunWaiting(std::function<void()> work) {
  absl::MutexLock lock(&mu_);
  waiting_.push_back(std::move(work));
}

void QueueCalls::Drain() {
  absl::MutexLock lock(&mu_);
  draining_ = true;
  mu_.Await(absl::Condition(
      +[](int* live) { return *live == 0; }, &live_));
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
