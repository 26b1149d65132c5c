// The stack as behind a gateway: the registry, serving, ingestion and the materializer all
// require the gateway's signature (TestStackOptions::gateway_signature_secret_file), so the
// services' direct calls to the registry are answered only because they sign them as
// themselves with the shared secret (libs/rpc/service_channel.h). A materialization (the
// materializer reads the catalog, and records the interval it covered in the registry), an
// incremental one (it asks the registry where the last one ended) and a push (ingestion
// checks it against the catalog) all reach serving (which reads the catalog too).
#include <optional>

#include "granary/registry/v1/registry_service.grpc.pb.h"

#include "libs/testing/test_gateway.h"
#include "tests/integration/offline_stack_fixture.h"

namespace granary::integration {
namespace {

namespace v1 = materialization::v1;
using testing::Eventually;

class SignedCallsTest : public OfflineStackTest {
 protected:
  void Configure(HarnessOptions& options) override {
    ASSERT_OK_AND_ASSIGN(gateway_, testing::TestGateway::Create());
    options.stack.gateway_signature_secret_file = gateway_->secret_file();
  }

  std::optional<testing::TestGateway> gateway_;
};

TEST_F(SignedCallsTest, ServicesSignTheirOwnCallsToARegistryThatRequiresIt) {
  // The registry does require it: a call without the signature is refused.
  {
    auto unsigned_stub = registry::v1::RegistryService::NewStub(
        grpc::CreateChannel(h_->stack().registry_address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    registry::v1::ListProjectsResponse projects;
    EXPECT_EQ(unsigned_stub->ListProjects(&context, registry::v1::ListProjectsRequest(), &projects)
                  .error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }

  AddRows(200, 7);
  ASSERT_OK_AND_ASSIGN(testing::TestService * m,
                       h_->stack().Spawn("materializer", {.section = kWorker}));
  const absl::Time middle = t0_ + absl::Hours(5);
  ASSERT_OK_AND_ASSIGN(v1::Job job, Materialize(*m, t0_, middle, 2));
  ASSERT_OK_AND_ASSIGN(job, Watch(*m, job.job_id()));
  ASSERT_EQ(job.state(), v1::SUCCEEDED) << job.error();
  ExpectOnline(Latest(t0_, middle));

  // Incremental: it starts where the registry recorded the last job's end.
  v1::MaterializeIncrementalRequest request;
  request.set_project(h_->stack().project());
  const absl::Time end = t0_ + absl::Hours(10);
  *request.mutable_end_time() = base::ToProtoTime(end);
  request.add_feature_views(kView);
  grpc::ClientContext context;
  grpc::Status status = Stub(*m)->MaterializeIncremental(&context, request, &job);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(job.ranges_size(), 1);
  EXPECT_EQ(base::FromProtoTime(job.ranges(0).start_time()), middle);
  ASSERT_OK_AND_ASSIGN(job, Watch(*m, job.job_id()));
  ASSERT_EQ(job.state(), v1::SUCCEEDED) << job.error();
  ExpectOnline(Latest(t0_, end));

  // A push, checked by ingestion against its catalog, written by the materializer.
  const int64_t driver = drivers_ + 1;
  status = h_->Push(h_->Request("signed-1", {{driver, h_->Now(), 4242}}, ingestion::v1::ONLINE));
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(Eventually(
      [&] {
        absl::StatusOr<Served> served = h_->Read(driver);
        return served.ok() && served->status == serving::v1::PRESENT && served->trips == 4242;
      },
      kWait));
}

}  // namespace
}  // namespace granary::integration
