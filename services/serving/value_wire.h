// Stored values as bytes. Redis holds serialized Values and Timestamps, and a serialized Value
// is exactly what a response carries: serving copies the bytes into the response unparsed once
// they are known to be well formed, so that one corrupt value can never make a whole response
// unreadable to a client.
//
//   switch (InspectValue(bytes)) { case ValueState::kPresent: ... }
#ifndef GRANARY_SERVICES_SERVING_VALUE_WIRE_H_
#define GRANARY_SERVICES_SERVING_VALUE_WIRE_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace granary::serving {

enum class ValueState {
  kCorrupt,  // not a well-formed Value
  kNull,     // no value set, or null_val
  kPresent,
};

// Checks the wire structure (field numbers and wire types of Value; lengths in bounds) and
// fully parses values with length-delimited fields (strings, bytes, lists), whose contents a
// client would check too.
ValueState InspectValue(absl::string_view bytes);

// A serialized google.protobuf.Timestamp; false when malformed or out of Timestamp's range
// (years 1 to 9999). Stored Values are passed on byte for byte when well formed, even when
// not in canonical form (a repeated field): clients read them the same.
bool ParseTimestamp(absl::string_view bytes, int64_t* seconds, int32_t* nanos);

// The view incarnation of a serialized OnlineRowMeta ("_created:<view>"); false when malformed.
// 0 when it has none.
bool ParseRowViewVersion(absl::string_view bytes, int64_t* view_version);

}  // namespace granary::serving

#endif  // GRANARY_SERVICES_SERVING_VALUE_WIRE_H_
