#include "libs/transforms/write_time.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

#include "libs/keys/hash_field.h"
#include "libs/transforms/program_cache.h"

namespace granary::transforms {

using registry::v1::FeatureRepo;
using registry::v1::FeatureView;
using registry::v1::OnDemandFeatureView;
using types::v1::Value;

namespace {

// The feature view a write-time view reads (validation allows exactly one source, a feature
// view); empty when it has none.
std::string SourceOf(const OnDemandFeatureView& view) {
  for (const auto& source : view.sources()) {
    if (source.has_feature_view()) return source.feature_view().feature_view();
  }
  return "";
}

}  // namespace

absl::StatusOr<FeatureView> StoredViewOf(const FeatureRepo& repo, const OnDemandFeatureView& view) {
  const std::string source = SourceOf(view);
  for (const FeatureView& fv : repo.feature_views()) {
    if (fv.name() != source) continue;
    FeatureView stored;
    stored.set_name(view.name());
    *stored.mutable_entities() = fv.entities();
    *stored.mutable_schema() = view.schema();
    *stored.mutable_ttl() = fv.ttl();
    if (fv.has_online()) stored.set_online(fv.online());
    stored.mutable_meta()->set_created_version(view.meta().created_version());
    return stored;
  }
  return absl::NotFoundError(absl::StrCat("on-demand feature view ", view.name(),
                                          ": its source feature view '", source,
                                          "' is not in the catalog"));
}

std::vector<const OnDemandFeatureView*> WriteTimeViewsOf(const FeatureRepo& repo,
                                                         absl::string_view feature_view) {
  std::vector<const OnDemandFeatureView*> out;
  for (const OnDemandFeatureView& view : repo.on_demand_feature_views()) {
    if (view.mode() == OnDemandFeatureView::ON_WRITE && SourceOf(view) == feature_view) {
      out.push_back(&view);
    }
  }
  return out;
}

absl::StatusOr<std::vector<onlinestore::ViewWrite>> DeriveWrites(
    uint64_t catalog_serial, const FeatureRepo& repo, const onlinestore::ViewWrite& write,
    absl::Span<const std::string> features, int64_t* failed) {
  std::vector<onlinestore::ViewWrite> out;
  const std::vector<const OnDemandFeatureView*> views = WriteTimeViewsOf(repo, write.view);
  if (views.empty()) return out;
  // Per key, the row the source's write keeps: the newest (event, created), the first of equals
  // (a later equal row is not newer). Only its outputs are derived: an equal row's would pass
  // the guard too and stand beside the kept row's inputs.
  std::vector<size_t> winners;
  {
    absl::flat_hash_map<absl::string_view, size_t> winner_of;
    for (size_t r = 0; r < write.rows.size(); ++r) {
      const onlinestore::RowWrite& row = write.rows[r];
      auto [it, added] = winner_of.emplace(row.key, r);
      const onlinestore::RowWrite& kept = write.rows[it->second];
      if (!added && std::make_pair(row.event_time, row.created_time) >
                        std::make_pair(kept.event_time, kept.created_time)) {
        it->second = r;
      }
    }
    for (const auto& [key, r] : winner_of) winners.push_back(r);
    std::sort(winners.begin(), winners.end());
  }
  for (const OnDemandFeatureView* view : views) {
    absl::StatusOr<std::shared_ptr<ViewProgram>> program =
        ThreadProgram(catalog_serial, repo, view->name());
    if (!program.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("write-time on-demand feature view ", view->name(),
                       " cannot be computed: ", program.status().message()));
    }
    // Where each input is among the write's values (-1: not written, nil).
    std::vector<int> value_of;
    for (const ProgramInput& input : (*program)->inputs()) {
      int at = -1;
      for (size_t f = 0; f < features.size(); ++f) {
        if (input.view == write.view && features[f] == input.column) at = static_cast<int>(f);
      }
      value_of.push_back(at);
    }
    onlinestore::ViewWrite& derived = out.emplace_back();
    derived.view = view->name();
    derived.view_version = view->meta().created_version();
    derived.key_ttl = write.key_ttl;
    // Written only for rows that are (or replace) the stored source row: an older row, refused
    // for the source, must not leave its outputs beside a newer row's inputs.
    derived.guard_view = write.view;
    derived.guard_view_version = write.view_version;
    for (const ProgramOutput& output : (*program)->outputs()) {
      derived.feature_fields.push_back(keys::FeatureField(view->name(), output.name));
    }
    Value null;
    null.set_null_val(types::v1::NULL_);
    const std::string null_bytes = null.SerializeAsString();
    std::vector<Value> parsed(value_of.size());
    std::vector<const Value*> inputs(value_of.size());
    std::vector<absl::StatusOr<Value>> outputs;
    derived.rows.reserve(write.rows.size());
    for (size_t r : winners) {
      const onlinestore::RowWrite& row = write.rows[r];
      for (size_t i = 0; i < value_of.size(); ++i) {
        inputs[i] = nullptr;
        const int at = value_of[i];
        if (at < 0 || static_cast<size_t>(at) >= row.values.size()) continue;
        // An empty value (not written) or one that does not parse is nil.
        if (!row.values[at].empty() && parsed[i].ParseFromString(row.values[at])) {
          inputs[i] = &parsed[i];
        }
      }
      (*program)->Evaluate(inputs, &outputs);
      onlinestore::RowWrite& out_row = derived.rows.emplace_back();
      out_row.key = row.key;
      out_row.event_time = row.event_time;
      out_row.created_time = row.created_time;
      out_row.values.reserve(outputs.size());
      for (const absl::StatusOr<Value>& value : outputs) {
        if (!value.ok()) {
          ++*failed;
          out_row.values.emplace_back(keys::FailedValue());
        } else if (value->val_case() == Value::VAL_NOT_SET) {
          out_row.values.push_back(null_bytes);
        } else {
          out_row.values.push_back(value->SerializeAsString());
        }
      }
    }
  }
  return out;
}

}  // namespace granary::transforms
