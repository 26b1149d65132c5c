#include "libs/base/grpc_status.h"

#include "gtest/gtest.h"

namespace granary::base {
namespace {

TEST(GrpcStatusTest, OkStaysOk) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

TEST(GrpcStatusTest, KeepsCodeAndMessage) {
  grpc::Status s = ToGrpcStatus(absl::NotFoundError("feature view \"x\" not found"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "feature view \"x\" not found");

  absl::Status back = FromGrpcStatus(grpc::Status(grpc::StatusCode::ABORTED, "moved"));
  EXPECT_EQ(back.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(back.message(), "moved");
}

TEST(GrpcStatusTest, EveryCodeRoundTrips) {
  for (int code = 1; code <= 16; ++code) {
    if (code == static_cast<int>(absl::StatusCode::kUnknown)) continue;
    absl::Status in(static_cast<absl::StatusCode>(code), "m");
    EXPECT_EQ(FromGrpcStatus(ToGrpcStatus(in)), in) << StatusCodeName(code);
  }
}

TEST(GrpcStatusTest, UnknownBecomesInternal) {
  EXPECT_EQ(ToGrpcStatus(absl::UnknownError("oops")).error_code(), grpc::StatusCode::INTERNAL);
}

TEST(GrpcStatusTest, CodeNames) {
  EXPECT_EQ(StatusCodeName(0), "OK");
  EXPECT_EQ(StatusCodeName(3), "INVALID_ARGUMENT");
  EXPECT_EQ(StatusCodeName(14), "UNAVAILABLE");
  EXPECT_EQ(StatusCodeName(16), "UNAUTHENTICATED");
  EXPECT_EQ(StatusCodeName(17), "INVALID_CODE");
  EXPECT_EQ(StatusCodeName(-1), "INVALID_CODE");
}

}  // namespace
}  // namespace granary::base
