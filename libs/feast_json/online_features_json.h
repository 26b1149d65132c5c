// GetOnlineFeatures in the JSON of Feast's HTTP feature server (POST /get-online-features), so
// that Feast's HTTP clients work against Granary: the request body into the serving proto, the
// serving proto's response into Feast's column-major JSON. Used by `granary get-online-features
// --json` and the gateway's Feast routes.
//
//   ASSIGN_OR_RETURN(serving::v1::GetOnlineFeaturesRequest request, OnlineRequestFromJson(body));
//   std::string answer = OnlineResponseJson(response);
#ifndef GRANARY_LIBS_FEAST_JSON_ONLINE_FEATURES_JSON_H_
#define GRANARY_LIBS_FEAST_JSON_ONLINE_FEATURES_JSON_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "granary/serving/v1/serving.pb.h"
#include "nlohmann/json.hpp"

namespace granary::feast_json {

// Feast's response shape:
//   {"metadata": {"feature_names": ["driver_id", "conv_rate"]},
//    "results": [{"values": [1001], "statuses": ["PRESENT"],
//                 "event_timestamps": ["2021-04-12T10:59:42Z"]}, ...]}
// results[i] is feature_names[i] (column-major). Values as in ValueToJson; statuses by name;
// event timestamps RFC 3339 in UTC with a Z, with fractional seconds only when nanos is not 0
// ("2021-04-12T10:59:42.5Z"). The proto's `status` bool is left out, as Feast's server does.
// Written straight to text (the gateway's hot path), keys in Feast's order.
std::string OnlineResponseJson(const serving::v1::GetOnlineFeaturesResponse& response);

// The same answer as a tree, for callers that print it their own way (the CLI's indented
// output) or look into it.
nlohmann::json OnlineResponseToJson(const serving::v1::GetOnlineFeaturesResponse& response);

// Parses Feast's request body:
//   {"entities": {"driver_id": [1001, 1002]},           required; join key -> one value per row
//    "features": ["driver_hourly_stats:conv_rate"],     exactly one of features and
//    "feature_service": "driver_activity",              feature_service
//    "full_feature_names": false,                       optional
//    "request_context": {"val_to_add": [1, 2]},         optional; column -> one value per row
//    "project": "feature_repo"}                         optional; Granary only
// Values convert as in ValueFromJson. An optional key given as null counts as absent (clients
// serialising Feast's pydantic model send "feature_service": null). Every column of entities and
// request_context must have the same number of values. Anything else is INVALID_ARGUMENT naming
// the field ("entities.driver_id[1]: ...", "body: unknown field \"x\"", "body: not JSON: ...").
// Feature references are passed through unparsed: serving owns their meaning.
absl::StatusOr<serving::v1::GetOnlineFeaturesRequest> OnlineRequestFromJson(absl::string_view body);

}  // namespace granary::feast_json

#endif  // GRANARY_LIBS_FEAST_JSON_ONLINE_FEATURES_JSON_H_
