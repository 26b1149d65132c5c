// Granary's typed Value as the plain JSON Feast's HTTP feature server speaks: a feature value is
// a bare JSON number, string, bool, list or null, not a protobuf-JSON object. Used by the CLI's
// `--json` output and the gateway's Feast HTTP routes.
//
//   std::string cell = ValueJson(vector.values(0));          // "0.5", "[1,2]", "null"
//   ASSIGN_OR_RETURN(types::v1::Value entity, ValueFromJson(body["entities"]["driver_id"][0]));
#ifndef GRANARY_LIBS_FEAST_JSON_VALUE_JSON_H_
#define GRANARY_LIBS_FEAST_JSON_VALUE_JSON_H_

#include <string>

#include "absl/status/statusor.h"
#include "granary/types/v1/value.pb.h"
#include "nlohmann/json.hpp"

namespace granary::feast_json {

// The value as JSON text, appended to *out:
//   int32, int64, unix_timestamp (seconds)  -> integer, exact over the whole int64 range
//   double, float                           -> number; NaN and infinities as the strings "NaN",
//                                              "Infinity", "-Infinity" (JSON has no literal for
//                                              them); a float prints as its shortest decimal
//                                              (0.1f gives 0.1, not 0.10000000149011612)
//   bool, string                            -> bool, string (ill-formed UTF-8 becomes U+FFFD)
//   bytes                                   -> string, standard padded base64
//   lists                                   -> list of the above
//   unset, null_val                         -> null
void AppendValueJson(const types::v1::Value& value, std::string* out);
std::string ValueJson(const types::v1::Value& value);  // the same, as a string of its own

// A request's entity (or request context) value: an integer gives int64_val, any other number
// double_val, a string string_val, a bool bool_val, null null_val. Lists and objects are
// INVALID_ARGUMENT (entity values are scalars), and so is an integer outside the int64 range;
// the message says what was found, for the caller to prefix with the field's name.
absl::StatusOr<types::v1::Value> ValueFromJson(const nlohmann::json& input);

}  // namespace granary::feast_json

#endif  // GRANARY_LIBS_FEAST_JSON_VALUE_JSON_H_
