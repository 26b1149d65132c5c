// Feast's write routes in JSON (POST /push and POST /write-to-online-store) into Granary's
// PushRequest. Feast sends a data frame as columns of JSON values; each column is converted to
// the type the catalog declares for it (a feature's dtype, an entity's join key type), since
// JSON has one kind of number while a FLOAT feature must receive float values.
//
//   {"push_source_name": "driver_stats_push",            required (push)
//    "feature_view_name": "driver_hourly_stats",          required (write-to-online-store)
//    "df": {"driver_id": [1001], "conv_rate": [0.5],      required; column -> values
//           "event_timestamp": ["2021-04-12T10:59:42Z"]},
//    "to": "online" | "offline" | "online_and_offline",   optional (push), default online
//    "project": "driver_stats"}                           optional; Granary only
#ifndef GRANARY_LIBS_FEAST_JSON_PUSH_JSON_H_
#define GRANARY_LIBS_FEAST_JSON_PUSH_JSON_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "granary/ingestion/v1/ingestion.pb.h"
#include "granary/types/v1/value.pb.h"
#include "nlohmann/json.hpp"

namespace granary::feast_json {

// The declared type of a column; nullopt for a column the catalog does not type (the event
// timestamp, or an unknown column the ingestion service will name in its own error).
using ColumnTypes = std::function<std::optional<types::v1::ValueType::Enum>(const std::string&)>;

// The body's fields, with the df still JSON (its types need the catalog).
struct PushBody {
  std::string project;
  std::string push_source_name;   // push
  std::string feature_view_name;  // write-to-online-store
  ingestion::v1::PushTarget to = ingestion::v1::ONLINE;
  nlohmann::json df;
};

// INVALID_ARGUMENT naming the field ("body: not JSON", "to: expected ...", "df: required").
// `route` is "push" or "write-to-online-store": which name field is required.
absl::StatusOr<PushBody> ParsePushBody(absl::string_view body, absl::string_view route);

// The df's columns converted, into `request` (project, push source and target set by the
// caller). INVALID_ARGUMENT naming the cell ("df.conv_rate[2]: expected a number, found ...").
absl::Status FillPushColumns(const nlohmann::json& df, const ColumnTypes& types,
                             ingestion::v1::PushRequest* request);

// A time as Feast's clients write it: RFC 3339 ("2021-04-12T10:59:42Z", with an offset or
// fraction), the same without a zone or with a space for the T (read as UTC, as pandas and
// Feast's server do); nullopt for anything else.
std::optional<absl::Time> ParseFeastTime(absl::string_view text);

// One JSON value as `dtype` (lists element-wise); null is a null value. The message says what
// was found, for the caller to prefix with the cell's name.
absl::StatusOr<types::v1::Value> TypedValueFromJson(const nlohmann::json& input,
                                                    types::v1::ValueType::Enum dtype);

}  // namespace granary::feast_json

#endif  // GRANARY_LIBS_FEAST_JSON_PUSH_JSON_H_
