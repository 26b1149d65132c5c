#include "services/registry/breaking_changes.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "granary/registry/v1/objects.pb.h"

#include "libs/catalog/rules.h"
#include "services/registry/write_time_renewal.h"

namespace granary::registry {
namespace {

using v1::FeatureRepo;
using v1::FeatureViewProjection;
using v1::Field;
using ValueType = types::v1::ValueType;

// Feature name -> type, in schema order, of a (possibly on-demand) view; empty if unknown.
std::vector<std::pair<std::string, ValueType::Enum>> ViewFeatures(const FeatureRepo& repo,
                                                                  const std::string& view) {
  std::vector<std::pair<std::string, ValueType::Enum>> out;
  auto add = [&](const google::protobuf::RepeatedPtrField<Field>& schema) {
    for (const Field& f : schema) out.emplace_back(f.name(), f.dtype());
  };
  for (const auto& fv : repo.feature_views()) {
    if (fv.name() == view) add(fv.schema());
  }
  for (const auto& od : repo.on_demand_feature_views()) {
    if (od.name() == view) add(od.schema());
  }
  return out;
}

// Output feature -> expression of an on-demand view; empty for any other view.
std::map<std::string, std::string> Expressions(const FeatureRepo& repo, const std::string& view) {
  for (const auto& od : repo.on_demand_feature_views()) {
    if (od.name() == view) {
      return {od.transformation().expressions().begin(), od.transformation().expressions().end()};
    }
  }
  return {};
}

const registry::v1::OnDemandFeatureView* FindOnDemand(const FeatureRepo& repo,
                                                      const std::string& view) {
  for (const auto& od : repo.on_demand_feature_views()) {
    if (od.name() == view) return &od;
  }
  return nullptr;
}

// An on-demand view without its expressions: what else it computes from (the expressions are
// compared output by output, for the outputs a consumer uses).
registry::v1::OnDemandFeatureView WithoutExpressions(registry::v1::OnDemandFeatureView view) {
  view.mutable_transformation()->clear_expressions();
  return view;
}

// The mode of an on-demand view; ON_READ for any other view.
registry::v1::OnDemandFeatureView::Mode ModeOf(const FeatureRepo& repo, const std::string& view) {
  for (const auto& od : repo.on_demand_feature_views()) {
    if (od.name() == view) return od.mode();
  }
  return registry::v1::OnDemandFeatureView::ON_READ;
}

// The features a projection selects (all of the view's when it lists none).
std::set<std::string> Selected(const FeatureRepo& repo, const FeatureViewProjection& p) {
  std::set<std::string> out(p.features().begin(), p.features().end());
  if (out.empty()) {
    for (const auto& [name, type] : ViewFeatures(repo, p.feature_view())) out.insert(name);
  }
  return out;
}

// A consumer of a view: a feature service's projection or an on-demand view's source.
struct Use {
  std::string consumer;  // "feature service driver_activity"
  const FeatureViewProjection* projection;
};

std::vector<Use> UsesOf(const FeatureRepo& repo, const std::string& view) {
  std::vector<Use> out;
  for (const auto& s : repo.feature_services()) {
    for (const auto& p : s.features()) {
      if (p.feature_view() == view) out.push_back({"feature service " + s.name(), &p});
    }
  }
  for (const auto& od : repo.on_demand_feature_views()) {
    for (const auto& src : od.sources()) {
      if (src.has_feature_view() && src.feature_view().feature_view() == view) {
        out.push_back({"on-demand feature view " + od.name(), &src.feature_view()});
      }
    }
  }
  return out;
}

// What a service returns, as "<projection name>:<feature>": the projection name is its alias
// when it has one, and it is what a consumer sees in full feature names.
std::set<std::string> ServiceOutputs(const FeatureRepo& repo, const std::string& service) {
  std::set<std::string> out;
  for (const auto& s : repo.feature_services()) {
    if (s.name() != service) continue;
    for (const auto& p : s.features()) {
      for (const std::string& f : Selected(repo, p)) out.insert(catalog::ItemKey(p) + ":" + f);
    }
  }
  return out;
}

bool StillThere(const FeatureRepo& repo, const std::string& consumer) {
  for (const auto& s : repo.feature_services()) {
    if (consumer == "feature service " + s.name()) return true;
  }
  for (const auto& od : repo.on_demand_feature_views()) {
    if (consumer == "on-demand feature view " + od.name()) return true;
  }
  return false;
}

void Mark(v1::ObjectChange* change, const std::string& reason,
          const std::vector<std::string>& path_prefixes) {
  change->set_breaking(true);
  change->add_breaking_reasons(reason);
  for (auto& field : *change->mutable_fields()) {
    for (const std::string& prefix : path_prefixes) {
      if (field.path() == prefix || absl::StartsWith(field.path(), prefix + ".") ||
          absl::StartsWith(field.path(), prefix + "[") ||
          absl::StartsWith(field.path(), prefix + " ")) {
        field.set_breaking(true);
      }
    }
  }
}

const v1::FieldChange* FieldChange(const v1::ObjectChange& change, absl::string_view path) {
  for (const auto& f : change.fields()) {
    if (f.path() == path) return &f;
  }
  return nullptr;
}

bool FieldChanged(const v1::ObjectChange& change, absl::string_view path) {
  return FieldChange(change, path) != nullptr;
}

void ViewUpdated(const FeatureRepo& current, const FeatureRepo& desired, v1::ObjectChange* c) {
  const std::string& view = c->name();
  std::map<std::string, ValueType::Enum> before, after;
  for (const auto& [n, t] : ViewFeatures(current, view)) before[n] = t;
  for (const auto& [n, t] : ViewFeatures(desired, view)) after[n] = t;
  bool entities_changed = FieldChanged(*c, "entities");
  const v1::FieldChange* online = FieldChange(*c, "online");
  bool goes_offline = online != nullptr && online->new_value() == "false";
  for (const Use& use : UsesOf(desired, view)) {
    if (goes_offline && absl::StartsWith(use.consumer, "feature service ")) {
      Mark(c, absl::StrCat(use.consumer, " reads ", view, " online, where it stops being served"),
           {"online"});
    }
    std::set<std::string> used = Selected(desired, *use.projection);
    bool all = use.projection->features().empty();
    for (const auto& [name, type] : before) {
      auto it = after.find(name);
      std::string ref = absl::StrCat(view, ":", name);
      if (it == after.end() && all) {
        Mark(c, absl::StrCat(use.consumer, " uses ", ref, ", which is removed"),
             {absl::StrCat("schema[", name, "]")});
      } else if (it != after.end() && it->second != type && used.count(name)) {
        Mark(c,
             absl::StrCat(use.consumer, " uses ", ref, ", which changes type from ",
                          ValueType::Enum_Name(type), " to ", ValueType::Enum_Name(it->second)),
             {absl::StrCat("schema[", name, "].dtype")});
      }
    }
    // A model trained on an on-demand feature's old values would be served different ones.
    if (absl::StartsWith(use.consumer, "feature service ")) {
      const std::map<std::string, std::string> old_text = Expressions(current, view),
                                               new_text = Expressions(desired, view);
      for (const std::string& name : used) {
        auto was = old_text.find(name), is = new_text.find(name);
        if (was != old_text.end() && is != new_text.end() && was->second != is->second) {
          Mark(c,
               absl::StrCat(use.consumer, " uses ", view, ":", name,
                            ", whose expression changes: models trained on its old values "
                            "would be served new ones"),
               {"transformation.expressions"});
        }
      }
      // A write-time view whose stored outputs are removed until its source is written again.
      const registry::v1::OnDemandFeatureView* before = FindOnDemand(current, view);
      const registry::v1::OnDemandFeatureView* after = FindOnDemand(desired, view);
      if (before != nullptr && after != nullptr && ModeOf(current, view) == ModeOf(desired, view) &&
          StoresOtherOutputs(*before, *after)) {
        Mark(c,
             absl::StrCat(use.consumer, " uses ", view,
                          ", whose stored outputs are removed by this change until its source is "
                          "pushed or materialized again"),
             {"transformation"});
      } else if (before != nullptr && after != nullptr &&
                 ModeOf(current, view) == ModeOf(desired, view) &&
                 ComputesOtherOutputs(WithoutExpressions(*before), WithoutExpressions(*after))) {
        // The same text over other sources, request types or limits computes other values.
        Mark(c,
             absl::StrCat(use.consumer, " uses ", view,
                          ", whose sources, schema or limits change: models trained on its old "
                          "values may be served other ones"),
             {"sources", "schema", "transformation"});
      }
      // Stored outputs exist only for rows written since; computed ones for every row.
      if (ModeOf(current, view) != ModeOf(desired, view)) {
        Mark(c,
             absl::StrCat(use.consumer, " uses ", view, ", which changes mode to ",
                          registry::v1::OnDemandFeatureView::Mode_Name(ModeOf(desired, view)),
                          ModeOf(desired, view) == registry::v1::OnDemandFeatureView::ON_WRITE
                              ? ": nothing is stored until its source is pushed or materialized "
                                "again"
                              : ""),
             {"mode"});
      }
    }
    if (entities_changed) {
      Mark(
          c,
          absl::StrCat(use.consumer, " reads ", view, ", whose entities (and request keys) change"),
          {"entities"});
    }
  }
}

void EntityUpdated(const FeatureRepo& current, v1::ObjectChange* c) {
  if (!FieldChanged(*c, "join_key") && !FieldChanged(*c, "value_type")) return;
  std::vector<std::string> views;
  for (const auto& fv : current.feature_views()) {
    for (const auto& e : fv.entities()) {
      if (e == c->name()) views.push_back(fv.name());
    }
  }
  if (views.empty()) return;
  Mark(c,
       absl::StrCat("feature views ", absl::StrJoin(views, ", "), " are keyed by entity ",
                    c->name(), "; values stored under the old key would no longer be found"),
       {"join_key", "value_type"});
}

}  // namespace

void MarkBreakingChanges(const FeatureRepo& current, const FeatureRepo& desired, v1::Diff* diff) {
  for (v1::ObjectChange& c : *diff->mutable_changes()) {
    bool is_view = c.kind() == v1::FEATURE_VIEW || c.kind() == v1::ON_DEMAND_FEATURE_VIEW;
    if (c.kind() == v1::ENTITY && c.change() == v1::UPDATE) {
      EntityUpdated(current, &c);
    } else if (is_view && c.change() == v1::UPDATE) {
      ViewUpdated(current, desired, &c);
    } else if (is_view && c.change() == v1::DELETE) {
      // A consumer deleted in the same change is not broken by it (a deleted service is
      // marked on its own).
      for (const Use& use : UsesOf(current, c.name())) {
        if (StillThere(desired, use.consumer)) {
          Mark(&c, absl::StrCat(use.consumer, " references ", c.name()), {});
        }
      }
    } else if (c.kind() == v1::FEATURE_SERVICE && c.change() == v1::DELETE) {
      Mark(&c,
           absl::StrCat("model servers that request feature service ", c.name(),
                        " would get NOT_FOUND"),
           {});
    } else if (c.kind() == v1::FEATURE_SERVICE && c.change() == v1::UPDATE) {
      std::set<std::string> after = ServiceOutputs(desired, c.name());
      std::vector<std::string> dropped;
      for (const std::string& ref : ServiceOutputs(current, c.name())) {
        if (!after.count(ref)) dropped.push_back(ref);
      }
      if (!dropped.empty()) {
        Mark(&c,
             absl::StrCat("feature service ", c.name(), " no longer returns ",
                          absl::StrJoin(dropped, ", ")),
             {"features"});
      }
    }
    if (c.breaking()) diff->set_breaking(true);
  }
}

}  // namespace granary::registry
