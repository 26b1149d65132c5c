#include "services/ingestion/push_batches.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "libs/base/proto_time.h"
#include "libs/base/status_macros.h"
#include "libs/keys/entity_key.h"
#include "services/ingestion/push_values.h"

namespace granary::ingestion {
namespace {

using types::v1::RepeatedValue;
using types::v1::Value;
using types::v1::ValueType;

absl::Status CellError(absl::string_view column, size_t row, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("columns[", column, "] row ", row, ": ", what));
}

absl::StatusOr<const RepeatedValue*> Column(const v1::PushRequest& request, const std::string& name,
                                            absl::string_view what) {
  auto it = request.columns().find(name);
  if (it == request.columns().end()) {
    return absl::InvalidArgumentError(absl::StrCat("columns: missing ", what, " \"", name, "\""));
  }
  return &it->second;
}

std::string Utc(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

// Floored to the microsecond (toward the past, before 1970 too).
absl::Time ToMicros(absl::Time t) {
  return absl::UnixEpoch() + absl::Floor(t - absl::UnixEpoch(), absl::Microseconds(1));
}

// The column's cells as times, each in range and not too far ahead, floored to the
// microsecond: PostgreSQL keeps microseconds, so online (which could compare nanoseconds) and
// offline must see the same time to break ties the same way. `nullable`: a null (or empty)
// cell is `null_means` instead of an error.
absl::StatusOr<std::vector<absl::Time>> Times(const RepeatedValue& column, absl::string_view name,
                                              const BatchContext& context, bool nullable,
                                              absl::Time null_means) {
  std::vector<absl::Time> out;
  out.reserve(column.val_size());
  const absl::Time latest = context.received + context.max_future_skew;
  for (int r = 0; r < column.val_size(); ++r) {
    const Value& cell = column.val(r);
    if (nullable && (cell.val_case() == Value::VAL_NOT_SET || cell.val_case() == Value::kNullVal)) {
      out.push_back(ToMicros(null_means));
      continue;
    }
    absl::StatusOr<absl::Time> t = CellTime(cell);
    if (!t.ok()) return CellError(name, r, t.status().message());
    if (*t > latest) {
      return CellError(
          name, r,
          absl::StrCat(Utc(*t), " is more than ", absl::FormatDuration(context.max_future_skew),
                       " ahead of the ingestion service's clock (", Utc(context.received),
                       "; ingestion.max_future_skew)"));
    }
    out.push_back(ToMicros(*t));
  }
  return out;
}

// The features of each view its source feeds that the push does not carry, by view.
absl::Status CheckEveryFeature(const PushRoute& route, const v1::PushRequest& request) {
  for (const RoutedView& view : route.views) {
    std::vector<std::string> missing;
    for (const RoutedFeature& f : view.features) {
      if (request.columns().find(f.name) == request.columns().end()) missing.push_back(f.name);
    }
    if (!missing.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "columns: missing ", absl::StrJoin(missing, ", "), " of feature view \"", view.name,
          "\" (a push carries every feature of each view its push source \"", route.push_source,
          "\" feeds; send nulls for values not known)"));
    }
  }
  return absl::OkStatus();
}

// PostgreSQL text cannot hold NUL.
bool HasNul(const Value& v) {
  if (v.val_case() == Value::kStringVal) return v.string_val().find('\0') != std::string::npos;
  if (v.val_case() != Value::kStringListVal) return false;
  for (const std::string& s : v.string_list_val().val()) {
    if (s.find('\0') != std::string::npos) return true;
  }
  return false;
}

