// gtest helpers for absl::Status and absl::StatusOr.
//
//   ASSERT_OK(conn.Ping());
//   ASSERT_OK_AND_ASSIGN(auto redis, RedisServer::Start());
//   EXPECT_THAT(store.Get("x"), StatusIs(absl::StatusCode::kNotFound));
#ifndef GRANARY_LIBS_TESTING_STATUS_MATCHERS_H_
#define GRANARY_LIBS_TESTING_STATUS_MATCHERS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace granary::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

// Success, or a failure that prints the status.
template <typename T>
::testing::AssertionResult IsOk(const T& value) {
  const absl::Status& s = GetStatus(value);
  if (s.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << s;
}

MATCHER_P(StatusIs, code, "has status code " + ::testing::PrintToString(code)) {
  const absl::Status& s = ::granary::testing::GetStatus(arg);
  *result_listener << "whose status is " << s;
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher, "") {
  const absl::Status& s = ::granary::testing::GetStatus(arg);
  *result_listener << "whose status is " << s;
  return s.code() == code &&
         ::testing::ExplainMatchResult(message_matcher, std::string(s.message()), result_listener);
}

// A StatusOr that is OK and whose value matches.
MATCHER_P(IsOkAndHolds, value_matcher, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "has status " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

}  // namespace granary::testing

#define GRANARY_TESTING_CONCAT_INNER_(a, b) a##b
#define GRANARY_TESTING_CONCAT_(a, b) GRANARY_TESTING_CONCAT_INNER_(a, b)

#define EXPECT_OK(expr) EXPECT_TRUE(::granary::testing::IsOk(expr))
#define ASSERT_OK(expr) ASSERT_TRUE(::granary::testing::IsOk(expr))

#define ASSERT_OK_AND_ASSIGN(lhs, rexpr)                                                        \
  GRANARY_ASSERT_OK_AND_ASSIGN_IMPL_(GRANARY_TESTING_CONCAT_(granary_statusor_, __LINE__), lhs, \
                                     rexpr)
#define GRANARY_ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                       \
  ASSERT_TRUE(statusor.ok()) << statusor.status();               \
  lhs = std::move(statusor).value()

#endif  // GRANARY_LIBS_TESTING_STATUS_MATCHERS_H_
