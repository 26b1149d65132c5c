#include "libs/base/grpc_status.h"

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/client_context.h"
#include "grpcpp/server_context.h"

#include "libs/base/retry_after.h"

namespace granary::base {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  auto code = static_cast<grpc::StatusCode>(status.code());
  if (status.code() == absl::StatusCode::kUnknown) code = grpc::StatusCode::INTERNAL;
  return grpc::Status(code, std::string(status.message()));
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

absl::Status FromGrpcStatus(const grpc::Status& status, const grpc::ClientContext& context) {
  absl::Status out = FromGrpcStatus(status);
  const auto& trailers = context.GetServerTrailingMetadata();
  auto hint = trailers.find("grpc-retry-pushback-ms");
  int64_t ms = 0;
  if (!out.ok() && hint != trailers.end() &&
      absl::SimpleAtoi(absl::string_view(hint->second.data(), hint->second.size()), &ms) &&
      ms >= 0) {
    out = WithRetryAfter(std::move(out), absl::Milliseconds(ms));
  }
  return out;
}

void AddRetryPushback(const absl::Status& status, grpc::ServerContextBase* context) {
  if (std::optional<absl::Duration> after = RetryAfter(status)) {
    context->AddTrailingMetadata("grpc-retry-pushback-ms",
                                 absl::StrCat(absl::ToInt64Milliseconds(*after)));
  }
}

absl::string_view StatusCodeName(int code) {
  static constexpr absl::string_view kNames[] = {
      "OK",
      "CANCELLED",
      "UNKNOWN",
      "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED",
      "NOT_FOUND",
      "ALREADY_EXISTS",
      "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION",
      "ABORTED",
      "OUT_OF_RANGE",
      "UNIMPLEMENTED",
      "INTERNAL",
      "UNAVAILABLE",
      "DATA_LOSS",
      "UNAUTHENTICATED",
  };
  if (code < 0 || code >= static_cast<int>(std::size(kNames))) return "INVALID_CODE";
  return kNames[code];
}

std::string CallerName(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("x-granary-caller");
  if (it == metadata.end() || it->second.empty()) return "anonymous";
  return std::string(it->second.data(), it->second.size());
}

}  // namespace granary::base
