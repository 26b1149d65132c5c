// One cell of a file given to `granary push`, as the typed Value the ingestion service expects.
// CSV cells arrive as text, JSON cells as JSON; both are typed by the column's registry type.
// Timestamps (UNIX_TIMESTAMP columns: the event and created timestamps) accept RFC 3339
// ("2026-11-21T10:00:00Z"), "2026-11-21 10:00:00" (UTC), integer unix seconds, and `now`,
// `now-5m`, `now+1h`, `now-30s`: the time of the push, so a sample file stays fresh.
//
//   CellContext cx{.now = absl::Now()};
//   ASSIGN_OR_RETURN(Value v, TextValue("0.5", ValueType::FLOAT, cx));
#ifndef GRANARY_TOOLS_CLI_PUSH_VALUE_H_
#define GRANARY_TOOLS_CLI_PUSH_VALUE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "granary/types/v1/value.pb.h"
#include "nlohmann/json.hpp"

namespace granary::cli {

// What cells are converted against.
struct CellContext {
  // What `now` means in timestamp cells.
  absl::Time now = absl::UnixEpoch();
  // Set when a cell used `now` (the pushed rows then depend on when they were pushed).
  bool used_now = false;
};

// Unix seconds of a timestamp cell (see above); fractions of a second are dropped.
// INVALID_ARGUMENT saying which forms are accepted.
absl::StatusOr<int64_t> ParseTimestamp(absl::string_view text, CellContext& cx);

// A non-empty CSV cell as `type`; INVALID_ARGUMENT saying what was expected (the caller names
// the line and column). Unknown types (INVALID) are sent as STRING.
absl::StatusOr<types::v1::Value> TextValue(absl::string_view text, types::v1::ValueType::Enum type,
                                           CellContext& cx);

// A JSON cell as `type`: null is null_val, a string is read as TextValue reads a CSV cell, a
// number or bool must suit the type, a list suits a list type.
absl::StatusOr<types::v1::Value> JsonValue(const nlohmann::json& cell,
                                           types::v1::ValueType::Enum type, CellContext& cx);

// The first of INT64, DOUBLE, BOOL, UNIX_TIMESTAMP and STRING that every cell of a column
// converts to: for files pushed without the registry's schema. Empty CSV cells (nulls) fit any.
types::v1::ValueType::Enum GuessType(const std::vector<std::string>& cells, CellContext& cx);
types::v1::ValueType::Enum GuessType(const std::vector<nlohmann::json>& cells, CellContext& cx);

}  // namespace granary::cli

#endif  // GRANARY_TOOLS_CLI_PUSH_VALUE_H_
