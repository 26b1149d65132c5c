#include "services/serving/read_plan.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "libs/base/status_macros.h"
#include "libs/keys/entity_key.h"
#include "libs/keys/hash_field.h"
#include "libs/onlinestore/read_pipeline.h"
#include "libs/transforms/program_cache.h"
#include "libs/transforms/write_time.h"

namespace granary::serving {
namespace {

using registry::v1::FeatureView;
using registry::v1::OnDemandFeatureView;
using registry_client::Catalog;

// One view's selected features, under the name the response gives the view: a feature view's,
// read from Redis, or an on-demand view's, computed.
struct Projection {
  const FeatureView* view = nullptr;
  const OnDemandFeatureView* on_demand = nullptr;
  std::string display_name;  // the alias, or the view's name
  std::vector<std::string> features;
  std::string origin;  // where the request named it, for messages

  const std::string& name() const { return view != nullptr ? view->name() : on_demand->name(); }
  template <typename F>
  void ForEachField(F f) const {
    if (view != nullptr) {
      for (const auto& field : view->schema()) f(field.name());
    } else {
      for (const auto& field : on_demand->schema()) f(field.name());
    }
  }
  bool HasFeature(absl::string_view feature) const {
    bool found = false;
    ForEachField([&](const std::string& name) { found = found || name == feature; });
    return found;
  }
};

absl::Duration TtlOf(const FeatureView& view) {
  return absl::Seconds(view.ttl().seconds()) + absl::Nanoseconds(view.ttl().nanos());
}

absl::StatusOr<const FeatureView*> FindServedView(const Catalog& catalog, const std::string& name,
                                                  absl::string_view origin) {
  const FeatureView* view = catalog.FindFeatureView(name);
  if (view == nullptr) {
    return absl::NotFoundError(absl::StrCat(origin, ": feature view '", name,
                                            "' not found in project '", catalog.project(), "'"));
  }
  if (view->has_online() && !view->online()) {
    return absl::FailedPreconditionError(
        absl::StrCat(origin, ": feature view '", name, "' is not served online (online: false)"));
  }
  return view;
}

// A feature view served online, or an on-demand view: computed at read time, or (ON_WRITE) read
// like the feature view it is stored as, which `stored` keeps for the plan's making.
absl::StatusOr<Projection> FindProjected(const Catalog& catalog, const std::string& name,
                                         absl::string_view origin,
                                         std::deque<FeatureView>* stored) {
  Projection p;
  p.origin = std::string(origin);
  p.display_name = name;
  p.on_demand = catalog.FindOnDemandFeatureView(name);
  if (p.on_demand != nullptr && p.on_demand->mode() == OnDemandFeatureView::ON_WRITE) {
    absl::StatusOr<FeatureView> view = transforms::StoredViewOf(catalog.repo(), *p.on_demand);
    if (!view.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(origin, ": ", view.status().message()));
    }
    if (view->has_online() && !view->online()) {
      return absl::FailedPreconditionError(absl::StrCat(
          origin, ": on-demand feature view '", name, "' is stored with a view not served online"));
    }
    p.view = &stored->emplace_back(std::move(*view));
    p.on_demand = nullptr;
    return p;
  }
  if (p.on_demand == nullptr) {
    ASSIGN_OR_RETURN(p.view, FindServedView(catalog, name, origin));
  }
  return p;
}

absl::StatusOr<std::vector<Projection>> Resolve(const Catalog& catalog,
                                                const FeatureSelection& selection,
                                                std::deque<FeatureView>* stored) {
  std::vector<Projection> out;
  if (!selection.feature_service.empty()) {
    const auto* service = catalog.FindFeatureService(selection.feature_service);
    if (service == nullptr) {
      return absl::NotFoundError(absl::StrCat("feature_service: feature service '",
                                              selection.feature_service, "' not found in project '",
                                              catalog.project(), "'"));
    }
    std::string origin = absl::StrCat("feature service '", service->name(), "'");
    for (const auto& projection : service->features()) {
      ASSIGN_OR_RETURN(Projection p,
                       FindProjected(catalog, projection.feature_view(), origin, stored));
      if (!projection.alias().empty()) p.display_name = projection.alias();
      for (const std::string& f : projection.features()) {
        if (!p.HasFeature(f)) {
          return absl::NotFoundError(
              absl::StrCat(origin, ": feature view '", p.name(), "' has no feature '", f, "'"));
        }
        p.features.push_back(f);
      }
      if (projection.features().empty()) {
        p.ForEachField([&](const std::string& name) { p.features.push_back(name); });
      }
      out.push_back(std::move(p));
    }
    return out;
  }
  for (size_t i = 0; i < selection.refs.size(); ++i) {
    const FeatureRef& ref = selection.refs[i];
    std::string origin = absl::StrCat("features.val[", i, "]");
    ASSIGN_OR_RETURN(Projection p, FindProjected(catalog, ref.view, origin, stored));
    if (!p.HasFeature(ref.feature)) {
      return absl::NotFoundError(absl::StrCat(origin, ": feature view '", ref.view,
                                              "' has no feature '", ref.feature, "'"));
    }
    p.features.push_back(ref.feature);
    out.push_back(std::move(p));
  }
  return out;
}

// The name an entity is keyed by: its join key, else its own name.
const std::string& JoinKeyName(const registry::v1::Entity& entity) {
  return entity.join_key().empty() ? entity.name() : entity.join_key();
}

// A key shape: the join-key names in key (name) order, joined; what groups and stored-field
// counts are looked up by.
std::string ShapeKey(const std::vector<std::string>& sorted_names) {
  return absl::StrJoin(sorted_names, "\x1f");
}

// A group as it is being assembled.
struct GroupBuild {
  std::string shape;  // ShapeKey of its join keys
  std::vector<int> join_keys;
  std::vector<PlannedView> views;
  absl::flat_hash_map<std::string, int> view_index;
  std::vector<std::pair<int, std::string>> features;  // (view, feature)
  absl::flat_hash_map<std::string, int> feature_index;
  std::vector<std::vector<int>> columns;
};

// The join keys of a view, registered in the plan; their indices in key (name) order.
absl::StatusOr<std::vector<int>> JoinKeysOf(const Catalog& catalog, const FeatureView& view,
                                            ReadPlan& plan) {
  std::vector<int> keys;
  for (const std::string& entity_name : view.entities()) {
    const auto* entity = catalog.FindEntity(entity_name);
    if (entity == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "feature view '", view.name(), "' names entity '", entity_name, "', not in the catalog"));
    }
    const std::string& name = JoinKeyName(*entity);
    if (!keys::IsKeyType(entity->value_type())) {
      return absl::FailedPreconditionError(
          absl::StrCat("entity '", entity->name(), "' has a value type that cannot be a key"));
    }
    auto [it, added] = plan.join_key_index.emplace(name, static_cast<int>(plan.join_keys.size()));
    if (added) {
      plan.join_keys.push_back({name, entity->value_type(), entity->name()});
    } else if (plan.join_keys[it->second].type != entity->value_type()) {
      const JoinKey& first = plan.join_keys[it->second];
      return absl::FailedPreconditionError(absl::StrCat(
          "join key '", name, "' is ", types::v1::ValueType::Enum_Name(first.type), " for entity '",
          first.entity, "' but ", types::v1::ValueType::Enum_Name(entity->value_type()),
          " for entity '", entity->name(), "': these features cannot be read in one request"));
    }
    if (std::find(keys.begin(), keys.end(), it->second) == keys.end()) keys.push_back(it->second);
  }
  std::sort(keys.begin(), keys.end(),
            [&](int a, int b) { return plan.join_keys[a].name < plan.join_keys[b].name; });
  return keys;
}

