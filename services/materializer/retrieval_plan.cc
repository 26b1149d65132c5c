#include "services/materializer/retrieval_plan.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

#include "libs/base/status_macros.h"
#include "libs/transforms/program_cache.h"

namespace granary::materializer {
namespace {

namespace v1 = materialization::v1;
using offlinestore::ViewSource;
using types::v1::ValueType;

// Each asked view's source with only the asked features, in the order asked.
absl::StatusOr<std::vector<ViewSource>> Sources(const std::vector<ViewAsk>& asked,
                                                const registry_client::Catalog& catalog) {
  std::vector<ViewSource> out;
  std::vector<std::string> missing;
  for (const ViewAsk& ask : asked) {
    const registry::v1::FeatureView* view = catalog.FindFeatureView(ask.view);
    if (view == nullptr) {
      missing.push_back(absl::StrCat("feature view ", ask.view));
      continue;
    }
    if (view->has_offline() && !view->offline()) {
      return absl::FailedPreconditionError(
          absl::StrCat("feature view ", ask.view, " is not available offline"));
    }
    ASSIGN_OR_RETURN(ViewSource source, offlinestore::SourceOfView(catalog, ask.view));
    source.name = ask.alias;
    if (!ask.features.empty()) {
      std::vector<ViewSource::Feature> chosen;
      for (const std::string& name : ask.features) {
        auto it = std::find_if(source.features.begin(), source.features.end(),
                               [&](const ViewSource::Feature& f) { return f.name == name; });
        if (it == source.features.end()) {
          missing.push_back(absl::StrCat("feature ", ask.view, ":", name));
        } else {
          chosen.push_back(*it);
        }
      }
      source.features = std::move(chosen);
    }
    out.push_back(std::move(source));
  }
  if (!missing.empty()) {
    return absl::NotFoundError(
        absl::StrCat("project ", catalog.project(), " has no ", absl::StrJoin(missing, ", ")));
  }
  return out;
}

// The prefix of the views joined only as sources of on-demand views (never a view's name: the
// registry reserves names starting with "__").
constexpr char kSourcePrefix[] = "__source_";
// The name of a joined source's event time: no feature's (names starting with "__" are
// reserved).
constexpr char kRowTime[] = "__event_time";

}  // namespace

absl::StatusOr<std::vector<ViewAsk>> Asked(const v1::GetHistoricalFeaturesRequest& request,
                                           const registry_client::Catalog& catalog) {
  std::vector<ViewAsk> out;
  if (request.has_features()) {
    if (request.features().val_size() == 0) {
      return absl::InvalidArgumentError("features: none asked for");
    }
    for (const std::string& ref : request.features().val()) {
      std::vector<std::string> parts = absl::StrSplit(ref, ':');
      if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("features: \"", ref, "\" is not a \"view:feature\" reference"));
      }
      auto it = std::find_if(out.begin(), out.end(),
                             [&](const ViewAsk& a) { return a.view == parts[0]; });
      if (it == out.end()) it = out.insert(out.end(), ViewAsk{parts[0], parts[0], {}});
      it->features.push_back(parts[1]);
    }
    return out;
  }
  if (request.feature_service().empty()) {
    return absl::InvalidArgumentError("features or feature_service: one is required");
  }
  const registry::v1::FeatureService* service =
      catalog.FindFeatureService(request.feature_service());
  if (service == nullptr) {
    return absl::NotFoundError(absl::StrCat("feature_service: project ", catalog.project(),
                                            " has no feature service ", request.feature_service()));
  }
  for (const auto& projection : service->features()) {
    out.push_back({projection.feature_view(),
                   projection.alias().empty() ? projection.feature_view() : projection.alias(),
                   {projection.features().begin(), projection.features().end()}});
  }
  return out;
}

