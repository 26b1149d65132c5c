// The gRPC adapter of the serving service, served twice: as granary.serving.v1.ServingService
// and as feast.serving.ServingService (Feast's own name, for Feast clients), with the same
// handlers. Both are raw async methods on completion queues that the service runtime drives
// on its own threads (ServiceHost::UseQueues), not gRPC's callback API: on two cores the
// callback threads, taking turns at the poller, cost about as much CPU again as the call
// itself and added wake-ups to every request (tools/bench/README.md, "Serving").
//
// A call is taken from its queue, its caller checked (server.gateway_signature), its request
// parsed onto a per-call arena and the read started. When the queue thread had waited for the
// call (nothing else ready on its queue, server::QueueWasIdle), the read may be done on that
// thread if Redis is idle (serving.read_on_request_thread): about two wake-ups per request
// instead of four at low rates. Otherwise it goes to the online store's I/O thread, so that
// the queue thread moves on and concurrent reads share round trips. The thread that completes
// the read (the queue thread, the I/O thread, or a compute thread for on-demand features)
// finishes the call with the bytes OnlineReader wrote, and the call is freed when gRPC hands
// the finish back to its queue.
//
//   auto adapter = std::make_shared<ServingGrpc>(reader, host.callers());
//   for (auto& [service, name] : adapter->TakeServices()) host.AddAsyncService(..., name);
//   host.UseQueues(threads, [adapter](const auto& queues) { adapter->Start(queues); });
//   host.OnStop([adapter] { adapter->Drain(); });
#ifndef GRANARY_SERVICES_SERVING_SERVING_GRPC_H_
#define GRANARY_SERVICES_SERVING_SERVING_GRPC_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "grpcpp/completion_queue.h"
#include "grpcpp/impl/service_type.h"

#include "libs/server/caller_check.h"
#include "services/serving/online_reader.h"

namespace granary::serving {

class ServingGrpc {
 public:
  ServingGrpc(std::shared_ptr<OnlineReader> reader, server::CallerCheck callers);
  ~ServingGrpc();

  // The services to register (once, before the server starts), with their full names.
  std::vector<std::pair<std::unique_ptr<grpc::Service>, std::string>> TakeServices();
  // Waits for a call of every method on every queue.
  void Start(const std::vector<grpc::ServerCompletionQueue*>& queues);
  // Returns once every call has ended: the server must have stopped taking calls (its
  // Shutdown hands the calls still waiting for a request back, not ok).
  void Drain();

  class Shared;

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace granary::serving

#endif  // GRANARY_SERVICES_SERVING_SERVING_GRPC_H_
