// Threads that compute on-demand features, off the online store's I/O threads: a read whose
// replies are in hands its evaluations here, so that costly expressions of one request never
// hold up the replies of others on the same connection. Tasks run in the order scheduled.
// Destroying the pool lets its threads run what is queued and end on their own (they share the
// queue, not the pool): the last owner may be a task running on one of them.
//
//   auto pool = std::make_shared<ComputePool>(2);
//   pool->Schedule([read] { read->Finish(); });
#ifndef GRANARY_SERVICES_SERVING_COMPUTE_POOL_H_
#define GRANARY_SERVICES_SERVING_COMPUTE_POOL_H_

#include <functional>
#include <memory>

namespace granary::serving {

class ComputePool {
 public:
  explicit ComputePool(int threads);
  ~ComputePool();
  ComputePool(const ComputePool&) = delete;
  ComputePool& operator=(const ComputePool&) = delete;

  void Schedule(std::function<void()> task);

 private:
  struct Queue;
  const std::shared_ptr<Queue> queue_;
};

}  // namespace granary::serving

#endif  // GRANARY_SERVICES_SERVING_COMPUTE_POOL_H_
