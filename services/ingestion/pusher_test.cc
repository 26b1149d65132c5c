// The pusher's own decisions, with an in-memory publisher that stores and deduplicates by
// message id the way JetStream does (JetStream itself is exercised in
// tests/integration/ingestion_test.cc): nothing is published unless every view's message fits;
// a push without a batch id gets one from its content; the in-flight budget refuses with a hint
// and is given back; a full stream is RESOURCE_EXHAUSTED with a hint; a batch that failed
// midway is completed by its retry without storing anything twice.
#include "services/ingestion/pusher.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"

#include "libs/base/retry_after.h"
#include "libs/testing/status_matchers.h"
#include "services/ingestion/ingestion_grpc.h"

namespace granary::ingestion {
namespace {

using ::granary::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kRepo[] = R"pb(
  project { name: "shop" }
  entities { name: "driver" join_key: "driver_id" value_type: INT64 }
  data_sources {
    name: "stats_table"
    timestamp_field: "ts"
    postgres { table: "stats" }
  }
  data_sources {
    name: "stats_push"
    push { batch_source: "stats_table" }
  }
  feature_views {
    name: "a_view"
    entities: "driver"
    schema { name: "trips" dtype: INT64 }
    stream_source: "stats_push"
  }
  feature_views {
    name: "b_view"
    entities: "driver"
    schema { name: "note" dtype: STRING }
    stream_source: "stats_push"
  }
)pb";

// Stores messages by id; a subject in `refuse` fails with that status instead.
class MemoryPublisher : public bus::AckedPublisher {
 public:
  using bus::AckedPublisher::PublishAsync;
  void PublishAsync(absl::string_view subject, absl::string_view data, absl::string_view msg_id,
                    absl::string_view traceparent, bus::PublishDone done) override {
    ++calls;
    traceparents.emplace_back(traceparent);
    auto refused = refuse.find(std::string(subject));
    if (refused != refuse.end()) return done(refused->second);
    auto [it, added] = stored.emplace(std::string(msg_id), std::string(data));
    done(bus::PublishAck{.sequence = stored.size(), .duplicate = !added});
  }
  int64_t max_payload() const override { return payload; }

