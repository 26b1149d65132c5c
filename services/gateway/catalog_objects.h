// Catalog objects seen uniformly by kind and name: what checks are made on.
#ifndef GRANARY_SERVICES_GATEWAY_CATALOG_OBJECTS_H_
#define GRANARY_SERVICES_GATEWAY_CATALOG_OBJECTS_H_

#include <functional>
#include <string>

#include "google/protobuf/message.h"
#include "granary/registry/v1/repo.pb.h"

#include "libs/auth/permission_index.h"
#include "libs/registry_client/catalog.h"
#include "services/gateway/access_plan.h"

namespace granary::gateway {

// Calls `fn(kind, object, tags)` for every object of the repo but the project itself.
void ForEachObject(
    const registry::v1::FeatureRepo& repo,
    const std::function<void(ObjectKind, const google::protobuf::Message&, const auth::Tags&)>& fn);

// The tags of the named object in the catalog; null when it has none there.
const auth::Tags* TagsIn(const registry_client::Catalog& catalog, ObjectKind kind,
                         const std::string& name);

// Adds `action` on the named object of `project` to the plan, with the object's tags from the
// project's current catalog when both exist (a missing object is checked without tags).
void AddCheck(AccessPlan& plan, Catalogs& catalogs, const std::string& project,
              Permission::Action action, ObjectKind kind, const std::string& name);

}  // namespace granary::gateway

#endif  // GRANARY_SERVICES_GATEWAY_CATALOG_OBJECTS_H_
