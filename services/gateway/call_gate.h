// What both gRPC doors of the gateway (the generic proxy and the unary fast path) decide
// before a call is forwarded, in the same words: whether the caller's address may try, who
// the caller is, whether they may call now, and whether what they ask for is allowed. An
// answer other than "go on" is a Refusal to end the call with (and to audit).
#ifndef GRANARY_SERVICES_GATEWAY_CALL_GATE_H_
#define GRANARY_SERVICES_GATEWAY_CALL_GATE_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/grpcpp.h"

#include "libs/auth/identity.h"
#include "services/gateway/access_plan.h"
#include "services/gateway/proxy.h"

namespace granary::gateway {

struct Refusal {
  grpc::Status status;
  const char* decision = "invalid";  // the audit line's decision
  int64_t retry_after_seconds = 0;   // > 0: also sent as retry-after trailing metadata
};

using Metadata = std::multimap<grpc::string_ref, grpc::string_ref>;

// An address that failed authentication too often is turned away before its token is read.
std::optional<Refusal> CheckAddress(const ProxyDeps& deps, const std::string& address);

// The caller's bearer token from the call's metadata ("" when there is none).
std::string TokenOf(const Metadata& metadata);

// After authentication: a refused token is charged to the address; an identity is then held
// to its rate limit. Nothing: go on as `*who`.
std::optional<Refusal> Admit(const ProxyDeps& deps, const std::string& address,
                             const absl::StatusOr<auth::Identity>& authenticated,
                             auth::Identity* who);

// A request the plan could not be made from (it does not parse, the catalog is not loaded).
Refusal PlanRefusal(const absl::Status& status);

// The plan's checks added to what the audit line lists (at most 20 in all: a stream's later
// messages add theirs).
void AddAuditResources(const AccessPlan& plan, std::vector<std::string>* resources);

// The authorizer's verdict on the plan.
std::optional<Refusal> Decide(const ProxyDeps& deps, const auth::Identity& who,
                              const AccessPlan& plan);

// Metadata that is the transport's, or this hop's, and must not be copied across.
bool HopByHop(absl::string_view key);

// The caller's metadata that goes on to the backend, and the gateway's signature of who calls
// `method` (what the backend trusts instead of any identity header the caller sent).
void ForwardMetadata(const ProxyDeps& deps, const Metadata& from, const auth::Identity& who,
                     const std::string& method, grpc::ClientContext* to);

// The audit entry's trace_id and request_id, from the call's metadata: its traceparent is the
// gateway's own span by the time a handler reads it (libs/trace/grpc_server_tracing.h).
void SetTraceIds(const Metadata& metadata, AuditEntry* entry);

inline absl::string_view View(const grpc::string_ref& ref) { return {ref.data(), ref.size()}; }

}  // namespace granary::gateway

#endif  // GRANARY_SERVICES_GATEWAY_CALL_GATE_H_
