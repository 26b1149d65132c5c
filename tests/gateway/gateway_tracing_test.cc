// A trace a client starts reaches the OTLP receiver with a span from every process on its path:
// the gateway, the service behind it and, for a push, the materializer's workers that took the
// message from NATS, each the child of the one before.
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"

#include "libs/base/proto_time.h"
#include "libs/trace/test_receiver.h"
#include "libs/trace/trace_context.h"
#include "tests/gateway/gateway_grpc_fixture.h"

namespace granary::testing {
namespace {

using trace::ReceivedSpan;

std::string Hex(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes) absl::StrAppend(&out, absl::Hex(c, absl::kZeroPad2));
  return out;
}

// A new sampled client context, as an instrumented model server would send it.
trace::TraceContext ClientSpan() { return trace::ChildOf(std::nullopt, 1.0); }

std::vector<ReceivedSpan> OfTrace(const std::vector<ReceivedSpan>& spans,
                                  const std::string& trace_id) {
  std::vector<ReceivedSpan> out;
  for (const auto& s : spans) {
    if (Hex(s.span.trace_id()) == trace_id) out.push_back(s);
  }
  return out;
}

// The span of `service` named `name` in the trace, whose parent is `parent_span_id`.
const ReceivedSpan* Find(const std::vector<ReceivedSpan>& spans, const std::string& service,
                         const std::string& name, const std::string& parent_span_id) {
  for (const auto& s : spans) {
    if (s.service == service && s.span.name() == name &&
        Hex(s.span.parent_span_id()) == parent_span_id) {
      return &s;
    }
  }
  return nullptr;
}

std::string Describe(const std::vector<ReceivedSpan>& spans) {
  std::string out;
  for (const auto& s : spans) {
    absl::StrAppend(&out, "\n  ", s.service, " ", s.span.name(), " span ", Hex(s.span.span_id()),
                    " parent ", Hex(s.span.parent_span_id()));
  }
  return out;
}

class GatewayTracingTest : public GatewayGrpcTest {
 protected:
  // The trace's spans once `count` of them arrived (or what came within a minute).
  std::vector<ReceivedSpan> WaitForTrace(const std::string& trace_id, size_t count) {
    return OfTrace(stack().traces().WaitForSpans(
                       [&](const std::vector<ReceivedSpan>& all) {
                         return OfTrace(all, trace_id).size() >= count;
                       },
                       absl::Seconds(60)),
                   trace_id);
  }
};

TEST_F(GatewayTracingTest, AReadIsOneTraceThroughTheGatewayAndServing) {
  trace::TraceContext client = ClientSpan();
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  GatewayStack::Authorize(ctx, stack().Token("ana", {"reader"}));
  ctx.AddMetadata("traceparent", client.Traceparent());
  ctx.AddMetadata("x-request-id", "traced-read");
  serving::v1::GetOnlineFeaturesResponse response;
  ASSERT_GRPC_OK(serving::v1::ServingService::NewStub(stack().channel())
                     ->GetOnlineFeatures(&ctx, Read({"driver_hourly_stats:conv_rate"}), &response));

  const std::string method = "/granary.serving.v1.ServingService/GetOnlineFeatures";
  std::vector<ReceivedSpan> spans = WaitForTrace(client.TraceIdHex(), 2);
  const ReceivedSpan* gateway = Find(spans, "granary-gateway", method, client.SpanIdHex());
  ASSERT_NE(gateway, nullptr) << Describe(spans);
  const ReceivedSpan* serving =
      Find(spans, "granary-serving", method, Hex(gateway->span.span_id()));
  ASSERT_NE(serving, nullptr) << "serving's span is the gateway's child" << Describe(spans);

  // The audit line names the same trace.
  std::vector<nlohmann::json> lines = stack().AuditLines("traced-read");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["trace_id"], client.TraceIdHex());
}

