// RETURN_IF_ERROR and ASSIGN_OR_RETURN: early returns for absl::Status and absl::StatusOr.
// Abseil 20220623 ships neither.
//
//   RETURN_IF_ERROR(conn.Ping());
//   ASSIGN_OR_RETURN(Reply reply, conn.Command({"GET", key}));
#ifndef GRANARY_LIBS_BASE_STATUS_MACROS_H_
#define GRANARY_LIBS_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define GRANARY_STATUS_CONCAT_INNER_(a, b) a##b
#define GRANARY_STATUS_CONCAT_(a, b) GRANARY_STATUS_CONCAT_INNER_(a, b)

// Evaluates expr (an absl::Status); returns it from the enclosing function if it is not OK.
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::absl::Status granary_status_ = (expr);           \
    if (!granary_status_.ok()) return granary_status_; \
  } while (false)

// Evaluates rexpr (an absl::StatusOr<T>); returns its status if not OK, else moves the value
// into lhs, which may be a declaration ("auto x") or an existing variable.
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  GRANARY_ASSIGN_OR_RETURN_IMPL_(GRANARY_STATUS_CONCAT_(granary_statusor_, __LINE__), lhs, rexpr)

#define GRANARY_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                   \
  if (!statusor.ok()) return std::move(statusor).status();   \
  lhs = std::move(statusor).value()

#endif  // GRANARY_LIBS_BASE_STATUS_MACROS_H_
