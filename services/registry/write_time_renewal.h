// When a write-time on-demand view (mode ON_WRITE) starts a new incarnation: a change to what it
// computes (expressions, sources, schema, limits, mode) makes what was stored for the old
// definition wrong for the new one, so it is removed online and not served until the source is
// written again. Descriptions, tags and owners change nothing stored.
//
//   for (const std::string& name : RenewedWriteTimeViews(current, desired)) ...
#ifndef GRANARY_SERVICES_REGISTRY_WRITE_TIME_RENEWAL_H_
#define GRANARY_SERVICES_REGISTRY_WRITE_TIME_RENEWAL_H_

#include <set>
#include <string>

#include "granary/registry/v1/repo.pb.h"

namespace granary::registry {

// Whether `after` may compute other outputs than `before` from the same rows: anything but
// descriptions, tags and owners differs.
bool ComputesOtherOutputs(const v1::OnDemandFeatureView& before,
                          const v1::OnDemandFeatureView& after);

// Whether `after` stores other outputs than `before` would have (either one write-time).
bool StoresOtherOutputs(const v1::OnDemandFeatureView& before,
                        const v1::OnDemandFeatureView& after);

// The on-demand views in both repos for which StoresOtherOutputs holds.
std::set<std::string> RenewedWriteTimeViews(const v1::FeatureRepo& current,
                                            const v1::FeatureRepo& desired);

}  // namespace granary::registry

#endif  // GRANARY_SERVICES_REGISTRY_WRITE_TIME_RENEWAL_H_