absl::Status CheckShape(const PushRoute& route, const v1::PushRequest& request,
                        const BatchContext& context, size_t* rows) {
  if (request.columns().empty()) return absl::InvalidArgumentError("columns: no columns");
  std::vector<std::string> unknown;
  const std::string* first = nullptr;
  for (const auto& [name, column] : request.columns()) {
    if (route.columns.find(name) == route.columns.end()) unknown.push_back(name);
    if (first == nullptr || name < *first) first = &name;
  }
  if (!unknown.empty()) {
    std::sort(unknown.begin(), unknown.end());
    return absl::InvalidArgumentError(
        absl::StrCat("columns[", unknown[0],
                     "]: not a join key, timestamp or feature of push "
                     "source \"",
                     route.push_source, "\""));
  }
  *rows = static_cast<size_t>(request.columns().at(*first).val_size());
  for (const auto& [name, column] : request.columns()) {
    if (static_cast<size_t>(column.val_size()) != *rows) {
      return absl::InvalidArgumentError(absl::StrCat("columns[", name, "]: ", column.val_size(),
                                                     " values, but columns[", *first, "] has ",
                                                     *rows));
    }
  }
  if (*rows == 0) return absl::InvalidArgumentError("columns: no rows");
  if (*rows > context.max_rows) {
    return absl::InvalidArgumentError(absl::StrCat("columns: ", *rows, " rows, more than the ",
                                                   context.max_rows, " a batch may have"));
  }
  return absl::OkStatus();
}

// One message: the rows' `keys` and `features`, checked and typed cell by cell.
absl::StatusOr<events::v1::PushBatch> OneBatch(
    const PushRoute& route, const v1::PushRequest& request, const BatchContext& context,
    const std::string& view_name, int64_t view_version, const std::vector<RoutedKey>& keys,
    const std::vector<RoutedFeature>& features, const std::vector<absl::Time>& event_times,
    const std::vector<absl::Time>& created_times, size_t rows, bool offline) {
  std::vector<const RepeatedValue*> feature_columns;
  for (const RoutedFeature& f : features) {
    feature_columns.push_back(&request.columns().at(f.name));  // all there: checked before
  }
  std::vector<const RepeatedValue*> key_columns;
  for (const RoutedKey& k : keys) {
    ASSIGN_OR_RETURN(const RepeatedValue* c,
                     Column(request, k.name, absl::StrCat("join key of ", view_name)));
    key_columns.push_back(c);
  }
  events::v1::PushBatch batch;
  batch.set_project(route.project);
  batch.set_push_source(route.push_source);
  batch.set_feature_view(view_name);
  batch.set_batch_id(context.batch_id);
  batch.set_offline(offline);
  for (const RoutedKey& k : keys) batch.add_join_keys(k.name);
  for (const RoutedFeature& f : features) batch.add_features(f.name);
  *batch.mutable_received_time() = base::ToProtoTime(context.received);
  batch.set_registry_version(route.registry_version);
  batch.set_view_version(view_version);
  batch.mutable_rows()->Reserve(static_cast<int>(rows));
  Value scratch;
  for (size_t r = 0; r < rows; ++r) {
    events::v1::PushRow* row = batch.add_rows();
    for (size_t k = 0; k < keys.size(); ++k) {
      const Value& cell = key_columns[k]->val(static_cast<int>(r));
      const Value* typed = keys::CoerceKeyValue(cell, keys[k].type, &scratch);
      if (typed == nullptr) {
        return CellError(keys[k].name, r,
                         absl::StrCat("expected ", ValueType::Enum_Name(keys[k].type), ", found ",
                                      DescribeValue(cell)));
      }
      *row->add_join_values() = *typed;
    }
    *row->mutable_event_time() = base::ToProtoTime(event_times[r]);
    *row->mutable_created_time() = base::ToProtoTime(created_times[r]);
    for (size_t f = 0; f < features.size(); ++f) {
      Value* v = row->add_features();
      *v = feature_columns[f]->val(static_cast<int>(r));
      if (offline && HasNul(*v)) {
        return CellError(features[f].name, r,
                         "a NUL character, which the offline store cannot hold");
      }
      if (!ToFeatureType(features[f].dtype, v)) {
        return CellError(
            features[f].name, r,
            absl::StrCat("expected ", ValueType::Enum_Name(features[f].dtype), ", found ",
                         DescribeValue(feature_columns[f]->val(static_cast<int>(r)))));
      }
      if (absl::Status in_range = CheckTimeValue(*v); !in_range.ok()) {
        return CellError(features[f].name, r, in_range.message());
      }
    }
  }
  return batch;
}

}  // namespace

