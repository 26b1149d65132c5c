// grpc.health.v1 (Check and Watch) served on the completion queues a service runtime drives
// (ServiceHost::UseQueues), for services that keep gRPC's callback machinery out of their
// process: gRPC's own health service is callback-based, and its threads alone doubled the
// CPU per call of a completion-queue server on two cores (tools/bench/README.md).
//
// Same answers as gRPC's: Check says SERVING / NOT_SERVING, NOT_FOUND for a service it does
// not know; Watch sends the status at once (SERVICE_UNKNOWN for an unknown service) and again
// on every change. Thread-safe.
#ifndef GRANARY_LIBS_SERVER_QUEUE_HEALTH_H_
#define GRANARY_LIBS_SERVER_QUEUE_HEALTH_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/completion_queue.h"

namespace granary::server {

class QueueHealth {
 public:
  using Status = grpc::health::v1::HealthCheckResponse::ServingStatus;

  QueueHealth() = default;
  QueueHealth(const QueueHealth&) = delete;
  QueueHealth& operator=(const QueueHealth&) = delete;

  // To register with the server before it starts.
  grpc::Service* service() { return &async_; }
  // A Check and a Watch waiting on every queue.
  void Start(const std::vector<grpc::ServerCompletionQueue*>& queues);

  // "" is the server as a whole.
  void Set(const std::string& service, bool serving);
  // NOT_SERVING everywhere, and Set changes nothing from now on (the drain has begun).
  void Shutdown();
  // Ends every Watch stream (UNAVAILABLE: the server is going away), so that the server's
  // shutdown does not wait its whole timeout for streams that never end by themselves.
  void EndWatches();
  // Once the server stopped taking calls: returns when every call of this service has ended,
  // after which its queues may be shut down.
  void Quiesce();

  class Watcher;
  class Checker;

 private:
  friend class Watcher;
  friend class Checker;

  Status StatusOf(const std::string& service) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Spawn(grpc::ServerCompletionQueue* queue, bool watch);
  void Ended();

  grpc::health::v1::Health::AsyncService async_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Status> statuses_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<Watcher*> watchers_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  bool ending_watches_ ABSL_GUARDED_BY(mu_) = false;
  bool quiescing_ ABSL_GUARDED_BY(mu_) = false;
  int live_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace granary::server

#endif  // GRANARY_LIBS_SERVER_QUEUE_HEALTH_H_
