// The gateway's gRPC door carrying data: unary and streamed pushes, a refused or cancelled
// stream ending at the backend too, job and historical streams, Feast's service name, and
// what is never forwarded (entity_sql).
#include <chrono>
#include <future>

#include "tests/gateway/gateway_grpc_fixture.h"

namespace granary::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
namespace serving_v1 = serving::v1;
namespace reg = registry::v1;
namespace mat = materialization::v1;

TEST_F(GatewayGrpcTest, WriterPushesUnaryAndStreamedAndReadsItBack) {
  std::string writer = stack().Token("wes", {"writer"});
  ASSERT_GRPC_OK(Push(writer, PushRow(7001, 0.25f)));

  grpc::ClientContext ctx;
  GatewayStack::Authorize(ctx, writer);
  auto stream = ingestion::v1::IngestionService::NewStub(stack().channel())->PushStream(&ctx);
  for (int64_t driver : {7002, 7003}) {
    ingestion::v1::PushStreamRequest batch;
    *batch.mutable_batch() = PushRow(driver, 0.5f);
    batch.mutable_batch()->set_batch_id(absl::StrCat("gw-stream-", driver));
    ASSERT_TRUE(stream->Write(batch));
  }
  stream->WritesDone();
  std::vector<std::string> acked;
  ingestion::v1::PushStreamResponse answer;
  while (stream->Read(&answer)) {
    EXPECT_TRUE(answer.has_ack()) << answer.DebugString();
    acked.push_back(answer.batch_id());
  }
  ASSERT_GRPC_OK(stream->Finish());
  EXPECT_THAT(acked, ::testing::UnorderedElementsAre("gw-stream-7002", "gw-stream-7003"));

  // Every pushed row is served, read through the gateway.
  serving_v1::GetOnlineFeaturesRequest read;
  read.mutable_features()->add_val("driver_hourly_stats:conv_rate");
  for (int64_t driver : {7001, 7002, 7003}) {
    (*read.mutable_entities())["driver_id"].add_val()->set_int64_val(driver);
  }
  EXPECT_TRUE(Eventually(
      [&] {
        serving_v1::GetOnlineFeaturesResponse response;
        if (!ReadOnline(writer, read, "", &response).ok()) return false;
        const auto& column = response.results(1);
        return column.statuses(0) == serving_v1::PRESENT &&
               column.statuses(1) == serving_v1::PRESENT &&
               column.statuses(2) == serving_v1::PRESENT && column.values(0).float_val() == 0.25f &&
               column.values(2).float_val() == 0.5f;
      },
      absl::Seconds(30)));
}

TEST_F(GatewayGrpcTest, AStreamedBatchThePushSourceForbidsEndsTheStream) {
  grpc::ClientContext ctx;
  GatewayStack::Authorize(ctx, stack().Token("ana", {"reader"}));
  auto stream = ingestion::v1::IngestionService::NewStub(stack().channel())->PushStream(&ctx);
  ingestion::v1::PushStreamRequest batch;
  *batch.mutable_batch() = PushRow(7100, 0.5f);
  stream->Write(batch);
  stream->WritesDone();
  ingestion::v1::PushStreamResponse answer;
  EXPECT_FALSE(stream->Read(&answer));
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(GatewayGrpcTest, ALaterBatchThatIsRefusedEndsTheStreamAfterTheAllowedOnes) {
  grpc::ClientContext ctx;
  GatewayStack::Authorize(ctx, stack().Token("wes", {"writer"}));
  ctx.AddMetadata("x-request-id", "stream-later-denied");
  auto stream = ingestion::v1::IngestionService::NewStub(stack().channel())->PushStream(&ctx);
  ingestion::v1::PushStreamRequest allowed;
  *allowed.mutable_batch() = PushRow(7200, 0.5f);
  allowed.mutable_batch()->set_batch_id("later-denied-1");
  ASSERT_TRUE(stream->Write(allowed));
  ingestion::v1::PushStreamResponse answer;
  ASSERT_TRUE(stream->Read(&answer));  // the first batch went through and was acknowledged
  EXPECT_EQ(answer.batch_id(), "later-denied-1");
  EXPECT_TRUE(answer.has_ack());
  // The second names a project that does not exist: nothing there may be written.
  ingestion::v1::PushStreamRequest refused;
  *refused.mutable_batch() = PushRow(7201, 0.5f);
  refused.mutable_batch()->set_project("no_such_project");
  stream->Write(refused);
  stream->WritesDone();
  while (stream->Read(&answer)) {
  }
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("no_such_project"));
}

