// The diff that turns a project's current catalog into a desired one: objects created, updated
// (field by field) and deleted, in a stable order (kind, then name), with the changes that
// would break consumers marked (see breaking_changes.h).
//
//   v1::Diff diff = DiffRepos(current, desired);  // both normalized
//   if (diff.changes().empty()) ...               // a no-op
#ifndef GRANARY_SERVICES_REGISTRY_REPO_DIFF_H_
#define GRANARY_SERVICES_REGISTRY_REPO_DIFF_H_

#include "granary/registry/v1/diff.pb.h"
#include "granary/registry/v1/repo.pb.h"

namespace granary::registry {

v1::Diff DiffRepos(const v1::FeatureRepo& current, const v1::FeatureRepo& desired);

}  // namespace granary::registry

#endif  // GRANARY_SERVICES_REGISTRY_REPO_DIFF_H_
