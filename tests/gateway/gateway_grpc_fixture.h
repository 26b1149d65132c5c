// What the gRPC tests of the gateway share: the stack, requests the example serves, and calls
// through the gateway with a token.
#ifndef GRANARY_TESTS_GATEWAY_GATEWAY_GRPC_FIXTURE_H_
#define GRANARY_TESTS_GATEWAY_GATEWAY_GRPC_FIXTURE_H_

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "granary/ingestion/v1/ingestion.grpc.pb.h"
#include "granary/materialization/v1/materialization.grpc.pb.h"
#include "granary/registry/v1/registry_service.grpc.pb.h"
#include "granary/serving/v1/serving.grpc.pb.h"
#include "granary/types/v1/value.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"

#include "libs/auth/caller_signature.h"
#include "libs/base/proto_time.h"
#include "libs/testing/eventually.h"
#include "libs/testing/status_matchers.h"
#include "tests/gateway/gateway_stack.h"

namespace granary::testing {

// gRPC statuses, checked with their message shown.
#define EXPECT_GRPC_OK(expr)                              \
  do {                                                    \
    const grpc::Status status_ = (expr);                  \
    EXPECT_TRUE(status_.ok()) << status_.error_message(); \
  } while (0)
#define ASSERT_GRPC_OK(expr)                              \
  do {                                                    \
    const grpc::Status status_ = (expr);                  \
    ASSERT_TRUE(status_.ok()) << status_.error_message(); \
  } while (0)

class GatewayGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(stack().ok()) << stack().status(); }
  static GatewayStack& stack() { return GatewayStack::Get(); }

  static serving::v1::GetOnlineFeaturesRequest Read(const std::vector<std::string>& features) {
    serving::v1::GetOnlineFeaturesRequest request;
    for (const std::string& f : features) request.mutable_features()->add_val(f);
    (*request.mutable_entities())["driver_id"].add_val()->set_int64_val(1001);
    (*request.mutable_entities())["driver_id"].add_val()->set_int64_val(1002);
    return request;
  }

  // GetOnlineFeatures through the gateway with `token` (none when empty), tagged `trace`.
  static grpc::Status ReadOnline(const std::string& token,
                                 const serving::v1::GetOnlineFeaturesRequest& request,
                                 const std::string& trace = "",
                                 serving::v1::GetOnlineFeaturesResponse* response = nullptr) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    if (!token.empty()) GatewayStack::Authorize(ctx, token);
    if (!trace.empty()) ctx.AddMetadata("x-request-id", trace);
    serving::v1::GetOnlineFeaturesResponse ignored;
    return serving::v1::ServingService::NewStub(stack().channel())
        ->GetOnlineFeatures(&ctx, request, response != nullptr ? response : &ignored);
  }

  static ingestion::v1::PushRequest PushRow(int64_t driver, float conv_rate) {
    ingestion::v1::PushRequest push;
    push.set_push_source_name("driver_stats_push");
    auto& columns = *push.mutable_columns();
    columns["driver_id"].add_val()->set_int64_val(driver);
    columns["event_timestamp"].add_val()->set_unix_timestamp_val(absl::ToUnixSeconds(absl::Now()));
    columns["created"].add_val()->set_unix_timestamp_val(absl::ToUnixSeconds(absl::Now()));
    columns["conv_rate"].add_val()->set_float_val(conv_rate);
    columns["acc_rate"].add_val()->set_float_val(0.5f);
    columns["avg_daily_trips"].add_val()->set_int64_val(7);
    return push;
  }

  static grpc::Status Push(const std::string& token, const ingestion::v1::PushRequest& push,
                           const std::string& trace = "") {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    GatewayStack::Authorize(ctx, token);
    if (!trace.empty()) ctx.AddMetadata("x-request-id", trace);
    ingestion::v1::PushResponse response;
    return ingestion::v1::IngestionService::NewStub(stack().channel())->Push(&ctx, push, &response);
  }
};

}  // namespace granary::testing

#endif  // GRANARY_TESTS_GATEWAY_GATEWAY_GRPC_FIXTURE_H_