absl::StatusOr<RetrievalPlan> PlanRetrieval(const std::vector<ViewAsk>& asked,
                                            const registry_client::Catalog& catalog,
                                            bool full_feature_names) {
  RetrievalPlan plan;
  std::vector<ViewAsk> joined;
  std::vector<ViewAsk> sources;  // of on-demand views, by view
  // Per asked entry: the joined view it is, or the on-demand view.
  std::vector<std::pair<int, int>> kind;
  for (const ViewAsk& ask : asked) {
    if (catalog.FindOnDemandFeatureView(ask.view) == nullptr) {
      kind.emplace_back(static_cast<int>(joined.size()), -1);
      joined.push_back(ask);
      continue;
    }
    absl::StatusOr<std::shared_ptr<transforms::ViewProgram>> program =
        transforms::ThreadProgram(catalog.serial(), catalog.repo(), ask.view);
    if (!program.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("on-demand feature view ", ask.view,
                       " cannot be computed: ", program.status().message()));
    }
    OnDemandAsk od{.program = *program, .alias = ask.alias};
    const auto* definition = catalog.FindOnDemandFeatureView(ask.view);
    if (definition->mode() == registry::v1::OnDemandFeatureView::ON_WRITE) {
      for (const auto& source : definition->sources()) {
        if (source.has_feature_view()) od.stored_with = source.feature_view().feature_view();
      }
      // Its source is joined even when no output asked for reads it: its row's presence is.
      if (std::find_if(sources.begin(), sources.end(), [&](const ViewAsk& a) {
            return a.view == od.stored_with;
          }) == sources.end()) {
        sources.push_back(ViewAsk{od.stored_with, absl::StrCat(kSourcePrefix, od.stored_with), {}});
      }
    }
    const auto& outputs = od.program->outputs();
    auto output_index = [&](const std::string& name) {
      for (size_t o = 0; o < outputs.size(); ++o) {
        if (outputs[o].name == name) return static_cast<int>(o);
      }
      return -1;
    };
    if (ask.features.empty()) {
      for (size_t o = 0; o < outputs.size(); ++o) od.outputs.push_back(static_cast<int>(o));
    }
    for (const std::string& name : ask.features) {
      const int o = output_index(name);
      if (o < 0) {
        return absl::NotFoundError(
            absl::StrCat("project ", catalog.project(), " has no feature ", ask.view, ":", name));
      }
      od.outputs.push_back(o);
    }
    // Only what the outputs asked for read is joined (or required of the entity rows).
    std::vector<bool> needed(od.program->inputs().size(), false);
    for (int o : od.outputs) {
      for (int i : od.program->reads(o)) needed[i] = true;
    }
    for (size_t i = 0; i < od.program->inputs().size(); ++i) {
      const transforms::ProgramInput& input = od.program->inputs()[i];
      od.inputs.push_back({.needed = needed[i]});
      if (input.from_request || !needed[i]) continue;
      auto it = std::find_if(sources.begin(), sources.end(),
                             [&](const ViewAsk& a) { return a.view == input.view; });
      if (it == sources.end()) {
        it = sources.insert(sources.end(),
                            ViewAsk{input.view, absl::StrCat(kSourcePrefix, input.view), {}});
      }
      if (std::find(it->features.begin(), it->features.end(), input.column) == it->features.end()) {
        it->features.push_back(input.column);
      }
    }
    kind.emplace_back(-1, static_cast<int>(plan.on_demand.size()));
    plan.on_demand.push_back(std::move(od));
  }
  const int first_source = static_cast<int>(joined.size());
  joined.insert(joined.end(), sources.begin(), sources.end());
  ASSIGN_OR_RETURN(plan.views, Sources(joined, catalog));
  // The event time of the source rows of write-time views, joined as one more column.
  for (OnDemandAsk& od : plan.on_demand) {
    if (od.stored_with.empty()) continue;
    for (int v = first_source; v < static_cast<int>(plan.views.size()); ++v) {
      if (joined[v].view != od.stored_with) continue;
      auto& features = plan.views[v].features;
      auto it = std::find_if(features.begin(), features.end(),
                             [](const ViewSource::Feature& f) { return f.name == kRowTime; });
      if (it == features.end()) {
        it = features.insert(features.end(), {.column = plan.views[v].timestamp_column,
                                              .name = kRowTime,
                                              .type = ValueType::UNIX_TIMESTAMP});
      }
      od.row_time_view = v;
      od.row_time_feature = static_cast<int>(it - features.begin());
    }
  }

  // Where each on-demand input is in a joined row (request columns are found in the entity
  // columns, once those are known).
  for (OnDemandAsk& od : plan.on_demand) {
    for (size_t i = 0; i < od.program->inputs().size(); ++i) {
      const transforms::ProgramInput& input = od.program->inputs()[i];
      OnDemandAsk::Input& where = od.inputs[i];
      if (!input.from_request && where.needed) {
        for (int v = first_source; v < static_cast<int>(plan.views.size()); ++v) {
          if (joined[v].view != input.view) continue;
          const auto& features = plan.views[v].features;
          for (size_t f = 0; f < features.size(); ++f) {
            if (features[f].name == input.column) {
              where.view = v;
              where.feature = static_cast<int>(f);
            }
          }
        }
      }
    }
  }

  std::set<std::string> named;
  auto add_output = [&](OutputColumn column) -> absl::Status {
    if (!named.insert(column.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("features: two columns would be named ", column.name,
                       full_feature_names ? "" : "; ask for full feature names"));
    }
    plan.outputs.push_back(std::move(column));
    return absl::OkStatus();
  };
  for (const auto& [view, od] : kind) {
    if (view >= 0) {
      const ViewSource& source = plan.views[view];
      for (size_t f = 0; f < source.features.size(); ++f) {
        const ViewSource::Feature& feature = source.features[f];
        RETURN_IF_ERROR(add_output(
            {.name =
                 full_feature_names ? absl::StrCat(source.name, "__", feature.name) : feature.name,
             .type = feature.type == ValueType::INVALID ? ValueType::STRING : feature.type,
             .view = view,
             .feature = static_cast<int>(f)}));
      }
      continue;
    }
    const OnDemandAsk& ask = plan.on_demand[od];
    for (int o : ask.outputs) {
      const transforms::ProgramOutput& output = ask.program->outputs()[o];
      RETURN_IF_ERROR(add_output(
          {.name = full_feature_names ? absl::StrCat(ask.alias, "__", output.name) : output.name,
           .type = output.type,
           .on_demand = od,
           .output = o}));
    }
  }
  return plan;
}

}  // namespace granary::materializer
