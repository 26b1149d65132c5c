#include "services/registry/write_time_renewal.h"

#include "google/protobuf/util/message_differencer.h"

namespace granary::registry {
namespace {

// What it computes: everything but what only people read. Compared field by field, never as
// bytes: a map's serialized order is not fixed.
v1::OnDemandFeatureView Definition(v1::OnDemandFeatureView view) {
  view.clear_description();
  view.clear_tags();
  view.clear_owner();
  view.clear_meta();
  for (v1::Field& field : *view.mutable_schema()) {
    field.clear_description();
    field.clear_tags();
  }
  view.mutable_transformation()->clear_text();  // unused
  return view;
}

}  // namespace

bool ComputesOtherOutputs(const v1::OnDemandFeatureView& before,
                          const v1::OnDemandFeatureView& after) {
  return !google::protobuf::util::MessageDifferencer::Equivalent(Definition(before),
                                                                 Definition(after));
}

bool StoresOtherOutputs(const v1::OnDemandFeatureView& before,
                        const v1::OnDemandFeatureView& after) {
  if (before.mode() != v1::OnDemandFeatureView::ON_WRITE &&
      after.mode() != v1::OnDemandFeatureView::ON_WRITE) {
    return false;
  }
  return ComputesOtherOutputs(before, after);
}

std::set<std::string> RenewedWriteTimeViews(const v1::FeatureRepo& current,
                                            const v1::FeatureRepo& desired) {
  std::set<std::string> out;
  for (const auto& want : desired.on_demand_feature_views()) {
    for (const auto& have : current.on_demand_feature_views()) {
      if (have.name() == want.name() && StoresOtherOutputs(have, want)) out.insert(want.name());
    }
  }
  return out;
}

}  // namespace granary::registry
