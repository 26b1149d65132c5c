// One unary call to a backend on behalf of a caller, the way the gRPC proxy makes it: the
// route's checks decided, the identity signed, the route's response filter applied. The HTTP
// routes transcode to the same gRPC methods through this, so both doors enforce one table.
#ifndef GRANARY_SERVICES_GATEWAY_BACKEND_CALL_H_
#define GRANARY_SERVICES_GATEWAY_BACKEND_CALL_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/completion_queue.h"

#include "libs/auth/identity.h"
#include "services/gateway/audit_log.h"
#include "services/gateway/proxy.h"
#include "services/gateway/queue_calls.h"

namespace granary::gateway {

class BackendCall {
 public:
  explicit BackendCall(std::shared_ptr<ProxyDeps> deps) : deps_(std::move(deps)) {}

  // The response bytes. PERMISSION_DENIED (naming the action and object), the backend's own
  // status, or UNAVAILABLE when it cannot be reached. Records the checked resources and the
  // decision in `entry`. `traceparent` (the caller's span) goes to the backend. Blocks (HTTP
  // handlers run on their own threads).
  absl::StatusOr<std::string> Unary(const std::string& method, const std::string& request,
                                    const auth::Identity& who, absl::Duration timeout,
                                    const std::string& traceparent, AuditEntry* entry);

  ProxyDeps& deps() { return *deps_; }

  // The runtime's queue the backend calls are made on from now on (its thread polls the
  // backend's answers; the calling thread only waits for the outcome), each counted among
  // `calls` so that the drain waits for it before the queue is shut down. Until then, and
  // once the drain began, each call polls a queue of its own.
  void UseQueue(grpc::CompletionQueue* queue, std::shared_ptr<QueueCalls> calls) {
    calls_ = std::move(calls);
    queue_.store(queue);
  }

 private:
  std::shared_ptr<ProxyDeps> deps_;
  std::shared_ptr<QueueCalls> calls_;  // set before queue_
  std::atomic<grpc::CompletionQueue*> queue_{nullptr};
};

}  // namespace granary::gateway

#endif  // GRANARY_SERVICES_GATEWAY_BACKEND_CALL_H_