  int64_t payload = 1 << 20;
  int calls = 0;
  std::map<std::string, absl::Status> refuse;
  std::map<std::string, std::string> stored;
  std::vector<std::string> traceparents;
};

class PusherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry::v1::Snapshot snapshot;
    snapshot.set_version(1);
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kRepo, snapshot.mutable_repo()));
    catalog_ = std::make_shared<registry_client::Catalog>(std::move(snapshot));
    publisher_ = std::make_shared<MemoryPublisher>();
    budget_ = std::make_shared<InFlightBudget>(int64_t{1} << 20);
    metrics_ = std::make_shared<IngestionMetrics>(registry_);
    MakePusher();
  }
  void MakePusher(std::function<absl::Status()> streams_safe = nullptr) {
    pusher_ = std::make_unique<Pusher>(
        PusherOptions{.default_project = "shop",
                      .projects = {"shop"},
                      .streams_safe = std::move(streams_safe)},
        [this](const std::string&) {
          return absl::StatusOr<std::shared_ptr<const registry_client::Catalog>>(catalog_);
        },
        publisher_, budget_, &base::Clock::Real(), metrics_);
  }
  v1::PushRequest Request(int rows, const std::string& note = "n") {
    v1::PushRequest req;
    req.set_push_source_name("stats_push");
    auto& columns = *req.mutable_columns();
    for (int r = 0; r < rows; ++r) {
      columns["driver_id"].add_val()->set_int64_val(r);
      columns["ts"].add_val()->set_int64_val(1000);
      columns["trips"].add_val()->set_int64_val(r);
      columns["note"].add_val()->set_string_val(note);
    }
    return req;
  }
  // The pusher answers synchronously with this publisher.
  absl::StatusOr<v1::PushResponse> Push(const v1::PushRequest& request,
                                        absl::string_view traceparent = {}) {
    absl::StatusOr<v1::PushResponse> out = absl::InternalError("no answer");
    pusher_->Push(
        request, [&](absl::StatusOr<v1::PushResponse> r) { out = std::move(r); }, traceparent);
    return out;
  }

  // Serves the pusher over gRPC on a loopback port; channel_ reaches it.
  void ServeGrpc() {
    service_ =
        std::make_unique<IngestionGrpc>(std::shared_ptr<Pusher>(std::move(pusher_)),
                                        StreamLimits{.max_in_flight = 16}, server::CallerCheck());
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    channel_ =
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  prometheus::Registry registry_;
  std::shared_ptr<const registry_client::Catalog> catalog_;
  std::shared_ptr<MemoryPublisher> publisher_;
  std::shared_ptr<InFlightBudget> budget_;
  std::shared_ptr<IngestionMetrics> metrics_;
  std::unique_ptr<Pusher> pusher_;
  std::unique_ptr<IngestionGrpc> service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(PusherTest, ABatchTooLargeForOneMessageIsRefusedBeforeAnythingIsPublished) {
  publisher_->payload = 4096;
  // b_view's message is the larger one (long notes); a_view's alone would fit.
  v1::PushRequest req = Request(40, std::string(200, 'x'));
  req.set_batch_id("big");
  EXPECT_THAT(Push(req), StatusIs(absl::StatusCode::kInvalidArgument,
                                  AllOf(HasSubstr("feature view \"b_view\""),
                                        HasSubstr("NATS max_payload 4096 bytes"),
                                        HasSubstr("nothing was stored"))));
  EXPECT_EQ(publisher_->calls, 0);
  ASSERT_OK(Push(Request(2)).status());
  EXPECT_EQ(publisher_->calls, 2);
}

TEST_F(PusherTest, EveryMessageCarriesThePushsTraceContext) {
  constexpr char kTraceparent[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  ASSERT_OK(Push(Request(3), kTraceparent).status());
  ASSERT_EQ(publisher_->traceparents.size(), 2u);  // one message per view
  for (const std::string& sent : publisher_->traceparents) EXPECT_EQ(sent, kTraceparent);
  ASSERT_OK(Push(Request(3, "untraced")).status());
  ASSERT_EQ(publisher_->traceparents.size(), 4u);
  EXPECT_EQ(publisher_->traceparents[2], "");
}

TEST_F(PusherTest, APushWithoutABatchIdGetsOneFromItsContent) {
  ASSERT_OK_AND_ASSIGN(v1::PushResponse first, Push(Request(3)));
  EXPECT_THAT(first.batch_id(), ::testing::StartsWith("c-"));
  EXPECT_FALSE(first.duplicate());
  // A retry after a timeout: the same request, the same id, stored once.
  ASSERT_OK_AND_ASSIGN(v1::PushResponse retry, Push(Request(3)));
  EXPECT_EQ(retry.batch_id(), first.batch_id());
  EXPECT_TRUE(retry.duplicate());
  EXPECT_EQ(publisher_->stored.size(), 2u);  // one message per view
  // Naming the default project, or ONLINE for the default target, is the same push.
  v1::PushRequest named = Request(3);
  named.set_project("shop");
  named.set_to(v1::ONLINE);
  ASSERT_OK_AND_ASSIGN(v1::PushResponse same, Push(named));
  EXPECT_EQ(same.batch_id(), first.batch_id());
  // Any other content is another batch.
  ASSERT_OK_AND_ASSIGN(v1::PushResponse other, Push(Request(3, "other")));
  EXPECT_NE(other.batch_id(), first.batch_id());
  v1::PushRequest offline = Request(3);
  offline.set_to(v1::ONLINE_AND_OFFLINE);
  ASSERT_OK_AND_ASSIGN(v1::PushResponse elsewhere, Push(offline));
  EXPECT_NE(elsewhere.batch_id(), first.batch_id());
}

TEST_F(PusherTest, TheInFlightBudgetRefusesWithAHintAndIsGivenBack) {
  budget_ = std::make_shared<InFlightBudget>(int64_t{2} << 20);
  MakePusher();
  // Hold most of the budget, as other pushes in flight would.
  ASSERT_OK_AND_ASSIGN(InFlightBudget::Lease held, budget_->Acquire((int64_t{2} << 20) - 100));
  absl::StatusOr<v1::PushResponse> refused = Push(Request(5));
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kResourceExhausted,
                                HasSubstr("ingestion.max_bytes_in_flight")));
  EXPECT_TRUE(base::RetryAfter(refused.status()).has_value());
  EXPECT_EQ(publisher_->calls, 0);
  held = InFlightBudget::Lease();
  ASSERT_OK(Push(Request(5)).status());
  EXPECT_EQ(budget_->in_use(), 0);  // given back once answered
}

