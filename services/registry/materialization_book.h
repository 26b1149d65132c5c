// The registry's record of what has been materialized: the intervals each feature view was
// copied to the online store for (by materialization jobs), and where the newest one ended
// (where the next incremental materialization starts).
//
//   MaterializationBook book(store);
//   RETURN_IF_ERROR(book.Record(request));
#ifndef GRANARY_SERVICES_REGISTRY_MATERIALIZATION_BOOK_H_
#define GRANARY_SERVICES_REGISTRY_MATERIALIZATION_BOOK_H_

#include <memory>

#include "absl/status/statusor.h"
#include "granary/registry/v1/registry_service.pb.h"

#include "services/registry/store.h"

namespace granary::registry {

class MaterializationBook {
 public:
  explicit MaterializationBook(std::shared_ptr<Store> store) : store_(std::move(store)) {}

  // NOT_FOUND naming the view when it does not exist; INVALID_ARGUMENT for an empty interval.
  absl::Status Record(const v1::RecordMaterializationRequest& request);
  absl::StatusOr<v1::MaterializationState> State(const v1::GetMaterializationStateRequest& request);

 private:
  std::shared_ptr<Store> store_;
};

}  // namespace granary::registry

#endif  // GRANARY_SERVICES_REGISTRY_MATERIALIZATION_BOOK_H_
