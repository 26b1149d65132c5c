// Decides checks against the registry's permissions. A PermissionIndex is built once per
// catalog version and reused by every call until the catalog changes.
#ifndef GRANARY_SERVICES_GATEWAY_AUTHORIZER_H_
#define GRANARY_SERVICES_GATEWAY_AUTHORIZER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

#include "libs/auth/identity.h"
#include "libs/auth/permission_index.h"
#include "services/gateway/access_plan.h"

namespace granary::gateway {

class Authorizer {
 public:
  explicit Authorizer(Catalogs& catalogs) : catalogs_(catalogs) {}

  // OK when every check is allowed; else PERMISSION_DENIED naming the action and the object
  // of the first refused check (and nothing else), or UNAVAILABLE when a catalog is missing.
  absl::Status Decide(const auth::Identity& who, const std::vector<Check>& checks);
  // One check; false also when its catalog is unavailable (what lists filter with).
  bool Allows(const auth::Identity& who, const Check& check);

  Catalogs& catalogs() { return catalogs_; }

 private:
  // The index of the catalog, built once per catalog version.
  absl::StatusOr<std::shared_ptr<const auth::PermissionIndex>> IndexOf(
      const registry_client::Catalog& catalog);
  absl::StatusOr<bool> Evaluate(const auth::Identity& who, const Check& check);

  Catalogs& catalogs_;
  absl::Mutex mu_;
  // By project: the catalog serial the index was built from, and the index.
  absl::flat_hash_map<std::string,
                      std::pair<uint64_t, std::shared_ptr<const auth::PermissionIndex>>>
      indexes_ ABSL_GUARDED_BY(mu_);
};

std::string Describe(const Check& check);
// "READ_ONLINE", or "WRITE_ONLINE+WRITE_OFFLINE" when one permission must grant both.
std::string ActionsOf(const Check& check);

}  // namespace granary::gateway

#endif  // GRANARY_SERVICES_GATEWAY_AUTHORIZER_H_
