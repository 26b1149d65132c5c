// The one place where absl::Status becomes grpc::Status and back. Handlers return
// ToGrpcStatus(domain_call()); clients turn a failed RPC into absl::Status with FromGrpcStatus.
#ifndef GRANARY_LIBS_BASE_GRPC_STATUS_H_
#define GRANARY_LIBS_BASE_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"

namespace grpc {
class ClientContext;
class ServerContextBase;
}  // namespace grpc

namespace granary::base {

// Same code and message. UNKNOWN never leaves a Granary service: it becomes INTERNAL, so that a
// caller always gets a code that means something.
grpc::Status ToGrpcStatus(const absl::Status& status);

// A handler's answer: the domain result copied into the response, or its error converted.
template <typename T>
grpc::Status Reply(absl::StatusOr<T> result, T* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

// Same code and message.
absl::Status FromGrpcStatus(const grpc::Status& status);
// Same, with the retry hint the server's trailing metadata carried (AddRetryPushback), if any,
// as the status's RetryAfter (retry_after.h).
absl::Status FromGrpcStatus(const grpc::Status& status, const grpc::ClientContext& context);

// The status's retry hint (retry_after.h), if any, as the trailing metadata
// "grpc-retry-pushback-ms", which gRPC clients with a retry policy honour.
void AddRetryPushback(const absl::Status& status, grpc::ServerContextBase* context);

// Who made a call, as the gateway names them in the "x-granary-caller" metadata; "anonymous"
// when none did (a direct call).
std::string CallerName(const grpc::ServerContextBase& context);

// "OK", "INVALID_ARGUMENT", ... for a gRPC status code number (metric labels, CLI output).
absl::string_view StatusCodeName(int code);

}  // namespace granary::base

#endif  // GRANARY_LIBS_BASE_GRPC_STATUS_H_
