#include "services/registry/materialization_book.h"

#include <limits>
#include <vector>

#include "google/protobuf/util/time_util.h"

#include "libs/base/status_macros.h"
#include "services/registry/read_requests.h"

namespace granary::registry {

using google::protobuf::util::TimeUtil;

absl::Status MaterializationBook::Record(const v1::RecordMaterializationRequest& request) {
  RETURN_IF_ERROR(Required(request.project(), "project"));
  RETURN_IF_ERROR(Required(request.feature_view(), "feature_view"));
  const v1::MaterializationInterval& i = request.interval();
  if (!i.has_start_time() || !i.has_end_time()) {
    return absl::InvalidArgumentError("interval: start_time and end_time are required");
  }
  if (TimeUtil::TimestampToMicroseconds(i.start_time()) >=
      TimeUtil::TimestampToMicroseconds(i.end_time())) {
    return absl::InvalidArgumentError("interval: start_time must be before end_time");
  }
  // The view must exist: NOT_FOUND naming it otherwise.
  RETURN_IF_ERROR(
      store_->GetObject(request.project(), v1::FEATURE_VIEW, request.feature_view()).status());
  return store_->RecordMaterialization(request.project(), request.feature_view(), i);
}

absl::StatusOr<v1::MaterializationState> MaterializationBook::State(
    const v1::GetMaterializationStateRequest& request) {
  RETURN_IF_ERROR(Required(request.project(), "project"));
  RETURN_IF_ERROR(Required(request.feature_view(), "feature_view"));
  RETURN_IF_ERROR(
      store_->GetObject(request.project(), v1::FEATURE_VIEW, request.feature_view()).status());
  ASSIGN_OR_RETURN(std::vector<v1::MaterializationInterval> intervals,
                   store_->MaterializationIntervals(request.project(), request.feature_view()));
  v1::MaterializationState state;
  int64_t latest = std::numeric_limits<int64_t>::min();
  for (auto& i : intervals) {
    int64_t end = TimeUtil::TimestampToMicroseconds(i.end_time());
    if (end > latest) {
      latest = end;
      *state.mutable_most_recent_end_time() = i.end_time();
    }
    *state.add_intervals() = std::move(i);
  }
  return state;
}

}  // namespace granary::registry
