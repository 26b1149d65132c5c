// SQL identifiers made from names users chose (tables, columns, feature views): always quoted,
// never spliced as they are, so that no name can change what a statement does.
//
//   QuoteIdentifier("conv rate")            -> "conv rate"   (with the double quotes)
//   QuoteQualified("analytics.driver_stats") -> "analytics"."driver_stats"
#ifndef GRANARY_LIBS_OFFLINESTORE_SQL_NAMES_H_
#define GRANARY_LIBS_OFFLINESTORE_SQL_NAMES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace granary::offlinestore {

// `name` in double quotes, a double quote in it doubled (PostgreSQL's rule).
// INVALID_ARGUMENT for an empty name or one holding a NUL byte (PostgreSQL refuses both).
absl::StatusOr<std::string> QuoteIdentifier(absl::string_view name);

// A table name as the registry gives it, optionally schema-qualified with one dot: each part
// quoted on its own. INVALID_ARGUMENT for empty parts or more than one dot.
absl::StatusOr<std::string> QuoteQualified(absl::string_view name);

}  // namespace granary::offlinestore

#endif  // GRANARY_LIBS_OFFLINESTORE_SQL_NAMES_H_
