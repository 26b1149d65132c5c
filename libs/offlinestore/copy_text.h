// Rows as COPY ... FROM STDIN reads them. Feature values as PostgreSQL's text input: numbers in
// full precision, booleans as t/f, bytes as bytea hex, timestamps as UTC timestamptz, lists as
// array literals; null (or an unset value) has no text: std::nullopt, which COPY writes as
// NULL. The offline writer appends pushed rows this way, historical retrieval its entity rows.
//
//   std::string line;
//   AppendCopyField(PgText(value), &line);
#ifndef GRANARY_LIBS_OFFLINESTORE_COPY_TEXT_H_
#define GRANARY_LIBS_OFFLINESTORE_COPY_TEXT_H_

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "granary/types/v1/value.pb.h"

namespace granary::offlinestore {

std::optional<std::string> PgText(const types::v1::Value& value);
std::string PgTimestamp(absl::Time t);

// Appends one field in COPY's text format: backslash, tab, newline and carriage return
// escaped; \N for NULL. Fields of a line are separated by tabs.
void AppendCopyField(const std::optional<std::string>& text, std::string* line);

}  // namespace granary::offlinestore

#endif  // GRANARY_LIBS_OFFLINESTORE_COPY_TEXT_H_
