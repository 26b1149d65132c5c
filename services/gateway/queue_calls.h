// What the gateway's calls on completion queues (the generic proxy and the unary fast path)
// share: their dependencies, a few threads for the checks that may wait on the network (so
// that no queue thread ever does), and the count of calls alive, which the drain waits on
// before the queues are shut down.
#ifndef GRANARY_SERVICES_GATEWAY_QUEUE_CALLS_H_
#define GRANARY_SERVICES_GATEWAY_QUEUE_CALLS_H_

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/alarm.h"
#include "grpcpp/completion_queue.h"

#include "services/gateway/proxy.h"

namespace granary::gateway {

class QueueCalls {
 public:
  explicit QueueCalls(std::shared_ptr<ProxyDeps> deps, int waiting_threads = 2);
  ~QueueCalls();

  ProxyDeps& deps() { return *deps_; }

  // A call is made (true) or not, because the drain began (false). No lock: every call
  // passes here.
  bool Enter();
  void Leave();
  // Runs `work` on a thread that may wait (a key fetch, a TokenReview, a catalog's first
  // load), skipped once `*abandoned` (the call was cancelled meanwhile), then brings the call
  // back to its queue: `alarm` posts `tag` there. False, and nothing runs and no tag comes,
  // when kMaxWaiting pieces of work are queued already (the caller refuses UNAVAILABLE rather
  // than queue without bound).
  bool RunWaiting(std::function<void()> work, const std::atomic<bool>* abandoned,
                  grpc::Alarm* alarm, grpc::CompletionQueue* queue, void* tag);
  static constexpr size_t kMaxWaiting = 1000;
  // No call is made from now on; returns once every call alive has ended. The server must have
  // stopped taking calls (its waiting requests then come back refused). Idempotent.
  void Drain();

 private:
  void WaitingLoop();

  std::shared_ptr<ProxyDeps> deps_;
  std::atomic<int> live_{0};
  std::atomic<bool> draining_{false};
  absl::Mutex mu_;  // the drain's wait, and the waiting work
  std::deque<std::function<void()>> waiting_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace granary::gateway

#endif  // GRANARY_SERVICES_GATEWAY_QUEUE_CALLS_H_
