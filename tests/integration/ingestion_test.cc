// Pushes end to end with real NATS, Redis and PostgreSQL: servable and in the offline table;
// newest event wins whatever the order; a retried batch id is stored once; a materializer
// killed mid-stream loses nothing and duplicates nothing; a NATS outage refuses pushes without
// losing acknowledged ones; a poison message is dead-lettered with its reason.
#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "granary/events/v1/events.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

#include "libs/bus/connection.h"
#include "libs/bus/jetstream.h"
#include "libs/testing/status_matchers.h"
#include "tests/integration/ingestion_stack.h"

namespace granary::integration {
namespace {

using ingestion::v1::PushResponse;
using ::testing::HasSubstr;

constexpr absl::Duration kWait = absl::Seconds(20);

bool Serves(const IngestionStack& stack, int64_t driver, int64_t trips) {
  absl::StatusOr<Served> served = stack.Read(driver);
  return served.ok() && served->status == serving::v1::PRESENT && served->trips == trips;
}

int64_t CountOr(const IngestionStack& stack, const std::string& sql) {
  absl::StatusOr<int64_t> n = stack.Count(sql);
  return n.ok() ? *n : -1;
}

TEST(IngestionTest, PushedRowsAreServableAndInTheOfflineTable) {
  ASSERT_OK_AND_ASSIGN(auto stack, IngestionStack::Start(1));
  int64_t now = absl::ToUnixSeconds(absl::Now());
  PushResponse resp;
  grpc::Status s = stack->Push(
      stack->Request("b1", {{1, now, 10}, {2, now, 20}}, ingestion::v1::ONLINE_AND_OFFLINE), &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.batch_id(), "b1");
  EXPECT_EQ(resp.rows(), 2);
  EXPECT_FALSE(resp.duplicate());
  EXPECT_THAT(resp.feature_views(), ::testing::ElementsAre("driver_stats"));
  ASSERT_TRUE(IngestionStack::Eventually([&] { return Serves(*stack, 2, 20); }, kWait));
  ASSERT_OK_AND_ASSIGN(Served served, stack->Read(1));
  EXPECT_EQ(served.trips, 10);
  EXPECT_EQ(served.event_seconds, now);
  ASSERT_TRUE(IngestionStack::Eventually(
      [&] { return CountOr(*stack, "SELECT count(*) FROM stats") == 2; }, kWait));
  EXPECT_EQ(CountOr(*stack, absl::StrCat("SELECT count(*) FROM stats WHERE driver_id = 2 AND "
                                         "trips = 20 AND rate IS NULL AND created IS NOT NULL "
                                         "AND ts = to_timestamp(",
                                         now, ")")),
            1);

  // Bad input: rejected whole, naming the column and row; nothing stored.
  auto bad = stack->Request("b2", {{3, now, 30}, {4, now, 40}}, ingestion::v1::ONLINE_AND_OFFLINE);
  (*bad.mutable_columns())["trips"].mutable_val(1)->set_string_val("many");
  s = stack->Push(bad, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("columns[trips] row 1: expected INT64"));
  bad.set_push_source_name("nope");
  s = stack->Push(bad, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  // Offline-only rows reach the table but not Redis.
  ASSERT_TRUE(
      stack->Push(stack->Request("b3", {{5, now, 50}}, ingestion::v1::OFFLINE), &resp).ok());
  ASSERT_TRUE(IngestionStack::Eventually(
      [&] { return CountOr(*stack, "SELECT count(*) FROM stats") == 3; }, kWait));
  ASSERT_OK_AND_ASSIGN(served, stack->Read(5));
  EXPECT_EQ(served.status, serving::v1::NOT_FOUND);
  EXPECT_EQ(CountOr(*stack, "SELECT count(*) FROM stats WHERE driver_id IN (3, 4)"), 0);
}

TEST(IngestionTest, ABadBatchOnAStreamFailsAloneAndTheOthersAreStored) {
  ASSERT_OK_AND_ASSIGN(auto stack, IngestionStack::Start(1));
  auto stub = ingestion::v1::IngestionService::NewStub(stack->ingestion_channel());
  grpc::ClientContext ctx;
  auto stream = stub->PushStream(&ctx);
  ingestion::v1::PushStreamRequest good, bad, later, no_id;
  *good.mutable_batch() = stack->Request("s1", {{21, 100, 1}}, ingestion::v1::ONLINE);
  *bad.mutable_batch() = stack->Request("s2", {{22, 100, 2}}, ingestion::v1::ONLINE);
  (*bad.mutable_batch()->mutable_columns())["driver_id"].mutable_val(0)->set_string_val("x");
  *later.mutable_batch() = stack->Request("s3", {{23, 100, 3}}, ingestion::v1::ONLINE);
  *no_id.mutable_batch() = stack->Request("", {{24, 100, 4}}, ingestion::v1::ONLINE);
  // All in flight at once; answers may come in any order.
  for (const auto* req : {&good, &bad, &later, &no_id}) ASSERT_TRUE(stream->Write(*req));
  stream->WritesDone();
  std::map<std::string, ingestion::v1::PushStreamResponse> answers;
  ingestion::v1::PushStreamResponse resp;
  while (stream->Read(&resp)) answers[resp.batch_id()] = resp;
  ASSERT_TRUE(stream->Finish().ok());
  ASSERT_EQ(answers.size(), 4u);
  EXPECT_TRUE(answers["s1"].has_ack());
  EXPECT_TRUE(answers["s3"].has_ack());
  EXPECT_EQ(answers["s2"].error().code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(answers["s2"].error().message(), HasSubstr("columns[driver_id] row 0"));
  EXPECT_EQ(answers[""].error().code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(answers[""].error().message(), HasSubstr("batch_id"));
  ASSERT_TRUE(IngestionStack::Eventually([&] { return Serves(*stack, 23, 3); }, kWait));
  EXPECT_TRUE(Serves(*stack, 21, 1));
  ASSERT_OK_AND_ASSIGN(Served never, stack->Read(22));
  EXPECT_EQ(never.status, serving::v1::NOT_FOUND);
}

TEST(IngestionTest, AnOlderEventNeverReplacesANewerOne) {
  ASSERT_OK_AND_ASSIGN(auto stack, IngestionStack::Start(1));
  PushResponse resp;
  ASSERT_TRUE(
      stack->Push(stack->Request("new", {{7, 2000, 2}}, ingestion::v1::ONLINE_AND_OFFLINE), &resp)
          .ok());
  ASSERT_TRUE(
      stack->Push(stack->Request("old", {{7, 1000, 1}}, ingestion::v1::ONLINE_AND_OFFLINE), &resp)
          .ok());
  // Both were applied (the older one last): both rows are offline, the newer one is online.
  ASSERT_TRUE(IngestionStack::Eventually(
      [&] { return CountOr(*stack, "SELECT count(*) FROM stats WHERE driver_id = 7") == 2; },
      kWait));
  ASSERT_TRUE(IngestionStack::Eventually(
      [&] {
        absl::StatusOr<Served> s = stack->Read(7);
        // TTL 0: never outside max age, however old the event.
        return s.ok() && s->event_seconds == 2000;
      },
      kWait));
  ASSERT_OK_AND_ASSIGN(Served served, stack->Read(7));
  EXPECT_EQ(served.trips, 2);
}

TEST(IngestionTest, ARetriedBatchIdIsStoredOnce) {
  ASSERT_OK_AND_ASSIGN(auto stack, IngestionStack::Start(1));
  auto req =
      stack->Request("retry-me", {{8, 100, 1}, {9, 100, 2}}, ingestion::v1::ONLINE_AND_OFFLINE);
  PushResponse first, again;
  ASSERT_TRUE(stack->Push(req, &first).ok());
  ASSERT_TRUE(stack->Push(req, &again).ok());
  EXPECT_FALSE(first.duplicate());
  EXPECT_TRUE(again.duplicate());
  ASSERT_TRUE(IngestionStack::Eventually([&] { return Serves(*stack, 9, 2); }, kWait));
  // A later batch proves the writer is past the retry; still two rows.
  ASSERT_TRUE(
      stack->Push(stack->Request("after", {{10, 100, 3}}, ingestion::v1::OFFLINE), &first).ok());
  ASSERT_TRUE(IngestionStack::Eventually(
      [&] { return CountOr(*stack, "SELECT count(*) FROM stats WHERE driver_id = 10") == 1; },
      kWait));
  EXPECT_EQ(CountOr(*stack, "SELECT count(*) FROM stats WHERE driver_id IN (8, 9)"), 2);
}

TEST(IngestionTest, AKilledMaterializerLosesAndDuplicatesNothing) {
  ASSERT_OK_AND_ASSIGN(auto stack, IngestionStack::Start(2));
  constexpr int kBatches = 60;
  constexpr int kRows = 20;
  auto stub = ingestion::v1::IngestionService::NewStub(stack->ingestion_channel());
  grpc::ClientContext ctx;
  auto stream = stub->PushStream(&ctx);
  int acked = 0;
  for (int b = 0; b < kBatches; ++b) {
    std::vector<Row> rows;
    for (int r = 0; r < kRows; ++r) rows.push_back({b * kRows + r, 1000 + b, b});
    ingestion::v1::PushStreamRequest req;
    *req.mutable_batch() =
        stack->Request(absl::StrCat("k", b), rows, ingestion::v1::ONLINE_AND_OFFLINE);
    ASSERT_TRUE(stream->Write(req));
    ingestion::v1::PushStreamResponse resp;
    ASSERT_TRUE(stream->Read(&resp));
    ASSERT_TRUE(resp.has_ack()) << resp.error().message();
    ++acked;
    // Mid-stream, after some batches reached the writers: no graceful anything.
    if (b == kBatches / 3) {
      ASSERT_OK(stack->materializer(0).Kill());
    }
  }
  stream->WritesDone();
  ASSERT_TRUE(stream->Finish().ok());
  EXPECT_EQ(acked, kBatches);
  const int64_t total = kBatches * kRows;
  ASSERT_TRUE(IngestionStack::Eventually(
      [&] { return CountOr(*stack, "SELECT count(*) FROM stats") >= total; }, kWait * 2));
  // Redelivered batches found their ids: exactly once.
  EXPECT_EQ(CountOr(*stack, "SELECT count(*) FROM stats"), total);
  EXPECT_EQ(CountOr(*stack, "SELECT count(DISTINCT driver_id) FROM stats"), total);
  ASSERT_TRUE(
      IngestionStack::Eventually([&] { return Serves(*stack, total - 1, kBatches - 1); }, kWait));
  for (int64_t d = 0; d < total; d += 37) {
    EXPECT_TRUE(Serves(*stack, d, d / kRows)) << "driver " << d;
  }
}

TEST(IngestionTest, ANatsOutageRefusesPushesAndLosesNoAcknowledgedOne) {
  ASSERT_OK_AND_ASSIGN(auto stack, IngestionStack::Start(1));
  PushResponse resp;
  ASSERT_TRUE(
      stack->Push(stack->Request("before", {{1, 100, 1}}, ingestion::v1::ONLINE_AND_OFFLINE), &resp)
          .ok());
  ASSERT_OK(stack->nats().Stop());
  grpc::Status s = stack->Push(
      stack->Request("during", {{2, 100, 2}}, ingestion::v1::ONLINE_AND_OFFLINE), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  ASSERT_OK(stack->nats().Restart());
  // The service recovers by itself: the producer's retry goes through.
  ASSERT_TRUE(IngestionStack::Eventually(
      [&] {
        return stack
            ->Push(stack->Request("after", {{3, 100, 3}}, ingestion::v1::ONLINE_AND_OFFLINE), &resp)
            .ok();
      },
      kWait));
  ASSERT_TRUE(IngestionStack::Eventually([&] { return Serves(*stack, 3, 3); }, kWait));
  // A delivery lost with the server comes back after the consumer's ack_wait, so "before" may
  // arrive after "after".
  EXPECT_TRUE(IngestionStack::Eventually([&] { return Serves(*stack, 1, 1); }, kWait));
  ASSERT_TRUE(IngestionStack::Eventually(
      [&] { return CountOr(*stack, "SELECT count(*) FROM stats WHERE driver_id IN (1, 3)") == 2; },
      kWait));
}

TEST(IngestionTest, APoisonMessageIsDeadLetteredWithItsReason) {
  ASSERT_OK_AND_ASSIGN(auto stack, IngestionStack::Start(1));
  bus::NatsOptions o;
  o.url = stack->nats().url();
  ASSERT_OK_AND_ASSIGN(auto conn, bus::Connection::Open(o));
  ASSERT_TRUE(conn->WaitConnected(absl::Seconds(5)));
  ASSERT_OK_AND_ASSIGN(auto js, bus::JetStream::Create(conn));
  ASSERT_OK(js->Publish("granary.push.shop.driver_stats", "not a batch", "poison").status());
  // A well-formed batch for a view that does not exist fails for good too.
  events::v1::PushBatch ghost;
  ghost.set_project("shop");
  ghost.set_feature_view("ghost");
  ghost.set_batch_id("g1");
  ghost.set_online(true);
  ASSERT_OK(js->Publish("granary.push.shop.ghost", ghost.SerializeAsString(), "g1/ghost").status());
  ASSERT_OK_AND_ASSIGN(auto dead, js->Consume({.stream = "GRANARY_DEADLETTER",
                                               .durable = "test",
                                               .subject = "granary.deadletter.>"}));
  std::vector<events::v1::DeadLetter> letters;
  for (absl::Time give_up = absl::Now() + kWait; letters.size() < 2 && absl::Now() < give_up;) {
    ASSERT_OK_AND_ASSIGN(auto got, dead->Fetch(10, absl::Seconds(1)));
    for (auto& m : got) {
      events::v1::DeadLetter letter;
      ASSERT_TRUE(letter.ParseFromArray(m.data().data(), static_cast<int>(m.data().size())));
      if (letter.consumer() == "online-writer") letters.push_back(letter);
      ASSERT_OK(m.Ack());
    }
  }
  ASSERT_EQ(letters.size(), 2u);
  std::sort(letters.begin(), letters.end(),
            [](const auto& a, const auto& b) { return a.subject() < b.subject(); });
  EXPECT_EQ(letters[0].subject(), "granary.push.shop.driver_stats");
  EXPECT_EQ(letters[0].payload(), "not a batch");
  EXPECT_THAT(letters[0].reason(), HasSubstr("undecodable"));
  EXPECT_EQ(letters[0].deliveries(), 2u);  // max_deliveries in the stack's config
  EXPECT_EQ(letters[1].subject(), "granary.push.shop.ghost");
  EXPECT_THAT(letters[1].reason(), HasSubstr("feature view ghost"));
}

}  // namespace
}  // namespace granary::integration
