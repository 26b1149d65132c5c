#include "libs/offlinestore/sql_names.h"

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include "libs/base/status_macros.h"

namespace granary::offlinestore {

absl::StatusOr<std::string> QuoteIdentifier(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("an SQL name cannot be empty");
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

}  // namespace granary::offlinestore