TEST_F(GatewayGrpcTest, ACallerCancellingEndsTheBackendsStreamToo) {
  grpc::ClientContext ctx;
  GatewayStack::Authorize(ctx, stack().Token("wes", {"writer"}));
  auto stream = ingestion::v1::IngestionService::NewStub(stack().channel())->PushStream(&ctx);
  ingestion::v1::PushStreamRequest batch;
  *batch.mutable_batch() = PushRow(7300, 0.5f);
  ASSERT_TRUE(stream->Write(batch));
  ingestion::v1::PushStreamResponse answer;
  ASSERT_TRUE(stream->Read(&answer));
  // The stream is open at ingestion, behind the gateway...
  TestService& ingestion = stack().ingestion();
  ASSERT_TRUE(Eventually([&] { return ingestion.Metric("granary_ingestion_open_streams") == 1; },
                         absl::Seconds(10)));
  // ... and the caller going away closes it there: nothing else would (no deadline, no
  // half-close).
  ctx.TryCancel();
  EXPECT_TRUE(Eventually([&] { return ingestion.Metric("granary_ingestion_open_streams") == 0; },
                         absl::Seconds(10)));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(GatewayGrpcTest, EntitySqlIsNotForwarded) {
  grpc::ClientContext ctx;
  GatewayStack::Authorize(ctx, stack().Token("ana", {"reader"}));
  mat::GetHistoricalFeaturesRequest request;
  request.mutable_features()->add_val("driver_hourly_stats:conv_rate");
  request.set_entity_sql("SELECT * FROM registry.objects");
  auto reader =
      mat::MaterializationService::NewStub(stack().channel())->GetHistoricalFeatures(&ctx, request);
  mat::GetHistoricalFeaturesResponse part;
  EXPECT_FALSE(reader->Read(&part));
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("entity_sql"));
}

TEST_F(GatewayGrpcTest, JobsAndHistoricalRetrievalStreamThroughTheGateway) {
  std::string writer = stack().Token("wes", {"writer"});
  auto jobs = mat::MaterializationService::NewStub(stack().channel());
  mat::Job job;
  {
    grpc::ClientContext ctx;
    GatewayStack::Authorize(ctx, writer);
    mat::MaterializeRequest request;
    request.add_feature_views("driver_hourly_stats");
    *request.mutable_start_time() = base::ToProtoTime(absl::FromUnixSeconds(0));
    *request.mutable_end_time() = base::ToProtoTime(absl::Now());
    ASSERT_GRPC_OK(jobs->Materialize(&ctx, request, &job));
  }
  {
    grpc::ClientContext ctx;
    GatewayStack::Authorize(ctx, writer);
    mat::WatchJobRequest watch;
    watch.set_job_id(job.job_id());
    auto reader = jobs->WatchJob(&ctx, watch);
    mat::Job update;
    mat::JobState last = mat::JOB_STATE_UNSPECIFIED;
    int updates = 0;
    while (reader->Read(&update)) {
      ++updates;
      last = update.state();
    }
    ASSERT_GRPC_OK(reader->Finish());
    EXPECT_GE(updates, 1);
    EXPECT_EQ(last, mat::SUCCEEDED);
  }
  // A job of a project the caller may not see: refused, naming only that project.
  {
    grpc::ClientContext ctx;
    GatewayStack::Authorize(ctx, stack().Token("eve", {"visitor"}));
    mat::GetJobRequest get;
    get.set_job_id(job.job_id());
    mat::Job seen;
    grpc::Status status = jobs->GetJob(&ctx, get, &seen);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_THAT(status.error_message(), HasSubstr("project 'driver_stats'"));
  }
  // Historical retrieval streams its header and batches back to a reader.
  {
    grpc::ClientContext ctx;
    GatewayStack::Authorize(ctx, stack().Token("ana", {"reader"}));
    mat::GetHistoricalFeaturesRequest request;
    request.mutable_features()->add_val("driver_hourly_stats:conv_rate");
    auto* table = request.mutable_entity_table();
    (*table->mutable_columns())["driver_id"].add_val()->set_int64_val(1001);
    *table->add_event_timestamps() = base::ToProtoTime(absl::Now());
    auto reader = jobs->GetHistoricalFeatures(&ctx, request);
    mat::GetHistoricalFeaturesResponse part;
    int headers = 0;
    int batches = 0;
    while (reader->Read(&part)) {
      if (part.has_header()) ++headers;
      if (part.has_batch()) ++batches;
    }
    ASSERT_GRPC_OK(reader->Finish());
    EXPECT_EQ(headers, 1);
    EXPECT_GE(batches, 1);
  }
}

