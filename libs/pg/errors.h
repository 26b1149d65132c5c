// The one place libpqxx's exceptions become absl::Status, with codes that mean something to a
// caller: connection trouble UNAVAILABLE, serialization failures and deadlocks ABORTED (retry),
// unique violations ALREADY_EXISTS, other constraint violations FAILED_PRECONDITION, statement
// timeouts DEADLINE_EXCEEDED, the rest INTERNAL (a missing table in Granary's own SQL is a
// bug); code running SQL that names users' tables reads SqlState to tell them what is missing.
//
//   try { ... } catch (const std::exception& e) { return pg::StatusFromException(e); }
#ifndef GRANARY_LIBS_PG_ERRORS_H_
#define GRANARY_LIBS_PG_ERRORS_H_

#include <exception>
#include <string>

#include "absl/status/status.h"

namespace granary::pg {

absl::Status StatusFromException(const std::exception& e);

// The SQLSTATE carried by a status from StatusFromException ("" when none).
std::string SqlState(const absl::Status& status);

}  // namespace granary::pg

#endif  // GRANARY_LIBS_PG_ERRORS_H_