// The join-key names of a view in key (name) order, joined as group keys are; nullopt when an
// entity is not in the catalog.
std::optional<std::string> KeyShapeOf(const Catalog& catalog, const FeatureView& view) {
  std::vector<std::string> names;
  for (const std::string& entity_name : view.entities()) {
    const auto* entity = catalog.FindEntity(entity_name);
    if (entity == nullptr) return std::nullopt;
    names.push_back(JoinKeyName(*entity));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return ShapeKey(names);
}

// How many fields the catalog stores under each key shape: what a hash of that shape holds
// when every view keyed by it was written (fields of views deleted since may linger too).
absl::flat_hash_map<std::string, size_t> StoredFieldsByShape(const Catalog& catalog) {
  absl::flat_hash_map<std::string, size_t> stored;
  auto count = [&](const FeatureView& view) {
    if (view.has_online() && !view.online()) return;
    std::optional<std::string> shape = KeyShapeOf(catalog, view);
    if (shape.has_value()) stored[*shape] += 2 + view.schema_size();
  };
  for (const FeatureView& view : catalog.repo().feature_views()) count(view);
  for (const OnDemandFeatureView& od : catalog.repo().on_demand_feature_views()) {
    if (od.mode() != OnDemandFeatureView::ON_WRITE) continue;
    absl::StatusOr<FeatureView> view = transforms::StoredViewOf(catalog.repo(), od);
    if (view.ok()) count(*view);
  }
  return stored;
}

// Whether `group` asks for enough of its hashes to read them whole; if so, where its fields
// are. Never when two of its fields are the same (distinct features whose field hashes
// collide): an HMGET gives each the value, a position only one.
void ChooseWholeHashRead(KeyGroup& group, size_t stored, double share) {
  if (share <= 0 || stored == 0 || static_cast<double>(group.fields.size()) < share * stored) {
    return;
  }
  for (size_t i = 0; i < group.fields.size(); ++i) {
    if (!group.positions.emplace(group.fields[i], static_cast<uint32_t>(i)).second) {
      group.positions.clear();
      return;
    }
  }
  group.read_whole = true;
}

}  // namespace

