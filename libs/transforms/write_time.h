// Write-time on-demand views (mode ON_WRITE): their outputs are computed when rows of their one
// source feature view are written online (pushed or materialized), with the engine serving and
// historical retrieval run, and stored beside those rows like a feature view's features: under
// the on-demand view's name, in the same Redis hash as the source row (the same entity key),
// guarded by the stored source row (onlinestore::ViewWrite::guard_view): a row's outputs are
// written when that row is the stored source row or newer, never when an older row lost to it.
// So the stored outputs are those of the stored source row, whatever order rows arrive in or
// which view was there first; and writing the stored rows again (materializing again) writes
// the outputs of a view created since.
//
//   ASSIGN_OR_RETURN(std::vector<onlinestore::ViewWrite> derived,
//                    DeriveWrites(catalog.serial(), catalog.repo(), write, features, &failed));
//   // write `write`, then each of `derived`; ack only when all are written
#ifndef GRANARY_LIBS_TRANSFORMS_WRITE_TIME_H_
#define GRANARY_LIBS_TRANSFORMS_WRITE_TIME_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "granary/registry/v1/repo.pb.h"

#include "libs/onlinestore/online_store.h"

namespace granary::transforms {

// The feature view write-time view `view` is stored as: its name and outputs, the entities, TTL
// and online flag of its source feature view, and its own incarnation (meta.created_version).
// NOT_FOUND when its source feature view is not in `repo`.
absl::StatusOr<registry::v1::FeatureView> StoredViewOf(
    const registry::v1::FeatureRepo& repo, const registry::v1::OnDemandFeatureView& view);

// The write-time on-demand views whose source is feature view `feature_view`.
std::vector<const registry::v1::OnDemandFeatureView*> WriteTimeViewsOf(
    const registry::v1::FeatureRepo& repo, absl::string_view feature_view);

// The writes of the write-time views fed by `write` (rows of feature view `write.view` about to
// be written; `features` names its values, in order): per view, each row's outputs with the
// row's key and times. An output is its serialized value, null for nil, and keys::FailedValue()
// when its expression failed for that row (counted in `*failed`). Empty when no write-time view
// reads that feature view. FAILED_PRECONDITION when a view does not compile (a repo the registry
// accepted compiles).
absl::StatusOr<std::vector<onlinestore::ViewWrite>> DeriveWrites(
    uint64_t catalog_serial, const registry::v1::FeatureRepo& repo,
    const onlinestore::ViewWrite& write, absl::Span<const std::string> features, int64_t* failed);

}  // namespace granary::transforms

#endif  // GRANARY_LIBS_TRANSFORMS_WRITE_TIME_H_
