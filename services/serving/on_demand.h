// On-demand features at request time: the request columns they read, checked against the plan,
// and their outputs computed into the read's grid once its Redis replies are in, row by row with
// the same engine (libs/transforms) that historical retrieval runs. Each output cell is PRESENT,
// NULL_VALUE (the expression gave nil) or INVALID (it failed or gave a value of the wrong type:
// that row's output alone), stamped with the newest event time among the row's feature inputs.
// Source features that are missing, out of their max age or null reach the expression as nil.
//
//   ASSIGN_OR_RETURN(std::vector<types::v1::RepeatedValue> request,
//                    RequestColumns(plan, request.request_context(), rows));
//   ...
//   ComputeOnDemand(plan, request, rows, builder);
#ifndef GRANARY_SERVICES_SERVING_ON_DEMAND_H_
#define GRANARY_SERVICES_SERVING_ON_DEMAND_H_

#include <vector>

#include "absl/status/statusor.h"
#include "granary/types/v1/value.pb.h"

#include "services/serving/entity_keys.h"
#include "services/serving/read_plan.h"
#include "services/serving/response_builder.h"

namespace granary::serving {

// The plan's request columns from `request_context`, in ReadPlan::request_columns order.
// INVALID_ARGUMENT naming the column that is missing, has another number of values than there
// are entity rows, or holds a value that cannot be taken as the column's type (see
// transforms::ConvertValue: integers for any numeric type, floats for FLOAT and DOUBLE, null
// always). Values come back converted to the column's type.
absl::StatusOr<std::vector<types::v1::RepeatedValue>> RequestColumns(
    const ReadPlan& plan, const EntityColumns& request_context, size_t rows);

// Computes every on-demand output of `plan` for `rows` rows into `builder`, whose feature
// columns start after the join keys. Each evaluation is bounded (libs/transforms limits); the
// request as a whole by `deadline`: an evaluation running then stops, and the call answers
// DEADLINE_EXCEEDED, so a request of costly expressions stops using its compute thread when its
// caller stops waiting.
absl::Status ComputeOnDemand(const ReadPlan& plan,
                             const std::vector<types::v1::RepeatedValue>& request, size_t rows,
                             ResponseBuilder& builder, absl::Time deadline);

}  // namespace granary::serving

#endif  // GRANARY_SERVICES_SERVING_ON_DEMAND_H_
