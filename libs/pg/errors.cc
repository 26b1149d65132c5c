#include "libs/pg/errors.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "pqxx/except.hxx"

namespace granary::pg {
namespace {

constexpr char kSqlStatePayload[] = "granary.pg/sqlstate";

absl::Status FromSqlState(const std::string& state, const std::string& msg) {
  absl::Status status;
  if (state == "40001" || state == "40P01" || state == "55P03") {
    status = absl::AbortedError(msg);
  } else if (state == "23505") {
    status = absl::AlreadyExistsError(msg);
  } else if (absl::StartsWith(state, "23")) {
    status = absl::FailedPreconditionError(msg);
  } else if (state == "57014") {
    status = absl::DeadlineExceededError(msg);
  } else if (absl::StartsWith(state, "08") || state == "57P01" || state == "57P02" ||
             state == "57P03") {
    status = absl::UnavailableError(msg);
  } else if (absl::StartsWith(state, "53")) {
    status = absl::ResourceExhaustedError(msg);
  } else {
    status = absl::InternalError(msg);
  }
  status.SetPayload(kSqlStatePayload, absl::Cord(state));
  return status;
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

std::string SqlState(const absl::Status& status) {
  absl::optional<absl::Cord> state = status.GetPayload(kSqlStatePayload);
  return state.has_value() ? std::string(*state) : "";
}

}  // namespace granary::pg
