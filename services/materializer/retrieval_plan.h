// What a historical retrieval joins and returns, worked out before any SQL: the views asked for
// (by reference or through a feature service), the on-demand views among them with their
// compiled programs and where each of their inputs is in a joined row (their feature-view
// sources join as extra views, their request sources are entity columns), and the response's
// columns in the order asked.
//
//   ASSIGN_OR_RETURN(std::vector<ViewAsk> asked, Asked(request, catalog));
//   ASSIGN_OR_RETURN(RetrievalPlan plan, PlanRetrieval(asked, catalog, full_feature_names));
#ifndef GRANARY_SERVICES_MATERIALIZER_RETRIEVAL_PLAN_H_
#define GRANARY_SERVICES_MATERIALIZER_RETRIEVAL_PLAN_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "granary/materialization/v1/materialization.pb.h"

#include "libs/offlinestore/view_source.h"
#include "libs/registry_client/catalog.h"
#include "libs/transforms/view_program.h"

namespace granary::materializer {

// One view's part of the request: its features in the order asked, and the name its features
// take with full feature names (a feature service's alias, else the view's).
struct ViewAsk {
  std::string view;
  std::string alias;
  std::vector<std::string> features;  // empty: all of them
};

// An on-demand view of the request: its program, the outputs asked for, and where each input
// of the program comes from in a joined row.
struct OnDemandAsk {
  std::shared_ptr<transforms::ViewProgram> program;
  std::string alias;
  std::vector<int> outputs;  // indices into program->outputs(), in the order asked
  // Per program input: the view (index into RetrievalPlan::views) and feature holding it, or
  // the entity column (request sources read the entity rows' columns; set once those are known).
  struct Input {
    // Whether an output asked for reads it (else it stays nil, and need not be there).
    bool needed = false;
    int view = -1;
    int feature = -1;
    int entity_column = -1;
  };
  std::vector<Input> inputs;
  // A write-time view's source feature view, and where that view's event time is in a joined
  // row (-1: a view computed at read time). Null there: no source row within its TTL, and the
  // outputs are null, as serving answers NOT_FOUND or OUTSIDE_MAX_AGE for what was not stored.
  std::string stored_with;
  int row_time_view = -1;
  int row_time_feature = -1;
};

// A column the request returns after the entity columns.
struct OutputColumn {
  std::string name;
  types::v1::ValueType::Enum type = types::v1::ValueType::INVALID;
  int view = -1, feature = -1;      // a joined feature
  int on_demand = -1, output = -1;  // or an output of RetrievalPlan::on_demand[on_demand]
};

struct RetrievalPlan {
  // What the SQL joins, on-demand views' sources included (named "__source_<view>").
  std::vector<offlinestore::ViewSource> views;
  std::vector<OnDemandAsk> on_demand;
  std::vector<OutputColumn> outputs;
};

// The views of the request, in order. INVALID_ARGUMENT for a malformed reference, NOT_FOUND for
// an unknown feature service.
absl::StatusOr<std::vector<ViewAsk>> Asked(
    const materialization::v1::GetHistoricalFeaturesRequest& request,
    const registry_client::Catalog& catalog);

// NOT_FOUND naming unknown views or features, FAILED_PRECONDITION for a view not available
// offline or an on-demand view that does not compile, INVALID_ARGUMENT when two columns would
// share a name. On-demand programs are this thread's (transforms::ThreadProgram).
absl::StatusOr<RetrievalPlan> PlanRetrieval(const std::vector<ViewAsk>& asked,
                                            const registry_client::Catalog& catalog,
                                            bool full_feature_names);

}  // namespace granary::materializer

#endif  // GRANARY_SERVICES_MATERIALIZER_RETRIEVAL_PLAN_H_