TEST_F(PusherTest, AFullStreamIsResourceExhaustedWithAHint) {
  publisher_->refuse["granary.push.shop.b_view"] =
      absl::ResourceExhaustedError("nats: maximum bytes exceeded");
  v1::PushRequest req = Request(2);
  req.set_batch_id("full");
  absl::StatusOr<v1::PushResponse> refused = Push(req);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kResourceExhausted,
                                HasSubstr("retry with batch_id full")));
  EXPECT_EQ(base::RetryAfter(refused.status()), absl::Seconds(1));
}

TEST_F(PusherTest, WhileTheStreamCouldLoseWhatItAcknowledgesNothingIsAccepted) {
  absl::Status verdict = absl::FailedPreconditionError(
      "JetStream settings under which acknowledged batches can be lost: stream GRANARY_PUSH "
      "max_age: 168h on the server, 0 declared");
  MakePusher([&] { return verdict; });
  EXPECT_THAT(Push(Request(2)),
              StatusIs(absl::StatusCode::kUnavailable, AllOf(HasSubstr("not accepting pushes"),
                                                             HasSubstr("GRANARY_PUSH max_age"))));
  EXPECT_EQ(publisher_->calls, 0);
  EXPECT_EQ(budget_->in_use(), 0);
  verdict = absl::OkStatus();  // the operator recreated the stream
  ASSERT_OK(Push(Request(2)).status());
  EXPECT_EQ(publisher_->calls, 2);
}

TEST_F(PusherTest, ARetryCompletesABatchThatFailedMidwayWithoutDuplicates) {
  publisher_->refuse["granary.push.shop.b_view"] = absl::UnavailableError("nats: timeout");
  v1::PushRequest req = Request(2);
  req.set_batch_id("midway");
  EXPECT_THAT(Push(req), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("midway")));
  EXPECT_EQ(publisher_->stored.size(), 1u);  // a_view's message went through
  publisher_->refuse.clear();
  ASSERT_OK_AND_ASSIGN(v1::PushResponse retried, Push(req));
  EXPECT_FALSE(retried.duplicate());  // b_view's message was new
  EXPECT_EQ(publisher_->stored.size(), 2u);
  EXPECT_EQ(publisher_->stored.count("shop/midway/a_view"), 1u);
  EXPECT_EQ(publisher_->stored.count("shop/midway/b_view"), 1u);
  ASSERT_OK_AND_ASSIGN(v1::PushResponse again, Push(req));
  EXPECT_TRUE(again.duplicate());
}

TEST_F(PusherTest, PushStreamErrorsUseTheStatusMappingOfEveryRpc) {
  // An error JetStream's client could not classify: UNKNOWN inside, never on the wire.
  publisher_->refuse["granary.push.shop.a_view"] = absl::UnknownError("nats: something odd");
  ServeGrpc();
  auto stub = v1::IngestionService::NewStub(channel_);

  grpc::ClientContext stream_context;
  auto stream = stub->PushStream(&stream_context);
  v1::PushStreamRequest batch;
  *batch.mutable_batch() = Request(2);
  batch.mutable_batch()->set_batch_id("b1");
  ASSERT_TRUE(stream->Write(batch));
  stream->WritesDone();
  v1::PushStreamResponse answer;
  ASSERT_TRUE(stream->Read(&answer));
  EXPECT_EQ(answer.error().code(), static_cast<int>(grpc::StatusCode::INTERNAL));
  EXPECT_THAT(answer.error().message(), HasSubstr("something odd"));
  while (stream->Read(&answer)) {
  }
  EXPECT_TRUE(stream->Finish().ok());

  grpc::ClientContext unary_context;
  v1::PushResponse response;
  grpc::Status unary = stub->Push(&unary_context, Request(2), &response);
  EXPECT_EQ(unary.error_code(), grpc::StatusCode::INTERNAL);
}

