#include "services/gateway/call_gate.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "libs/auth/caller_signature.h"
#include "libs/base/grpc_status.h"
#include "libs/trace/trace_context.h"
#include "services/gateway/catalog_objects.h"

namespace granary::gateway {
namespace {

constexpr size_t kMaxAuditResources = 20;

Refusal RateLimited(absl::Duration wait, const std::string& why) {
  int64_t seconds = RetryAfterSeconds(wait);
  return {grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                       absl::StrCat(why, "; retry in ", seconds, "s")),
          "rate_limited", seconds};
}

}  // namespace

std::optional<Refusal> CheckAddress(const ProxyDeps& deps, const std::string& address) {
  absl::Duration blocked = deps.limiter->FailuresBlock(address);
  if (blocked <= absl::ZeroDuration()) return std::nullopt;
  return RateLimited(blocked, absl::StrCat("too many failed authentications from ", address));
}

std::string TokenOf(const Metadata& metadata) {
  auto header = metadata.find("authorization");
  return header == metadata.end() ? std::string() : BearerToken(View(header->second));
}

std::optional<Refusal> Admit(const ProxyDeps& deps, const std::string& address,
                             const absl::StatusOr<auth::Identity>& authenticated,
                             auth::Identity* who) {
  if (!authenticated.ok()) {
    if (absl::IsUnauthenticated(authenticated.status())) deps.limiter->ChargeFailure(address);
    return Refusal{base::ToGrpcStatus(authenticated.status()),
                   absl::IsUnavailable(authenticated.status()) ? "unavailable" : "unauthenticated"};
  }
  *who = *authenticated;
  absl::Duration wait = deps.limiter->Admit(*who);
  if (wait <= absl::ZeroDuration()) return std::nullopt;
  return RateLimited(wait, absl::StrCat("rate limit of '", who->user, "' reached"));
}

Refusal PlanRefusal(const absl::Status& status) {
  return {base::ToGrpcStatus(status), absl::IsUnavailable(status) ? "unavailable" : "invalid"};
}

void AddAuditResources(const AccessPlan& plan, std::vector<std::string>* resources) {
  for (const Check& check : plan.checks) {
    if (resources->size() >= kMaxAuditResources) break;
    resources->push_back(absl::StrCat(ActionsOf(check), " ", Describe(check)));
  }
}

std::optional<Refusal> Decide(const ProxyDeps& deps, const auth::Identity& who,
                              const AccessPlan& plan) {
  absl::Status decision = deps.authorizer->Decide(who, plan.checks);
  if (decision.ok()) return std::nullopt;
  return Refusal{base::ToGrpcStatus(decision),
                 absl::IsPermissionDenied(decision) ? "deny" : "unavailable"};
}

bool HopByHop(absl::string_view key) {
  return absl::StartsWith(key, ":") || absl::StartsWith(key, "grpc-") || key == "authorization" ||
         key == "te" || key == "content-type" || key == "user-agent" ||
         key == auth::kCallerSignatureHeader || key == "x-granary-caller";
}

void ForwardMetadata(const ProxyDeps& deps, const Metadata& from, const auth::Identity& who,
                     const std::string& method, grpc::ClientContext* to) {
  for (const auto& [key, value] : from) {
    if (!HopByHop(View(key))) to->AddMetadata(std::string(View(key)), std::string(View(value)));
  }
  to->AddMetadata(auth::kCallerSignatureHeader, deps.signer->Sign(who, method, deps.clock->Now()));
}

void SetTraceIds(const Metadata& metadata, AuditEntry* entry) {
  auto value = [&metadata](const char* key) {
    auto it = metadata.find(key);
    return it == metadata.end() ? absl::string_view() : View(it->second);
  };
  entry->trace_id = trace::TraceIdOf(value("traceparent"));
  entry->request_id = RequestIdOf(value("x-request-id"));
}

}  // namespace granary::gateway
