// Feature values read from the offline store: the SELECT expression that puts a column of a
// declared type in a text form that does not depend on session settings, and the parse of
// that text into a Value. Timestamps leave PostgreSQL as epoch seconds (whatever the session's
// time zone or date style), bytes as bytea hex, lists as one-dimensional array literals.
//
//   ASSIGN_OR_RETURN(std::string expr, FeatureExpression("s.\"conv\"", ValueType::DOUBLE));
//   ASSIGN_OR_RETURN(types::v1::Value v, ParseFeatureText(field, ValueType::DOUBLE));
#ifndef GRANARY_LIBS_OFFLINESTORE_VALUE_TEXT_H_
#define GRANARY_LIBS_OFFLINESTORE_VALUE_TEXT_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "granary/types/v1/value.pb.h"

namespace granary::offlinestore {

// The expression selecting `column` (already quoted and qualified) as ParseFeatureText reads
// it. INVALID_ARGUMENT for a type no offline column can hold (INVALID, NULL).
absl::StatusOr<std::string> FeatureExpression(absl::string_view column,
                                              types::v1::ValueType::Enum type);

// A field as FeatureExpression selected it; nullopt (SQL NULL) is a Value with null_val.
// INVALID_ARGUMENT naming the type for text that is not one (or a list with a NULL element,
// which a Value cannot hold).
absl::StatusOr<types::v1::Value> ParseFeatureText(const std::optional<std::string>& text,
                                                  types::v1::ValueType::Enum type);

}  // namespace granary::offlinestore

#endif  // GRANARY_LIBS_OFFLINESTORE_VALUE_TEXT_H_