TEST_F(GatewayTracingTest, ACallWithoutATraceGetsOneFromTheGateway) {
  // A client as model servers are: a plain channel (the stack's own channels sign their calls
  // as a service, and a service's calls carry an unrecorded trace of their own).
  auto channel =
      grpc::CreateChannel(stack().gateway().address(), grpc::InsecureChannelCredentials());
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  GatewayStack::Authorize(ctx, stack().Token("ana", {"reader"}));
  ctx.AddMetadata("x-request-id", "untraced-read");
  serving::v1::GetOnlineFeaturesResponse response;
  ASSERT_GRPC_OK(serving::v1::ServingService::NewStub(channel)->GetOnlineFeatures(
      &ctx, Read({"driver_hourly_stats:conv_rate"}), &response));
  std::vector<nlohmann::json> lines = stack().AuditLines("untraced-read");
  ASSERT_EQ(lines.size(), 1u);
  const std::string trace_id = lines[0]["trace_id"];
  ASSERT_EQ(trace_id.size(), 32u) << "the gateway started a trace and audited its id";
  std::vector<ReceivedSpan> spans = WaitForTrace(trace_id, 2);
  const std::string method = "/granary.serving.v1.ServingService/GetOnlineFeatures";
  const ReceivedSpan* gateway = Find(spans, "granary-gateway", method, "");
  ASSERT_NE(gateway, nullptr) << "the gateway's span is the root" << Describe(spans);
  EXPECT_NE(Find(spans, "granary-serving", method, Hex(gateway->span.span_id())), nullptr)
      << Describe(spans);
}

TEST_F(GatewayTracingTest, AnHttpReadIsTracedLikeAGrpcOne) {
  trace::TraceContext client = ClientSpan();
  httplib::Client http("127.0.0.1", stack().http_port());
  http.set_read_timeout(30, 0);
  httplib::Headers headers = {
      {"Authorization", absl::StrCat("Bearer ", stack().Token("ana", {"reader"}))},
      {"traceparent", client.Traceparent()}};
  nlohmann::json read = {{"entities", {{"driver_id", {1001}}}},
                         {"features", {"driver_hourly_stats:conv_rate"}}};
  auto answer = http.Post("/get-online-features", headers, read.dump(), "application/json");
  ASSERT_TRUE(answer);
  ASSERT_EQ(answer->status, 200) << answer->body;

  std::vector<ReceivedSpan> spans = WaitForTrace(client.TraceIdHex(), 2);
  const ReceivedSpan* gateway =
      Find(spans, "granary-gateway", "POST /get-online-features", client.SpanIdHex());
  ASSERT_NE(gateway, nullptr) << Describe(spans);
  EXPECT_NE(Find(spans, "granary-serving", "/granary.serving.v1.ServingService/GetOnlineFeatures",
                 Hex(gateway->span.span_id())),
            nullptr)
      << Describe(spans);
}

TEST_F(GatewayTracingTest, APushIsFollowedThroughNatsToTheWorkers) {
  trace::TraceContext client = ClientSpan();
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  GatewayStack::Authorize(ctx, stack().Token("wes", {"writer"}));
  ctx.AddMetadata("traceparent", client.Traceparent());
  ingestion::v1::PushResponse pushed;
  ASSERT_GRPC_OK(ingestion::v1::IngestionService::NewStub(stack().channel())
                     ->Push(&ctx, PushRow(1001, 0.25f), &pushed));

  const std::string method = "/granary.ingestion.v1.IngestionService/Push";
  // The gateway's, ingestion's, and one per worker that took the message (online, offline).
  std::vector<ReceivedSpan> spans = WaitForTrace(client.TraceIdHex(), 4);
  const ReceivedSpan* gateway = Find(spans, "granary-gateway", method, client.SpanIdHex());
  ASSERT_NE(gateway, nullptr) << Describe(spans);
  const ReceivedSpan* ingestion =
      Find(spans, "granary-ingestion", method, Hex(gateway->span.span_id()));
  ASSERT_NE(ingestion, nullptr) << Describe(spans);
  const std::string published_by = Hex(ingestion->span.span_id());
  const ReceivedSpan* online =
      Find(spans, "granary-materializer", "process online-writer", published_by);
  const ReceivedSpan* offline =
      Find(spans, "granary-materializer", "process offline-writer", published_by);
  ASSERT_NE(online, nullptr) << "the traceparent travelled in the NATS headers" << Describe(spans);
  ASSERT_NE(offline, nullptr) << Describe(spans);
  EXPECT_EQ(online->span.kind(), opentelemetry::proto::trace::v1::Span::SPAN_KIND_CONSUMER);
  EXPECT_FALSE(online->span.has_status()) << "written: no error";
}

