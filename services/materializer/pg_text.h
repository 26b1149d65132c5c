// Feature values as PostgreSQL's text input for COPY: numbers in full precision, booleans as
// t/f, bytes as bytea hex, timestamps as UTC timestamptz, lists as array literals. Null (or an
// unset value) has no text: std::nullopt, which COPY writes as NULL.
#ifndef GRANARY_SERVICES_MATERIALIZER_PG_TEXT_H_
#define GRANARY_SERVICES_MATERIALIZER_PG_TEXT_H_

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "granary/types/v1/value.pb.h"

namespace granary::materializer {

std::optional<std::string> PgText(const types::v1::Value& value);
std::string PgTimestamp(absl::Time t);

}  // namespace granary::materializer

#endif  // GRANARY_SERVICES_MATERIALIZER_PG_TEXT_H_
