// The one way the CLI reads a time a person typed, in flags, CSV and JSON cells: RFC 3339
// ("2026-11-21T10:00:00Z", fractions kept to the microsecond), "2026-11-21 10:00:00" in UTC,
// integer unix seconds, or `now` with an optional offset of whole units d, h, m, s
// ("now-5m", "now+1h", "now-1d12h"), so sample files and commands stay fresh.
//
//   ASSIGN_OR_RETURN(absl::Time t, ParseTimeText("now-1h", absl::Now()));
#ifndef GRANARY_TOOLS_CLI_TIME_TEXT_H_
#define GRANARY_TOOLS_CLI_TIME_TEXT_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace granary::cli {

// What the accepted forms are, for error messages.
inline constexpr char kTimeForms[] =
    "RFC 3339 such as 2026-11-21T10:00:00Z, \"2026-11-21 10:00:00\" in UTC, unix seconds, or "
    "now, now-5m, now-2h, now-1d12h";

// `now` is what now means; *used_now (when given) is set when the text used it.
// INVALID_ARGUMENT naming the forms accepted.
absl::StatusOr<absl::Time> ParseTimeText(absl::string_view text, absl::Time now,
                                         bool* used_now = nullptr);

}  // namespace granary::cli

#endif  // GRANARY_TOOLS_CLI_TIME_TEXT_H_
