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
#include "absl/time/time.h"
#include <pqxx/dbtransaction>

namespace granary::offlinestore {

// `name` in double quotes, a double quote in it doubled (PostgreSQL's rule).
// INVALID_ARGUMENT for an empty name, one holding a NUL byte (PostgreSQL refuses both) or one
// longer than the 63 bytes PostgreSQL keeps.
absl::StatusOr<std::string> QuoteIdentifier(absl::string_view name);

// A table name as the registry gives it, optionally schema-qualified with one dot: each part
// quoted on its own. INVALID_ARGUMENT for empty parts or more than one dot.
absl::StatusOr<std::string> QuoteQualified(absl::string_view name);

// `alias`."column", the column quoted.
absl::StatusOr<std::string> QualifiedColumn(absl::string_view alias, absl::string_view column);

// "<table> alias" (the table quoted) or, when `query` is set, "(<query>) alias", a trailing
// semicolon dropped. A query is SQL, spliced as it is: it comes from the registry or from a
// caller allowed to read the offline store, and must run in a READ ONLY transaction (a query
// can close the parenthesis and go on).
// INVALID_ARGUMENT naming `what` when both are empty.
absl::StatusOr<std::string> FromClause(const std::string& table, const std::string& query,
                                       absl::string_view alias, absl::string_view what);

// A time as a PostgreSQL timestamptz expression, exact to the microsecond (the infinite times
// as infinity).
std::string TimeLiteral(absl::Time time);

// Pins the settings that change what PostgreSQL's text output says for the rest of `tx`:
// time zone UTC (also what a timestamp without time zone means), ISO dates, floats in full
// precision, bytea as hex, standard strings, UTF-8. Every offline read starts with it.
absl::Status PinSession(pqxx::dbtransaction& tx);

}  // namespace granary::offlinestore

#endif  // GRANARY_LIBS_OFFLINESTORE_SQL_NAMES_H_
