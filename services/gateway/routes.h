// The methods the gateway forwards, each with its backend and what it needs the caller to be
// allowed. The table, method by method, is in README.md ("Authorization").
#ifndef GRANARY_SERVICES_GATEWAY_ROUTES_H_
#define GRANARY_SERVICES_GATEWAY_ROUTES_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "libs/auth/identity.h"
#include "services/gateway/access_plan.h"
#include "services/gateway/authorizer.h"

namespace granary::gateway {

enum class Upstream { kRegistry, kServing, kIngestion, kMaterializer };

// From one serialized request message: the checks. INVALID_ARGUMENT when it does not parse.
using PlanFn = std::function<absl::StatusOr<AccessPlan>(const std::string& request, Catalogs&)>;
// Rewrites one serialized response message to what the caller may see (lists lose the
// objects it may not DESCRIBE), or refuses it (a job of a project it may not see).
using FilterFn = std::function<absl::Status(std::string* response, const AccessPlan& plan,
                                            const auth::Identity&, Authorizer&)>;

struct Route {
  Upstream upstream = Upstream::kRegistry;
  bool client_streaming = false;
  bool server_streaming = false;
  PlanFn plan;
  FilterFn filter;  // may be empty
};

// Null for a method the gateway does not forward (internal ones included).
const Route* FindRoute(absl::string_view method_path);

// Every forwarded method path, for documentation and tests.
std::vector<std::string> RoutedMethods();

// Per-service tables (routes.cc assembles them).
void AddRegistryRoutes(const std::function<void(std::string, Route)>& add);
void AddDataRoutes(const std::function<void(std::string, Route)>& add);

}  // namespace granary::gateway

#endif  // GRANARY_SERVICES_GATEWAY_ROUTES_H_