TEST_F(PusherTest, OverGrpcEachBatchIsParsedWholeAndABadFrameLosesNoOther) {
  ServeGrpc();
  // PushStream as raw frames: one that is not a PushStreamRequest, then a good batch.
  grpc::ClientContext stream_context;
  std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>> stream(
      grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, grpc::ByteBuffer>::Create(
          channel_.get(),
          grpc::internal::RpcMethod("/granary.ingestion.v1.IngestionService/PushStream",
                                    grpc::internal::RpcMethod::BIDI_STREAMING, channel_),
          &stream_context));
  auto frame = [](const std::string& bytes) {
    grpc::Slice slice(bytes);
    return grpc::ByteBuffer(&slice, 1);
  };
  ASSERT_TRUE(stream->Write(frame("\xff\xff\xff\xff")));
  v1::PushStreamRequest good;
  *good.mutable_batch() = Request(2);
  good.mutable_batch()->set_batch_id("good");
  ASSERT_TRUE(stream->Write(frame(good.SerializeAsString())));
  stream->WritesDone();
  std::map<std::string, v1::PushStreamResponse> answers;
  grpc::ByteBuffer bytes;
  while (stream->Read(&bytes)) {
    v1::PushStreamResponse answer;
    grpc::ProtoBufferReader input(&bytes);
    ASSERT_TRUE(answer.ParseFromZeroCopyStream(&input));
    answers[answer.batch_id()] = answer;
  }
  EXPECT_TRUE(stream->Finish().ok());
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[""].error().code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(answers[""].error().message(), HasSubstr("not a PushStreamRequest"));
  EXPECT_EQ(answers["good"].ack().rows(), 2);

  // Unary: the request is parsed on an arena and freed before the answer.
  grpc::ClientContext unary_context;
  v1::PushRequest unary = Request(3, "u");
  unary.set_batch_id("unary");
  v1::PushResponse response;
  ASSERT_TRUE(v1::IngestionService::NewStub(channel_)->Push(&unary_context, unary, &response).ok());
  EXPECT_EQ(response.rows(), 3);

  // What was published carries every row of each batch, whole.
  for (const auto& [id, rows] : {std::pair<std::string, int>{"shop/good/a_view", 2},
                                 {"shop/good/b_view", 2},
                                 {"shop/unary/a_view", 3},
                                 {"shop/unary/b_view", 3}}) {
    ASSERT_EQ(publisher_->stored.count(id), 1u) << id;
    events::v1::PushBatch batch;
    ASSERT_TRUE(batch.ParseFromString(publisher_->stored[id])) << id;
    EXPECT_EQ(batch.rows_size(), rows) << id;
  }
}

TEST(InFlightBudgetTest, LeasesAddUpAndAreGivenBackOnce) {
  InFlightBudget budget(100);
  ASSERT_OK_AND_ASSIGN(InFlightBudget::Lease a, budget.Acquire(60));
  EXPECT_THAT(budget.Acquire(50), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(budget.Acquire(101), StatusIs(absl::StatusCode::kInvalidArgument));
  InFlightBudget::Lease moved = std::move(a);
  EXPECT_EQ(budget.in_use(), 60);
  { InFlightBudget::Lease gone = std::move(moved); }
  EXPECT_EQ(budget.in_use(), 0);
  ASSERT_OK_AND_ASSIGN(InFlightBudget::Lease all, budget.Acquire(100));
  EXPECT_EQ(all.bytes(), 100);
}

}  // namespace
}  // namespace granary::ingestion
