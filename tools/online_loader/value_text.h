// Values written as text (a YAML scalar, or the items of a YAML list), converted to Values by the
// type the registry declares for the column, the way a person writes them in a values file:
//
//   INT32, INT64        1001            FLOAT, DOUBLE     0.91, -3, 1e-3
//   STRING              Alice           BOOL              true / false
//   BYTES               the string's UTF-8 bytes, as written
//   UNIX_TIMESTAMP      1700000000 (seconds) or 2024-05-01T12:00:00Z (RFC 3339)
//   the *_LIST types    a YAML list of the element type: [1, 2, 3]
//
//   ASSIGN_OR_RETURN(types::v1::Value v, ParseValue(types::v1::ValueType::INT64, "1001"));
#ifndef GRANARY_TOOLS_ONLINE_LOADER_VALUE_TEXT_H_
#define GRANARY_TOOLS_ONLINE_LOADER_VALUE_TEXT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "granary/types/v1/value.pb.h"

namespace granary::online_loader {

// Whether the type is one of the *_LIST types (its values are written as YAML lists).
bool IsListType(types::v1::ValueType::Enum type);

// A scalar type's value. INVALID_ARGUMENT naming the type and quoting the text when the text is
// not a value of that type (or the type is a list type, NULL or INVALID).
absl::StatusOr<types::v1::Value> ParseValue(types::v1::ValueType::Enum type,
                                            absl::string_view text);

// A list type's value from its items. INVALID_ARGUMENT naming the item that is not a value of
// the element type.
absl::StatusOr<types::v1::Value> ParseListValue(types::v1::ValueType::Enum type,
                                                const std::vector<std::string>& items);

}  // namespace granary::online_loader

#endif  // GRANARY_TOOLS_ONLINE_LOADER_VALUE_TEXT_H_
