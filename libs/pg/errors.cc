#include "libs/pg/errors.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "pqxx/except.hxx"

namespace granary::pg {
namespace {

absl::Status FromSqlState(const std::string& state, const std::string& msg) {
  if (state == "40001" || state == "40P01") return absl::AbortedError(msg);
  if (state == "23505") return absl::AlreadyExistsError(msg);
  if (absl::StartsWith(state, "23")) return absl::FailedPreconditionError(msg);
  if (state == "42P01" || state == "42703" || state == "3F000" || state == "3D000") {
    return absl::NotFoundError(msg);
  }
  if (state == "57014") return absl::DeadlineExceededError(msg);
  if (absl::StartsWith(state, "08") || state == "57P01" || state == "57P02" || state == "57P03") {
    return absl::UnavailableError(msg);
  }
  if (absl::StartsWith(state, "53")) return absl::ResourceExhaustedError(msg);
  if (state == "42501") return absl::PermissionDeniedError(msg);
  if (absl::StartsWith(state, "22") || absl::StartsWith(state, "42")) {
    return absl::InvalidArgumentError(msg);
  }
  return absl::InternalError(msg);
}

}  // namespace

absl::Status StatusFromException(const std::exception& e) {
  std::string what(absl::StripTrailingAsciiWhitespace(e.what()));
  std::string msg = absl::StrCat("postgres: ", what);
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    return absl::UnavailableError(msg);
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    return FromSqlState(sql->sqlstate(), msg);
  }
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
    return absl::UnavailableError(absl::StrCat(msg, " (the commit's outcome is unknown)"));
  }
  if (dynamic_cast<const pqxx::transaction_rollback*>(&e) != nullptr) {
    return absl::AbortedError(msg);
  }
  if (dynamic_cast<const pqxx::conversion_error*>(&e) != nullptr ||
      dynamic_cast<const pqxx::range_error*>(&e) != nullptr) {
    return absl::InternalError(msg);
  }
  return absl::InternalError(msg);
}

}  // namespace granary::pg