absl::StatusOr<FeatureSelection> FeatureSelection::FromRequest(
    const v1::GetOnlineFeaturesRequest& request) {
  FeatureSelection s;
  s.full_feature_names = request.full_feature_names();
  switch (request.kind_case()) {
    case v1::GetOnlineFeaturesRequest::kFeatureService:
      if (request.feature_service().empty()) {
        return absl::InvalidArgumentError("feature_service: empty name");
      }
      s.feature_service = request.feature_service();
      return s;
    case v1::GetOnlineFeaturesRequest::kFeatures:
      for (int i = 0; i < request.features().val_size(); ++i) {
        const std::string& ref = request.features().val(i);
        size_t colon = ref.find(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == ref.size()) {
          return absl::InvalidArgumentError(absl::StrCat("features.val[", i, "]: \"", ref,
                                                         "\" is not a \"view:feature\" reference"));
        }
        s.refs.push_back({ref.substr(0, colon), ref.substr(colon + 1)});
      }
      if (s.refs.empty()) return absl::InvalidArgumentError("features: no feature references");
      return s;
    case v1::GetOnlineFeaturesRequest::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("features: give feature references or a feature_service");
}

absl::StatusOr<std::shared_ptr<const ReadPlan>> BuildReadPlan(const Catalog& catalog,
                                                              const FeatureSelection& selection,
                                                              const ReadPlanOptions& options) {
  // Write-time on-demand views as the feature views they are stored as.
  std::deque<FeatureView> stored;
  ASSIGN_OR_RETURN(std::vector<Projection> projections, Resolve(catalog, selection, &stored));
  auto plan = std::make_shared<ReadPlan>();
  plan->project = catalog.project();
  plan->catalog_serial = catalog.serial();

  std::vector<GroupBuild> groups;
  absl::flat_hash_map<std::string, int> group_index;     // by the joined join-key names
  absl::flat_hash_map<std::string, std::string> named;   // response name -> origin
  absl::flat_hash_map<std::string, int> feature_column;  // "view:feature" -> its first column
  // Reads `feature` of `view` into feature column `column` (one Redis field per feature of a
  // group, however many columns it fills).
  auto read_into = [&](const FeatureView& view, const std::string& feature,
                       int column) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<int> keys, JoinKeysOf(catalog, view, *plan));
    std::vector<std::string> key_names;
    for (int k : keys) key_names.push_back(plan->join_keys[k].name);
    auto [git, new_group] =
        group_index.emplace(ShapeKey(key_names), static_cast<int>(groups.size()));
    if (new_group) groups.push_back({.shape = git->first, .join_keys = keys});
    GroupBuild& group = groups[git->second];
    auto [vit, new_view] =
        group.view_index.emplace(view.name(), static_cast<int>(group.views.size()));
    if (new_view) {
      group.views.push_back({view.name(), TtlOf(view), view.meta().created_version()});
    }
    const std::string origin = absl::StrCat(view.name(), ":", feature);
    auto [fit, new_feature] =
        group.feature_index.emplace(origin, static_cast<int>(group.features.size()));
    if (new_feature) {
      group.features.emplace_back(vit->second, feature);
      group.columns.emplace_back();
    }
    group.columns[fit->second].push_back(column);
    feature_column.emplace(origin, column);
    return absl::OkStatus();
  };

  // The response's columns, in order; on-demand outputs are filled once computed.
  std::vector<
      std::pair<const OnDemandFeatureView*, absl::flat_hash_map<std::string, std::vector<int>>>>
      on_demand;
  for (const Projection& p : projections) {
    for (const std::string& feature : p.features) {
      std::string name =
          selection.full_feature_names ? absl::StrCat(p.display_name, "__", feature) : feature;
      std::string origin = absl::StrCat(p.name(), ":", feature);
      auto [nit, fresh] = named.emplace(name, origin);
      if (!fresh) {
        return absl::InvalidArgumentError(
            absl::StrCat("features: two features would be named '", name, "' in the response (",
                         nit->second, " and ", origin, " from ", p.origin, ")",
                         selection.full_feature_names ? "" : "; ask for full feature names"));
      }
      int column = static_cast<int>(plan->feature_names.size());
      plan->feature_names.push_back(std::move(name));
      if (p.view != nullptr) {
        RETURN_IF_ERROR(read_into(*p.view, feature, column));
        continue;
      }
      auto it = std::find_if(on_demand.begin(), on_demand.end(),
                             [&](const auto& od) { return od.first == p.on_demand; });
      if (it == on_demand.end()) it = on_demand.insert(on_demand.end(), {p.on_demand, {}});
      it->second[feature].push_back(column);
    }
  }

  // On-demand views: their sources' features are read in the same round trip, into the columns
  // already asked for or into hidden ones; their request columns come from request_context.
  for (const auto& [od, output_columns] : on_demand) {
    absl::StatusOr<std::shared_ptr<transforms::ViewProgram>> program =
        transforms::ThreadProgram(catalog.serial(), catalog.repo(), od->name());
    if (!program.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("on-demand feature view '", od->name(),
                       "' cannot be computed: ", program.status().message()));
    }
    PlannedOnDemand planned{.view = od->name()};
    const std::string origin = absl::StrCat("on-demand feature view '", od->name(), "'");
    // Only what the outputs asked for read is required of the request and read from Redis.
    std::vector<bool> needed((*program)->inputs().size(), false);
    for (size_t o = 0; o < (*program)->outputs().size(); ++o) {
      if (output_columns.count((*program)->outputs()[o].name) == 0) continue;
      for (int i : (*program)->reads(o)) needed[i] = true;
    }
    for (size_t i = 0; i < (*program)->inputs().size(); ++i) {
      const transforms::ProgramInput& input = (*program)->inputs()[i];
      PlannedOnDemand::Input where;
      if (!needed[i]) {
        // Left nil: no output asked for reads it.
      } else if (input.from_request) {
        auto rit = std::find_if(plan->request_columns.begin(), plan->request_columns.end(),
                                [&](const RequestColumn& c) { return c.name == input.column; });
        if (rit == plan->request_columns.end()) {
          rit = plan->request_columns.insert(plan->request_columns.end(),
                                             {input.column, input.type, od->name()});
        } else if (rit->type != input.type) {
          return absl::FailedPreconditionError(absl::StrCat(
              "request column '", input.column, "' is ", types::v1::ValueType::Enum_Name(rit->type),
              " for on-demand feature view '", rit->view, "' but ",
              types::v1::ValueType::Enum_Name(input.type), " for '", od->name(),
              "': these features cannot be computed in one request"));
        }
        where.request = static_cast<int>(rit - plan->request_columns.begin());
      } else {
        ASSIGN_OR_RETURN(const FeatureView* view, FindServedView(catalog, input.view, origin));
        auto cit = feature_column.find(absl::StrCat(view->name(), ":", input.column));
        if (cit != feature_column.end()) {
          where.column = cit->second;
        } else {
          where.column = static_cast<int>(plan->feature_names.size() + plan->hidden_columns++);
          RETURN_IF_ERROR(read_into(*view, input.column, where.column));
        }
      }
      planned.inputs.push_back(where);
    }
    for (const transforms::ProgramOutput& output : (*program)->outputs()) {
      auto oit = output_columns.find(output.name);
      planned.outputs.push_back(oit == output_columns.end() ? std::vector<int>() : oit->second);
      planned.wanted.push_back(oit != output_columns.end());
    }
    plan->on_demand.push_back(std::move(planned));
  }
  if (!plan->on_demand.empty()) {
    plan->repo = std::make_shared<const registry::v1::FeatureRepo>(catalog.repo());
  }

  const absl::flat_hash_map<std::string, size_t> stored_fields =
      options.whole_hash_share > 0 ? StoredFieldsByShape(catalog)
                                   : absl::flat_hash_map<std::string, size_t>();
  for (GroupBuild& g : groups) {
    KeyGroup out;
    out.join_keys = g.join_keys;
    std::vector<std::string> names;
    for (int k : g.join_keys) names.push_back(plan->join_keys[k].name);
    if (names.empty()) names.push_back(keys::kDummyJoinKey);
    out.key_prefix = keys::JoinKeysPrefix(names);
    for (const PlannedView& v : g.views) out.fields.push_back(keys::TimestampField(v.name));
    for (const PlannedView& v : g.views) out.fields.push_back(keys::CreatedField(v.name));
    for (size_t k = 0; k < g.features.size(); ++k) {
      const auto& [view, feature] = g.features[k];
      out.fields.push_back(keys::FeatureField(g.views[view].name, feature));
      out.features.push_back({view, std::move(g.columns[k])});
    }
    out.encoded_fields = onlinestore::EncodeFields(out.fields);
    out.views = std::move(g.views);
    auto sit = stored_fields.find(g.shape);
    ChooseWholeHashRead(out, sit == stored_fields.end() ? 0 : sit->second,
                        options.whole_hash_share);
    plan->groups.push_back(std::move(out));
  }
  v1::GetOnlineFeaturesResponseMetadata metadata;
  for (const JoinKey& k : plan->join_keys) metadata.mutable_feature_names()->add_val(k.name);
  for (const std::string& n : plan->feature_names) metadata.mutable_feature_names()->add_val(n);
  plan->metadata = metadata.SerializeAsString();
  return plan;
}

}  // namespace granary::serving
