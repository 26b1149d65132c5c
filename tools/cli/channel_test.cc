// Every call on a CLI channel carries the token, as the gateway reads it; none without one.
#include "tools/cli/channel.h"

#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

namespace granary::cli {
namespace {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::HasSubstr;
using ::testing::Not;

// Answers SERVING and keeps the authorization header of the last call ("-" when it had none).
class RecordingHealth final : public Health::Service {
 public:
  grpc::Status Check(grpc::ServerContext* ctx, const HealthCheckRequest*,
                     HealthCheckResponse* resp) override {
    auto it = ctx->client_metadata().find("authorization");
    absl::MutexLock lock(&mu_);
    last_ = it == ctx->client_metadata().end() ? "-"
                                               : std::string(it->second.data(), it->second.size());
    resp->set_status(HealthCheckResponse::SERVING);
    return grpc::Status::OK;
  }
  std::string last() {
    absl::MutexLock lock(&mu_);
    return last_;
  }

 private:
  absl::Mutex mu_;
  std::string last_;
};

class ChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&health_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override { server_->Shutdown(); }

  // One call through a channel to `target`, which gets the test server's address.
  grpc::Status Call(Target target) {
    target.address = "127.0.0.1:" + std::to_string(port_);
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    HealthCheckResponse resp;
    return Health::NewStub(OpenChannel(target))->Check(&ctx, HealthCheckRequest(), &resp);
  }

  RecordingHealth health_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(ChannelTest, EveryCallCarriesTheBearerToken) {
  ASSERT_TRUE(Call({.token = "abc.def.ghi", .token_source = "--token"}).ok());
  EXPECT_EQ(health_.last(), "Bearer abc.def.ghi");
  ASSERT_TRUE(Call({.token = "abc.def.ghi"}).ok());
  EXPECT_EQ(health_.last(), "Bearer abc.def.ghi");
}

TEST_F(ChannelTest, NoTokenNoHeader) {
  ASSERT_TRUE(Call({}).ok());
  EXPECT_EQ(health_.last(), "-");
}

TEST(AuthHintTest, NamesTheSourceNeverTheToken) {
  Target with{.address = "a:1", .token = "secret.token.value", .token_source = "$GRANARY_TOKEN"};
  std::string hint = AuthHint(with, absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(hint, HasSubstr("$GRANARY_TOKEN"));
  EXPECT_THAT(hint, Not(HasSubstr("secret.token.value")));
  EXPECT_THAT(AuthHint({.address = "a:1"}, absl::StatusCode::kUnauthenticated),
              HasSubstr("granary token"));
  EXPECT_EQ(AuthHint(with, absl::StatusCode::kUnavailable), "");
}

}  // namespace
}  // namespace granary::cli
