// Which changes of a diff break consumers, and why (each reason names the consumer):
// - an entity's join key or type changes while feature views use it (stored values are keyed
//   by them and would no longer be found);
// - a feature is removed or retyped while a feature service or on-demand view uses it, or a
//   used view's entities change;
// - a feature view that a feature service or on-demand view references is deleted;
// - a feature service is deleted, or stops returning features it returned (model servers ask
//   for it by name and read its columns).
// Apply refuses a breaking diff unless explicitly allowed. Feast has no such gate.
#ifndef GRANARY_SERVICES_REGISTRY_BREAKING_CHANGES_H_
#define GRANARY_SERVICES_REGISTRY_BREAKING_CHANGES_H_

#include "granary/registry/v1/diff.pb.h"
#include "granary/registry/v1/repo.pb.h"

namespace granary::registry {

// Sets breaking flags and reasons on the changes of `diff` (which turns current into desired)
// and diff->breaking.
void MarkBreakingChanges(const v1::FeatureRepo& current, const v1::FeatureRepo& desired,
                         v1::Diff* diff);

}  // namespace granary::registry

#endif  // GRANARY_SERVICES_REGISTRY_BREAKING_CHANGES_H_
