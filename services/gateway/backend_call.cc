#include "services/gateway/backend_call.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/grpcpp.h"

#include "libs/base/grpc_status.h"
#include "libs/server/queue_event.h"
#include "services/gateway/byte_buffers.h"

namespace granary::gateway {
namespace {

// Tells the waiting HTTP thread its call ended.
struct Waiter final : server::QueueEvent {
  absl::Notification done;
  void Run(bool) override { done.Notify(); }
};

}  // namespace

absl::StatusOr<std::string> BackendCall::Unary(const std::string& method,
                                               const std::string& request,
                                               const auth::Identity& who, absl::Duration timeout,
                                               const std::string& traceparent, AuditEntry* entry) {
  const Route* route = FindRoute(method);
  if (route == nullptr || route->client_streaming || route->server_streaming) {
    return absl::InternalError(absl::StrCat("no unary route for ", method));
  }
  auto plan = route->plan(request, deps_->authorizer->catalogs());
  if (!plan.ok()) {
    entry->decision = absl::IsUnavailable(plan.status()) ? "unavailable" : "invalid";
    return plan.status();
  }
  for (const Check& check : plan->checks) {
    entry->resources.push_back(absl::StrCat(ActionsOf(check), " ", Describe(check)));
  }
  absl::Status decision = deps_->authorizer->Decide(who, plan->checks);
  if (!decision.ok()) {
    entry->decision = absl::IsPermissionDenied(decision) ? "deny" : "unavailable";
    return decision;
  }
  entry->decision = "allow";

  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(deps_->clock->Now() + timeout));
  context.AddMetadata(auth::kCallerSignatureHeader,
                      deps_->signer->Sign(who, method, deps_->clock->Now()));
  if (!traceparent.empty()) context.AddMetadata("traceparent", traceparent);
  if (!entry->request_id.empty()) context.AddMetadata("x-request-id", entry->request_id);
  grpc::ByteBuffer request_buffer =
      FromString(plan->rewritten.has_value() ? *plan->rewritten : request);
  grpc::ByteBuffer response_buffer;
  grpc::Status status;
  grpc::GenericStub& stub = *deps_->stubs[static_cast<int>(route->upstream)];
  grpc::CompletionQueue* shared = queue_.load();
  if (shared != nullptr && calls_->Enter()) {
    // The runtime's queue thread reads the answer; this thread sleeps until it has. (Dozens of
    // HTTP threads each polling would take turns at gRPC's poller, a wake-up every time.)
    Waiter waiter;
    auto call = stub.PrepareUnaryCall(&context, method, request_buffer, shared);
    call->StartCall();
    call->Finish(&response_buffer, &status, &waiter);
    waiter.done.WaitForNotification();
    calls_->Leave();
  } else {
    // Before the queues exist: a queue of the call's own, polled by this thread.
    grpc::CompletionQueue queue;
    auto call = stub.PrepareUnaryCall(&context, method, request_buffer, &queue);
    call->StartCall();
    call->Finish(&response_buffer, &status, &queue);
    void* tag;
    bool ok;
    queue.Next(&tag, &ok);
    queue.Shutdown();
    while (queue.Next(&tag, &ok)) {
    }
  }
  if (!status.ok()) return base::FromGrpcStatus(status);
  std::string response = Flatten(response_buffer);
  if (route->filter) {
    absl::Status allowed = route->filter(&response, *plan, who, *deps_->authorizer);
    if (!allowed.ok()) {
      entry->decision = "deny";
      return allowed;
    }
  }
  return response;
}

}  // namespace granary::gateway
