// Forwards every routed gRPC method the unary fast path does not take (the registry, jobs,
// dead letters, and every stream) as bytes: an async generic service in front, a generic
// stub behind, both on the completion queues the service runtime drives. The first request
// message is decoded only as far as authorization needs (routes.h), and each later one of a
// client stream too (a PushStream is checked batch by batch); deadlines, cancellation,
// metadata both ways and streams in either direction pass through; the caller's identity
// reaches the backend signed. Each call ends with one audit line.
#ifndef GRANARY_SERVICES_GATEWAY_GENERIC_PROXY_H_
#define GRANARY_SERVICES_GATEWAY_GENERIC_PROXY_H_

#include <memory>
#include <vector>

#include "grpcpp/completion_queue.h"
#include "grpcpp/generic/async_generic_service.h"

#include "services/gateway/queue_calls.h"

namespace granary::gateway {

class GenericProxy {
 public:
  explicit GenericProxy(std::shared_ptr<QueueCalls> calls);
  ~GenericProxy();

  // The service to register (once) before the server starts.
  std::unique_ptr<grpc::AsyncGenericService> TakeService();
  // A call waiting on every queue. The drain is the QueueCalls'.
  void Start(const std::vector<grpc::ServerCompletionQueue*>& queues);

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace granary::gateway

#endif  // GRANARY_SERVICES_GATEWAY_GENERIC_PROXY_H_
