#include "libs/server/caller_check.h"

#include "absl/strings/str_cat.h"
#include "grpcpp/server_context.h"

#include "libs/base/grpc_status.h"

namespace granary::server {

std::string MethodPath(absl::string_view service, absl::string_view method) {
  return absl::StrCat("/", service, "/", method);
}

CallerCheck::CallerCheck(const GatewaySignatureConfig& config, const base::Clock& clock)
    : required_(config.required), clock_(&clock) {
  if (!config.secret.empty()) verifier_.emplace(config.secret, config.leeway);
}

absl::StatusOr<auth::Identity> CallerCheck::Verify(const grpc::ServerContextBase& ctx,
                                                   absl::string_view service,
                                                   absl::string_view method) const {
  if (!verifier_.has_value()) {
    // Fails closed: ReadServerConfig insists on a secret whenever one is required.
    return absl::UnauthenticatedError("gateway signature: no secret configured to verify it");
  }
  const auto& metadata = ctx.client_metadata();
  auto it = metadata.find(auth::kCallerSignatureHeader);
  absl::string_view header = it == metadata.end()
                                 ? absl::string_view()
                                 : absl::string_view(it->second.data(), it->second.size());
  return verifier_->Verify(header, MethodPath(service, method), clock_->Now());
}

grpc::Status CallerCheck::Check(const grpc::ServerContextBase& ctx, absl::string_view service,
                                absl::string_view method) const {
  if (!required_) return grpc::Status::OK;
  absl::StatusOr<auth::Identity> who = Verify(ctx, service, method);
  return who.ok() ? grpc::Status::OK : base::ToGrpcStatus(who.status());
}

absl::StatusOr<std::string> CallerCheck::CallerUser(const grpc::ServerContextBase& ctx,
                                                    absl::string_view service,
                                                    absl::string_view method) const {
  if (!required_ && !verifier_.has_value()) return base::CallerName(ctx);
  absl::StatusOr<auth::Identity> who = Verify(ctx, service, method);
  if (who.ok()) return who->user.empty() ? std::string("anonymous") : std::move(who->user);
  if (required_) return who.status();
  // Optional and not (validly) signed: the unsigned name, as without a secret.
  return base::CallerName(ctx);
}

}  // namespace granary::server