TEST_F(GatewayTracingTest, EachBatchOfAPushStreamIsASpanItsMessagesFollow) {
  trace::TraceContext client = ClientSpan();
  grpc::ClientContext ctx;
  GatewayStack::Authorize(ctx, stack().Token("wes", {"writer"}));
  ctx.AddMetadata("traceparent", client.Traceparent());
  auto stream = ingestion::v1::IngestionService::NewStub(stack().channel())->PushStream(&ctx);
  for (int64_t driver : {7101, 7102}) {
    ingestion::v1::PushStreamRequest batch;
    *batch.mutable_batch() = PushRow(driver, 0.5f);
    batch.mutable_batch()->set_batch_id(absl::StrCat("traced-stream-", driver));
    ASSERT_TRUE(stream->Write(batch));
  }
  stream->WritesDone();
  ingestion::v1::PushStreamResponse answer;
  int acked = 0;
  while (stream->Read(&answer)) acked += answer.has_ack() ? 1 : 0;
  ASSERT_GRPC_OK(stream->Finish());
  ASSERT_EQ(acked, 2);

  const std::string method = "/granary.ingestion.v1.IngestionService/PushStream";
  // The gateway's and ingestion's stream spans, a span per batch, and each batch's two
  // writers (online, offline).
  std::vector<ReceivedSpan> spans = WaitForTrace(client.TraceIdHex(), 2 + 2 + 4);
  const ReceivedSpan* gateway = Find(spans, "granary-gateway", method, client.SpanIdHex());
  ASSERT_NE(gateway, nullptr) << Describe(spans);
  const ReceivedSpan* ingestion =
      Find(spans, "granary-ingestion", method, Hex(gateway->span.span_id()));
  ASSERT_NE(ingestion, nullptr) << Describe(spans);
  int batches = 0;
  for (const auto& batch : spans) {
    if (batch.span.name() != "push batch" ||
        Hex(batch.span.parent_span_id()) != Hex(ingestion->span.span_id())) {
      continue;
    }
    ++batches;
    // The writers follow the batch's span, not the stream's.
    EXPECT_NE(
        Find(spans, "granary-materializer", "process online-writer", Hex(batch.span.span_id())),
        nullptr)
        << Describe(spans);
  }
  EXPECT_EQ(batches, 2) << Describe(spans);
}

