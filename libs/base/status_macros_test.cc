#include "libs/base/status_macros.h"

#include <string>

#include "gtest/gtest.h"

namespace granary::base {
namespace {

absl::StatusOr<int> Parse(const std::string& s) {
  if (s.empty()) return absl::InvalidArgumentError("empty");
  return static_cast<int>(s.size());
}

absl::Status Check(bool ok) { return ok ? absl::OkStatus() : absl::InternalError("bad"); }

absl::StatusOr<int> Twice(const std::string& s) {
  ASSIGN_OR_RETURN(int n, Parse(s));
  return 2 * n;
}

absl::Status Both(bool a, bool b, int* calls) {
  ++*calls;
  RETURN_IF_ERROR(Check(a));
  ++*calls;
  RETURN_IF_ERROR(Check(b));
  return absl::OkStatus();
}

TEST(StatusMacrosTest, AssignOrReturnPassesValue) { EXPECT_EQ(*Twice("abc"), 6); }

TEST(StatusMacrosTest, AssignOrReturnPropagatesError) {
  absl::StatusOr<int> r = Twice("");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(StatusMacrosTest, AssignOrReturnIntoExistingVariable) {
  auto f = []() -> absl::Status {
    int n = 0;
    ASSIGN_OR_RETURN(n, Parse("xy"));
    return n == 2 ? absl::OkStatus() : absl::InternalError("wrong");
  };
  EXPECT_TRUE(f().ok());
}

TEST(StatusMacrosTest, ReturnIfErrorStopsAtFirstError) {
  int calls = 0;
  EXPECT_EQ(Both(false, true, &calls).code(), absl::StatusCode::kInternal);
  EXPECT_EQ(calls, 1);
  calls = 0;
  EXPECT_TRUE(Both(true, true, &calls).ok());
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace granary::base
