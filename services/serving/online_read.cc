#include "services/serving/online_read.h"

#include <algorithm>
#include <utility>

#include "google/protobuf/timestamp.pb.h"

#include "libs/base/status_macros.h"

namespace granary::serving {

using types::v1::Value;
using v1::GetOnlineFeaturesResponse;

OnlineRead::OnlineRead(std::shared_ptr<const ReadPlan> plan, absl::Time now, absl::Time deadline,
                       GetOnlineFeaturesResponse* response)
    : plan_(std::move(plan)), now_(now), deadline_(deadline), response_(response) {}

void OnlineRead::Start(onlinestore::OnlineStore& store, Completion done) {
  done_ = std::move(done);
  store.ReadAsync(this);
}

absl::Status OnlineRead::Prepare(const EntityColumns& entities, size_t max_rows) {
  RETURN_IF_ERROR(keys_.Build(*plan_, entities, max_rows));
  const int rows = static_cast<int>(keys_.rows());
  size_t max_views = 0;
  for (const KeyGroup& g : plan_->groups) max_views = std::max(max_views, g.views.size());
  view_rows_.resize(max_views);

  response_->set_status(true);
  auto* names = response_->mutable_metadata()->mutable_feature_names();
  auto* results = response_->mutable_results();
  results->Reserve(static_cast<int>(plan_->join_keys.size() + plan_->feature_names.size()));
  for (size_t k = 0; k < plan_->join_keys.size(); ++k) {
    names->add_val(plan_->join_keys[k].name);
    GetOnlineFeaturesResponse::FeatureVector* column = results->Add();
    column->mutable_values()->CopyFrom(keys_.columns()[k]->val());
    column->mutable_statuses()->Resize(rows, v1::PRESENT);
    column->mutable_event_timestamps()->Reserve(rows);
    for (int row = 0; row < rows; ++row) column->add_event_timestamps();
  }
  for (const std::string& name : plan_->feature_names) {
    names->add_val(name);
    GetOnlineFeaturesResponse::FeatureVector* column = results->Add();
    column->mutable_values()->Reserve(rows);
    column->mutable_event_timestamps()->Reserve(rows);
    for (int row = 0; row < rows; ++row) {
      column->add_values();
      column->add_event_timestamps();
    }
    column->mutable_statuses()->Resize(rows, v1::NOT_FOUND);
  }
  return absl::OkStatus();
}

void OnlineRead::OnTimestamp(const PlannedView& view, ViewRow& row, const char* data, size_t size) {
  row = ViewRow();
  if (data == nullptr) return;
  google::protobuf::Timestamp ts;
  if (!ts.ParseFromArray(data, static_cast<int>(size))) {
    ++corrupt_;
    return;
  }
  row.found = true;
  row.seconds = ts.seconds();
  row.nanos = ts.nanos();
  absl::Time event = absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
  row.expired = view.ttl > absl::ZeroDuration() && now_ - event > view.ttl;
}

void OnlineRead::OnField(size_t get, size_t field, const char* data, size_t size) {
  const size_t groups = plan_->groups.size();
  const int row = static_cast<int>(get / groups);
  const KeyGroup& group = plan_->groups[get % groups];
  const size_t views = group.views.size();
  // The timestamp fields come first in every get: each view's row is known before its features.
  if (field < views) {
    OnTimestamp(group.views[field], view_rows_[field], data, size);
    return;
  }
  const KeyGroup::Feature& feature = group.features[field - views];
  const ViewRow& view_row = view_rows_[feature.view];
  if (!view_row.found) return;  // NOT_FOUND, as laid out

  const int first_column = static_cast<int>(plan_->join_keys.size());
  const Value* parsed = nullptr;
  for (int c : feature.columns) {
    GetOnlineFeaturesResponse::FeatureVector* column = response_->mutable_results(first_column + c);
    v1::FieldStatus status;
    if (view_row.expired) {
      status = v1::OUTSIDE_MAX_AGE;
    } else if (data == nullptr) {
      continue;  // NOT_FOUND: the row exists, this feature was never written
    } else {
      Value* value = column->mutable_values(row);
      if (parsed != nullptr) {
        *value = *parsed;  // the same feature under another alias
      } else if (!value->ParseFromArray(data, static_cast<int>(size))) {
        value->Clear();
        ++corrupt_;
        return;
      }
      parsed = value;
      status = value->val_case() == Value::VAL_NOT_SET || value->val_case() == Value::kNullVal
                   ? v1::NULL_VALUE
                   : v1::PRESENT;
    }
    column->set_statuses(row, status);
    google::protobuf::Timestamp* ts = column->mutable_event_timestamps(row);
    ts->set_seconds(view_row.seconds);
    ts->set_nanos(view_row.nanos);
  }
}

ReadCounts OnlineRead::Count() const {
  ReadCounts counts;
  counts.rows = keys_.rows();
  counts.corrupt = corrupt_;
  const int first_column = static_cast<int>(plan_->join_keys.size());
  for (int c = first_column; c < response_->results_size(); ++c) {
    for (int status : response_->results(c).statuses()) {
      switch (status) {
        case v1::PRESENT:
          ++counts.present;
          break;
        case v1::NULL_VALUE:
          ++counts.null_value;
          break;
        case v1::OUTSIDE_MAX_AGE:
          ++counts.outside_max_age;
          break;
        default:
          ++counts.not_found;
      }
    }
  }
  return counts;
}

void OnlineRead::Done(absl::Status status) {
  ReadCounts counts = status.ok() ? Count() : ReadCounts{.rows = keys_.rows()};
  done_(std::move(status), counts);
  delete this;
}

}  // namespace granary::serving
