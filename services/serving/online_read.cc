#include "services/serving/online_read.h"

#include <algorithm>
#include <utility>

#include "libs/base/status_macros.h"
#include "libs/keys/hash_field.h"
#include "services/serving/on_demand.h"
#include "services/serving/value_wire.h"

namespace granary::serving {

OnlineRead::OnlineRead(std::shared_ptr<const ReadPlan> plan, absl::Time now, absl::Time deadline,
                       bool caller_may_wait)
    : plan_(std::move(plan)), now_(now), deadline_(deadline), caller_may_wait_(caller_may_wait) {}

absl::Status OnlineRead::Prepare(const EntityColumns& entities,
                                 const EntityColumns& request_context, size_t max_rows) {
  RETURN_IF_ERROR(keys_.Build(*plan_, entities, max_rows));
  const size_t rows = keys_.rows();
  const size_t join_keys = plan_->join_keys.size();
  if (!plan_->request_columns.empty()) {
    ASSIGN_OR_RETURN(request_columns_, RequestColumns(*plan_, request_context, rows));
  }
  size_t max_views = 0;
  for (const KeyGroup& g : plan_->groups) max_views = std::max(max_views, g.views.size());
  view_rows_.resize(max_views);
  builder_.Start(rows, join_keys + plan_->feature_names.size() + plan_->hidden_columns);
  // The join keys come first, as the request gave them, PRESENT.
  for (size_t k = 0; k < join_keys; ++k) {
    for (size_t row = 0; row < rows; ++row) {
      builder_.Set(row, k, v1::PRESENT,
                   builder_.StoreValue(keys_.columns()[k]->val(static_cast<int>(row))), {});
    }
  }
  return absl::OkStatus();
}

void OnlineRead::Start(onlinestore::OnlineStore& store, Completion done,
                       std::shared_ptr<ComputePool> compute) {
  done_ = std::move(done);
  compute_ = std::move(compute);
  store.ReadAsync(this);
}

void OnlineRead::OnTimestamp(const PlannedView& view, ViewRow& row, const char* data, size_t size) {
  row = ViewRow();
  if (data == nullptr) return;
  int64_t seconds;
  int32_t nanos;
  if (!ParseTimestamp(absl::string_view(data, size), &seconds, &nanos)) {
    ++corrupt_;
    return;
  }
  row.found = true;
  row.timestamp = builder_.StoreTimestamp(seconds, nanos);
  absl::Time event = absl::FromUnixSeconds(seconds) + absl::Nanoseconds(nanos);
  row.expired = view.ttl > absl::ZeroDuration() && now_ - event > view.ttl;
}

void OnlineRead::OnRowMeta(const PlannedView& view, ViewRow& row, const char* data, size_t size) {
  if (data == nullptr || !row.found) return;  // written by Feast: no incarnation to check
  int64_t version;
  if (!ParseRowViewVersion(absl::string_view(data, size), &version)) {
    ++corrupt_;
    row.found = false;
    return;
  }
  if (version != 0 && view.view_version != 0 && version != view.view_version) row.found = false;
}

void OnlineRead::OnField(size_t get, size_t field, const char* data, size_t size) {
  // Fields come get by get: work out the row and group once per get, not per field.
  if (get != current_get_) {
    current_get_ = get;
    current_row_ = get / plan_->groups.size();
    current_group_ = &plan_->groups[get % plan_->groups.size()];
  }
  const size_t row = current_row_;
  const KeyGroup& group = *current_group_;
  const size_t views = group.views.size();
  // The timestamp fields, then the created ones, come first in every get: each view's row is
  // known before its features.
  if (field < views) {
    OnTimestamp(group.views[field], view_rows_[field], data, size);
    return;
  }
  if (field < 2 * views) {
    OnRowMeta(group.views[field - views], view_rows_[field - views], data, size);
    return;
  }
  const KeyGroup::Feature& feature = group.features[field - 2 * views];
  const ViewRow& view_row = view_rows_[feature.view];
  if (!view_row.found) return;  // NOT_FOUND, as laid out

  const size_t first_column = plan_->join_keys.size();
  v1::FieldStatus status;
  ResponseBuilder::Bytes value;
  if (view_row.expired) {
    status = v1::OUTSIDE_MAX_AGE;  // the value is omitted
  } else if (data == nullptr) {
    return;  // NOT_FOUND: the row exists, this feature was never written
  } else {
    absl::string_view bytes(data, size);
    ValueState state = InspectValue(bytes);
    if (state == ValueState::kCorrupt) {
      ++corrupt_;
      return;
    }
    if (bytes == keys::FailedValue()) {
      status = v1::INVALID;  // a write-time on-demand output whose expression failed
    } else {
      status = state == ValueState::kNull ? v1::NULL_VALUE : v1::PRESENT;
      value = builder_.Store(bytes);
    }
  }
  // More than one column when a service selects the same feature under two aliases.
  for (int c : feature.columns) {
    builder_.Set(row, first_column + c, status, value, view_row.timestamp);
  }
}

void OnlineRead::OnGetError(size_t, absl::string_view) { ++corrupt_; }

void OnlineRead::Done(absl::Status status) {
  // Evaluations leave the I/O thread: they must not hold up other requests' replies.
  if (status.ok() && !plan_->on_demand.empty() && compute_ != nullptr) {
    std::shared_ptr<ComputePool> pool = compute_;
    pool->Schedule([this] { Finish(absl::OkStatus()); });
    return;
  }
  Finish(std::move(status));
}

void OnlineRead::Finish(absl::Status status) {
  ReadCounts counts{.rows = keys_.rows(), .corrupt = corrupt_};
  if (status.ok() && !plan_->on_demand.empty()) {
    status = ComputeOnDemand(*plan_, request_columns_, keys_.rows(), builder_, deadline_);
  }
  if (status.ok()) {
    const size_t join_keys = plan_->join_keys.size();
    done_(builder_.Finish(plan_->metadata, join_keys, join_keys + plan_->feature_names.size(),
                          &counts),
          counts);
  } else {
    done_(std::move(status), counts);
  }
  delete this;
}

}  // namespace granary::serving
