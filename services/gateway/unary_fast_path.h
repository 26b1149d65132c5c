// The data plane's unary methods (serving's GetOnlineFeatures and GetFeastServingInfo under
// both service names, ingestion's Push) on completion queues that the gateway's own threads
// drive: a call is read, authenticated, authorized, forwarded and answered on the thread that
// polled it, and its upstream call completes on the same queue. The generic proxy (proxy.h)
// runs each step as a callback handed between gRPC's threads; on two cores those hand-offs
// (futex wake-ups and context switches) were most of the gateway's CPU per request
// (tools/bench/README.md, "Gateway"). Everything else (streams, the registry, jobs) stays on
// the generic proxy. Same checks, audit line and metadata rules as there (call_gate.h).
//
// A token whose check may wait on the network (an OIDC key fetch, a Kubernetes TokenReview)
// is checked on a thread of its own, so that no queue thread ever waits on one. The queues
// and their threads are the service runtime's (ServiceHost::UseQueues).
#ifndef GRANARY_SERVICES_GATEWAY_UNARY_FAST_PATH_H_
#define GRANARY_SERVICES_GATEWAY_UNARY_FAST_PATH_H_

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/completion_queue.h"
#include "grpcpp/impl/service_type.h"

#include "services/gateway/queue_calls.h"

namespace granary::gateway {

class UnaryFastPath {
 public:
  // The gRPC paths it serves; each is also routed (routes.h), unary, to serving or ingestion.
  static const std::vector<std::string>& Methods();

  explicit UnaryFastPath(std::shared_ptr<QueueCalls> calls);
  ~UnaryFastPath();

  // The service to register (once) before the server starts.
  std::unique_ptr<grpc::Service> TakeService();
  // A call waiting for every method on every queue. The drain is the QueueCalls'.
  void Start(const std::vector<grpc::ServerCompletionQueue*>& queues);

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace granary::gateway

#endif  // GRANARY_SERVICES_GATEWAY_UNARY_FAST_PATH_H_