absl::StatusOr<std::vector<events::v1::PushBatch>> BuildPushBatches(const PushRoute& route,
                                                                    const v1::PushRequest& request,
                                                                    const BatchContext& context) {
  size_t rows = 0;
  RETURN_IF_ERROR(CheckShape(route, request, context, &rows));
  ASSIGN_OR_RETURN(const RepeatedValue* ts_column,
                   Column(request, route.timestamp_column, "event timestamp column"));
  RETURN_IF_ERROR(CheckEveryFeature(route, request));
  ASSIGN_OR_RETURN(
      std::vector<absl::Time> event_times,
      Times(*ts_column, route.timestamp_column, context, /*nullable=*/false, absl::InfinitePast()));
  // A row without a created time counts as created when it was received, online and offline.
  std::vector<absl::Time> created_times(rows, context.received);
  if (!route.created_column.empty() && request.columns().count(route.created_column) > 0) {
    ASSIGN_OR_RETURN(created_times,
                     Times(request.columns().at(route.created_column), route.created_column,
                           context, /*nullable=*/true, context.received));
  }
  if (!v1::PushTarget_IsValid(request.to())) {
    return absl::InvalidArgumentError(absl::StrCat("to: unknown target ", request.to()));
  }
  const bool online = request.to() != v1::OFFLINE;
  const bool offline = request.to() == v1::OFFLINE || request.to() == v1::ONLINE_AND_OFFLINE;

  // A source feeding several views: each view's message goes online only, and one more
  // message carries the whole push (every key and feature of every view) offline, so that the
  // batch source table gets one row per pushed row, not one partial row per view.
  const bool whole_offline = offline && route.views.size() > 1;
  std::vector<events::v1::PushBatch> batches;
  for (const RoutedView& view : route.views) {
    if (!view.online && (!offline || whole_offline)) continue;  // nothing of it goes online
    ASSIGN_OR_RETURN(
        events::v1::PushBatch batch,
        OneBatch(route, request, context, view.name, view.view_version, view.join_keys,
                 view.features, event_times, created_times, rows, offline && !whole_offline));
    batch.set_online(online && view.online);
    if (batch.online() || batch.offline()) batches.push_back(std::move(batch));
  }
  if (whole_offline) {
    std::vector<RoutedKey> keys;
    std::vector<RoutedFeature> features;
    std::set<std::string> seen;
    for (const RoutedView& view : route.views) {
      for (const RoutedKey& k : view.join_keys) {
        if (seen.insert(k.name).second) keys.push_back(k);
      }
    }
    std::sort(keys.begin(), keys.end(),
              [](const RoutedKey& a, const RoutedKey& b) { return a.name < b.name; });
    for (const RoutedView& view : route.views) {
      for (const RoutedFeature& f : view.features) {
        if (seen.insert(f.name).second) features.push_back(f);
      }
    }
    // Named after the first view (its subject, its incarnation check), marked as the whole.
    const RoutedView& first = route.views.front();
    ASSIGN_OR_RETURN(events::v1::PushBatch batch,
                     OneBatch(route, request, context, first.name, first.view_version, keys,
                              features, event_times, created_times, rows, /*offline=*/true));
    batch.set_online(false);
    batch.set_whole_push(true);
    for (const RoutedView& view : route.views) batch.add_views(view.name);
    batches.push_back(std::move(batch));
  }
  if (batches.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "to: every view push source \"", route.push_source,
        "\" feeds is offline only (online: false); push to OFFLINE or ONLINE_AND_OFFLINE"));
  }
  return batches;
}

std::string PushSubject(const events::v1::PushBatch& batch) {
  return absl::StrCat("granary.push.", batch.project(), ".", batch.feature_view());
}

std::string PushMessageId(const events::v1::PushBatch& batch) {
  // One stream holds every project's batches, and deduplicates by this id. The whole of a
  // push is "*" (never a view's name), not named after its first view: a view added to the
  // push source before a retry must not give the retry another id (and the offline table the
  // rows twice).
  return absl::StrCat(batch.project(), "/", batch.batch_id(), "/",
                      batch.whole_push() ? "*/offline" : batch.feature_view());
}

}  // namespace granary::ingestion
