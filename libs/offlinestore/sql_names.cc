#include "libs/offlinestore/sql_names.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include "libs/base/status_macros.h"
#include "libs/pg/errors.h"

namespace granary::offlinestore {

absl::StatusOr<std::string> QuoteIdentifier(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("an SQL name cannot be empty");
  // PostgreSQL would cut a longer one silently (and two names alike up to there would meet).
  if (name.size() > 63) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", name, "\" is longer than the 63 bytes PostgreSQL keeps of a name"));
  }
  std::string out = "\"";
  for (char c : name) {
    if (c == '\0') {
      return absl::InvalidArgumentError(
          absl::StrCat("an SQL name cannot hold a NUL byte: ", absl::CHexEscape(name)));
    }
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

absl::StatusOr<std::string> QuoteQualified(absl::string_view name) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '.');
  if (parts.size() > 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("table \"", name, "\": expected table or schema.table"));
  }
  std::string out;
  for (absl::string_view part : parts) {
    if (!out.empty()) out += '.';
    ASSIGN_OR_RETURN(std::string quoted, QuoteIdentifier(part));
    out += quoted;
  }
  return out;
}

absl::StatusOr<std::string> QualifiedColumn(absl::string_view alias, absl::string_view column) {
  ASSIGN_OR_RETURN(std::string quoted, QuoteIdentifier(column));
  return absl::StrCat(alias, ".", quoted);
}

absl::StatusOr<std::string> FromClause(const std::string& table, const std::string& query,
                                       absl::string_view alias, absl::string_view what) {
  if (!query.empty()) {
    // As people write it: a trailing semicolon dropped, a trailing comment ended before the
    // closing parenthesis.
    absl::string_view q = absl::StripTrailingAsciiWhitespace(query);
    while (!q.empty() && q.back() == ';')
      q = absl::StripTrailingAsciiWhitespace(q.substr(0, q.size() - 1));
    return absl::StrCat("(", q, "\n) ", alias);
  }
  if (table.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": neither a table nor a query"));
  }
  ASSIGN_OR_RETURN(std::string quoted, QuoteQualified(table));
  return absl::StrCat(quoted, " ", alias);
}

std::string TimeLiteral(absl::Time time) {
  if (time == absl::InfiniteFuture()) return "'infinity'::timestamptz";
  if (time == absl::InfinitePast()) return "'-infinity'::timestamptz";
  // Digits only: a number, not text from anyone.
  return absl::StrCat("(timestamptz 'epoch' + interval '", absl::ToUnixMicros(time),
                      " microseconds')");
}

absl::Status PinSession(pqxx::dbtransaction& tx) {
  try {
    tx.exec(
        "SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO'; "
        "SET LOCAL extra_float_digits = 3; SET LOCAL bytea_output = 'hex'; "
        "SET LOCAL standard_conforming_strings = on; SET LOCAL client_encoding = 'UTF8'");
  } catch (const std::exception& e) {
    return pg::StatusFromException(e);
  }
  return absl::OkStatus();
}

}  // namespace granary::offlinestore
