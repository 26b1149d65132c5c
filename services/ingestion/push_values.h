// How pushed cells become stored values: a feature cell must have its feature's declared type,
// or one of a few lossless widenings (INT32 -> INT64, FLOAT -> DOUBLE, INT64 -> UNIX_TIMESTAMP,
// and the same for lists); an empty cell or a null is stored as a null. A timestamp column
// takes UNIX_TIMESTAMP or INT64 seconds, or an RFC 3339 string.
//
//   Value v = cell;
//   if (!ToFeatureType(types::v1::ValueType::INT64, &v)) return Error(...);
#ifndef GRANARY_SERVICES_INGESTION_PUSH_VALUES_H_
#define GRANARY_SERVICES_INGESTION_PUSH_VALUES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "granary/types/v1/value.pb.h"

namespace granary::ingestion {

// Converts `value` in place to `dtype`; false when it cannot be without losing anything.
bool ToFeatureType(types::v1::ValueType::Enum dtype, types::v1::Value* value);

// The time a timestamp cell names; INVALID_ARGUMENT (the message says what was found) when it
// names none, or a time outside years 1 to 9999 (what every store, and a protobuf Timestamp,
// can hold).
absl::StatusOr<absl::Time> CellTime(const types::v1::Value& value);

// INVALID_ARGUMENT (saying which element, for a list) when a UNIX_TIMESTAMP or
// UNIX_TIMESTAMP_LIST feature value lies outside years 1 to 9999: the online store would take
// it and the offline store refuse it. OK for every other value.
absl::Status CheckTimeValue(const types::v1::Value& value);

// "an INT32 value", "a null", "an empty value": for error messages.
std::string DescribeValue(const types::v1::Value& value);

}  // namespace granary::ingestion

#endif  // GRANARY_SERVICES_INGESTION_PUSH_VALUES_H_