TEST_F(GatewayTracingTest, AMaterializationsTasksJoinTheTraceOfTheCallThatStartedIt) {
  trace::TraceContext client = ClientSpan();
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  GatewayStack::Authorize(ctx, stack().Token("wes", {"writer"}));
  ctx.AddMetadata("traceparent", client.Traceparent());
  materialization::v1::MaterializeRequest request;
  request.add_feature_views("driver_hourly_stats");
  *request.mutable_start_time() = base::ToProtoTime(absl::FromUnixSeconds(0));
  *request.mutable_end_time() = base::ToProtoTime(absl::Now());
  materialization::v1::Job job;
  ASSERT_GRPC_OK(materialization::v1::MaterializationService::NewStub(stack().channel())
                     ->Materialize(&ctx, request, &job));
  ASSERT_GT(job.tasks_total(), 0);

  const std::string method = "/granary.materialization.v1.MaterializationService/Materialize";
  const size_t expected = 2 + static_cast<size_t>(job.tasks_total());
  std::vector<ReceivedSpan> spans = WaitForTrace(client.TraceIdHex(), expected);
  const ReceivedSpan* gateway = Find(spans, "granary-gateway", method, client.SpanIdHex());
  ASSERT_NE(gateway, nullptr) << Describe(spans);
  const ReceivedSpan* materializer =
      Find(spans, "granary-materializer", method, Hex(gateway->span.span_id()));
  ASSERT_NE(materializer, nullptr) << Describe(spans);
  // By task message (a task run twice would have two spans).
  std::set<std::string> tasks;
  for (const auto& s : spans) {
    if (s.span.name() != "process task-runner" ||
        Hex(s.span.parent_span_id()) != Hex(materializer->span.span_id())) {
      continue;
    }
    for (const auto& kv : s.span.attributes()) {
      if (kv.key() == "messaging.message.id") tasks.insert(kv.value().string_value());
    }
  }
  EXPECT_EQ(tasks.size(), static_cast<size_t>(job.tasks_total()))
      << "a span for each task, the call's child" << Describe(spans);

  // GetJob through the gateway: its lookup of the job (to authorize) and the call itself
  // are both in the caller's trace, under the gateway's span.
  trace::TraceContext asker = ClientSpan();
  grpc::ClientContext get_ctx;
  get_ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  GatewayStack::Authorize(get_ctx, stack().Token("wes", {"writer"}));
  get_ctx.AddMetadata("traceparent", asker.Traceparent());
  materialization::v1::GetJobRequest get;
  get.set_job_id(job.job_id());
  materialization::v1::Job got;
  ASSERT_GRPC_OK(materialization::v1::MaterializationService::NewStub(stack().channel())
                     ->GetJob(&get_ctx, get, &got));
  const std::string get_method = "/granary.materialization.v1.MaterializationService/GetJob";
  std::vector<ReceivedSpan> get_spans = WaitForTrace(asker.TraceIdHex(), 3);
  const ReceivedSpan* get_gateway =
      Find(get_spans, "granary-gateway", get_method, asker.SpanIdHex());
  ASSERT_NE(get_gateway, nullptr) << Describe(get_spans);
  int under_gateway = 0;
  for (const auto& s : get_spans) {
    under_gateway += s.service == "granary-materializer" && s.span.name() == get_method &&
                             Hex(s.span.parent_span_id()) == Hex(get_gateway->span.span_id())
                         ? 1
                         : 0;
  }
  EXPECT_EQ(under_gateway, 2) << "the lookup and the call" << Describe(get_spans);
}

TEST_F(GatewayTracingTest, AnUnsampledTraceIsFollowedButNotRecorded) {
  const std::string method = "/granary.serving.v1.ServingService/GetOnlineFeatures";
  // The gateway's read spans so far, whatever their trace: an unsampled call must not be
  // recorded under a trace of the gateway's own either.
  auto gateway_reads = [&] {
    int n = 0;
    for (const auto& s : stack().traces().Spans()) {
      n += s.service == "granary-gateway" && s.span.name() == method ? 1 : 0;
    }
    return n;
  };
  const int reads_before = gateway_reads();
  trace::TraceContext client = ClientSpan();
  client.sampled = false;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  GatewayStack::Authorize(ctx, stack().Token("ana", {"reader"}));
  ctx.AddMetadata("traceparent", client.Traceparent());
  ctx.AddMetadata("x-request-id", "unsampled-read");
  serving::v1::GetOnlineFeaturesResponse response;
  ASSERT_GRPC_OK(serving::v1::ServingService::NewStub(stack().channel())
                     ->GetOnlineFeatures(&ctx, Read({"driver_hourly_stats:conv_rate"}), &response));
  // A sampled read after it: once its spans arrived, the unsampled one's would have too.
  trace::TraceContext after = ClientSpan();
  grpc::ClientContext ctx2;
  ctx2.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  GatewayStack::Authorize(ctx2, stack().Token("ana", {"reader"}));
  ctx2.AddMetadata("traceparent", after.Traceparent());
  ASSERT_GRPC_OK(
      serving::v1::ServingService::NewStub(stack().channel())
          ->GetOnlineFeatures(&ctx2, Read({"driver_hourly_stats:conv_rate"}), &response));
  ASSERT_EQ(WaitForTrace(after.TraceIdHex(), 2).size(), 2u);
  EXPECT_TRUE(OfTrace(stack().traces().Spans(), client.TraceIdHex()).empty());
  EXPECT_EQ(gateway_reads(), reads_before + 1) << "only the sampled read was recorded";
  // Its id is still in the audit line.
  std::vector<nlohmann::json> lines = stack().AuditLines("unsampled-read");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["trace_id"], client.TraceIdHex());
}

}  // namespace
}  // namespace granary::testing