TEST_F(GatewayGrpcTest, FeastServiceNameIsRouted) {
  grpc::ClientContext ctx;
  GatewayStack::Authorize(ctx, stack().Token("ana", {"reader"}));
  grpc::GenericStub generic(stack().channel());
  serving_v1::GetOnlineFeaturesRequest request = Read({"driver_hourly_stats:conv_rate"});
  grpc::Slice slice(request.SerializeAsString());
  grpc::ByteBuffer send(&slice, 1);
  grpc::ByteBuffer receive;
  grpc::Status status;
  absl::Notification done;
  generic.UnaryCall(&ctx, "/feast.serving.ServingService/GetOnlineFeatures", grpc::StubOptions(),
                    &send, &receive, [&](grpc::Status s) {
                      status = s;
                      done.Notify();
                    });
  done.WaitForNotification();
  ASSERT_GRPC_OK(status);
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(receive.Dump(&slices).ok());
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  serving_v1::GetOnlineFeaturesResponse response;
  ASSERT_TRUE(response.ParseFromString(bytes));
  EXPECT_THAT(response.metadata().feature_names().val(),
              ::testing::ElementsAre("driver_id", "conv_rate"));
}

}  // namespace
}  // namespace granary::testing

namespace granary::testing {
namespace {

// A project no request named before is loaded off the gateway's queue thread (its first load
// waits for the registry, up to its timeout): calls sent after it on the same connection are
// answered meanwhile.
TEST_F(GatewayGrpcTest, AProjectBeingLoadedDoesNotHoldUpOtherCalls) {
  const std::string reader = stack().Token("ana", {"reader"});
  serving::v1::GetOnlineFeaturesRequest unloaded = Read({"driver_hourly_stats:conv_rate"});
  unloaded.set_project("not_loaded_yet");
  auto slow = std::async(std::launch::async,
                         [&] { return ReadOnline(reader, unloaded, "not-loaded-yet"); });
  for (int i = 0; i < 5; ++i) {
    ASSERT_GRPC_OK(ReadOnline(reader, Read({"driver_hourly_stats:conv_rate"})));
    // Had the queue thread waited for the load, this answer would have come after it.
    ASSERT_EQ(slow.wait_for(std::chrono::seconds(0)), std::future_status::timeout)
        << "the load ended before the calls behind it were answered";
  }
  grpc::Status status = slow.get();
  EXPECT_NE(status.error_code(), grpc::StatusCode::OK);
  EXPECT_THAT(status.error_message(), HasSubstr("not_loaded_yet"));
}

}  // namespace
}  // namespace granary::testing
