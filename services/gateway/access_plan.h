// What one call needs the caller to be allowed, decided from its request before it is
// forwarded (routes.h), and what an authorizer decides it with (authorizer.h).
#ifndef GRANARY_SERVICES_GATEWAY_ACCESS_PLAN_H_
#define GRANARY_SERVICES_GATEWAY_ACCESS_PLAN_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "granary/registry/v1/objects.pb.h"

#include "libs/auth/permission_index.h"
#include "libs/registry_client/catalog.h"

namespace granary::gateway {

using registry::v1::ObjectKind;
using registry::v1::Permission;

// One action on one object.
struct Check {
  std::string project;
  Permission::Action action = Permission::ACTION_UNSPECIFIED;
  ObjectKind kind = registry::v1::OBJECT_KIND_UNSPECIFIED;
  std::string name;
  // Points into AccessPlan::keep (a catalog or the decoded request); null: no tags.
  const auth::Tags* tags = nullptr;
  // Part of an Apply that creates the project: the one thing allowed on a project that does
  // not exist (it has no permissions yet, so Feast's rule opens it to every authenticated
  // caller). Anything else on a missing project is refused.
  bool creates_project = false;
  // A second action the same permission must grant with `action` (unspecified: none).
  Permission::Action and_action = Permission::ACTION_UNSPECIFIED;
};

struct AccessPlan {
  std::vector<Check> checks;
  // The request's project (its default filled in), for response filters.
  std::string project;
  // Set when the request must be forwarded changed (its default project made explicit).
  std::optional<std::string> rewritten;
  // What the checks' tags point into.
  std::vector<std::shared_ptr<const void>> keep;
  // Job calls name only a job: its project decides, learned by asking the materializer
  // (the proxy does, then checks `job_action` on that project).
  std::string job_id;
  Permission::Action job_action = Permission::ACTION_UNSPECIFIED;
};

// The catalogs decisions are made from. Thread-safe.
class Catalogs {
 public:
  virtual ~Catalogs() = default;
  // NOT_FOUND when the registry says the project does not exist; UNAVAILABLE when its
  // catalog is not loaded (the gateway then refuses rather than guess).
  virtual absl::StatusOr<std::shared_ptr<const registry_client::Catalog>> Find(
      const std::string& project) = 0;
  // The project of requests that name none.
  virtual const std::string& default_project() const = 0;
  // Every project the gateway serves (for requests that span projects).
  virtual const std::vector<std::string>& projects() const = 0;
};

// While one is alive on a thread, Catalogs::Find on that thread never waits: a catalog not
// loaded yet (whose first load would wait for the registry) fails at once with UNAVAILABLE
// and the scope notes it, so that the caller can do the same work again on a thread that may
// wait. The gateway's queue threads decide inside one.
class NoWaitScope {
 public:
  NoWaitScope();
  ~NoWaitScope();
  NoWaitScope(const NoWaitScope&) = delete;
  NoWaitScope& operator=(const NoWaitScope&) = delete;

  bool missed() const { return missed_; }
  // The scope alive on this thread, or null.
  static NoWaitScope* Current();
  void NoteMiss() { missed_ = true; }

 private:
  NoWaitScope* outer_;
  bool missed_ = false;
};

}  // namespace granary::gateway

#endif  // GRANARY_SERVICES_GATEWAY_ACCESS_PLAN_H_
