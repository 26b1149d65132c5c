// Pushes end to end on the example repo, with real NATS, Redis and PostgreSQL and the service
// binaries: servable and in the offline table; the newest row wins online whatever the order;
// an equal event time is won by the newer created time online and offline alike; retries are
// stored once (with and without a batch id); every class of bad input is refused with its code
// and stores nothing; a full GRANARY_PUSH refuses pushes and keeps what it stored; a poison
// message is dead-lettered with its reason.
#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

#include "libs/bus/streams.h"
#include "libs/testing/eventually.h"
#include "libs/testing/status_matchers.h"
#include "tests/integration/ingestion_harness.h"

namespace granary::integration {
namespace {

using ingestion::v1::ONLINE;
using ingestion::v1::ONLINE_AND_OFFLINE;
using ingestion::v1::PushResponse;
using testing::Eventually;
using ::testing::HasSubstr;

constexpr absl::Duration kWait = absl::Seconds(30);

bool Serves(const IngestionHarness& h, int64_t driver, int64_t trips) {
  absl::StatusOr<Served> served = h.Read(driver);
  return served.ok() && served->status == serving::v1::PRESENT && served->trips == trips;
}

TEST(IngestionTest, PushedRowsAreServableAndInTheOfflineTable) {
  ASSERT_OK_AND_ASSIGN(auto h, IngestionHarness::Start());
  const absl::Time now = h->Now();
  PushResponse resp;
  grpc::Status s = h->Push(h->Request("b1", {{1, now, 10}, {2, now, 20}}, ONLINE_AND_OFFLINE), &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.batch_id(), "b1");
  EXPECT_EQ(resp.rows(), 2);
  EXPECT_FALSE(resp.duplicate());
  EXPECT_THAT(resp.feature_views(), ::testing::ElementsAre(kView));
  ASSERT_TRUE(Eventually([&] { return Serves(*h, 2, 20); }, kWait));
  ASSERT_OK_AND_ASSIGN(Served served, h->Read(1));
  EXPECT_EQ(served.trips, 10);
  EXPECT_EQ(served.event, now);
  ASSERT_TRUE(Eventually([&] { return h->Count("SELECT count(*) FROM driver_stats") == 2; }, kWait));
  // Without a created column in the push, rows count as created when ingestion received them.
  EXPECT_EQ(h->Count(absl::StrCat(
                "SELECT count(*) FROM driver_stats WHERE driver_id = 2 AND avg_daily_trips = 20 "
                "AND created >= event_timestamp AND event_timestamp = to_timestamp(",
                absl::ToUnixMicros(now), " / 1e6)")),
            1);
}

TEST(IngestionTest, ABadBatchOnAStreamFailsAloneAndTheOthersAreStored) {
  ASSERT_OK_AND_ASSIGN(auto h, IngestionHarness::Start());
  auto stub = ingestion::v1::IngestionService::NewStub(h->ingestion().channel());
  grpc::ClientContext ctx;
  auto stream = stub->PushStream(&ctx);
  const absl::Time now = h->Now();
  ingestion::v1::PushStreamRequest good, bad, later, no_id, unknown;
  *good.mutable_batch() = h->Request("s1", {{21, now, 1}}, ONLINE);
  *bad.mutable_batch() = h->Request("s2", {{22, now, 2}}, ONLINE);
  (*bad.mutable_batch()->mutable_columns())["driver_id"].mutable_val(0)->set_string_val("x");
  *later.mutable_batch() = h->Request("s3", {{23, now, 3}}, ONLINE);
  *no_id.mutable_batch() = h->Request("", {{24, now, 4}}, ONLINE);
  *unknown.mutable_batch() = h->Request("s5", {{25, now, 5}}, ONLINE);
  unknown.mutable_batch()->set_push_source_name("nope");
  // All in flight at once; answers may come in any order.
  for (const auto* req : {&good, &bad, &later, &no_id, &unknown}) ASSERT_TRUE(stream->Write(*req));
  stream->WritesDone();
  std::map<std::string, ingestion::v1::PushStreamResponse> answers;
  ingestion::v1::PushStreamResponse resp;
  while (stream->Read(&resp)) answers[resp.batch_id()] = resp;
  ASSERT_TRUE(stream->Finish().ok());
  ASSERT_EQ(answers.size(), 5u);
  EXPECT_TRUE(answers["s1"].has_ack());
  EXPECT_TRUE(answers["s3"].has_ack());
  EXPECT_EQ(answers["s2"].error().code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(answers["s2"].error().message(), HasSubstr("columns[driver_id] row 0"));
  EXPECT_EQ(answers[""].error().code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(answers[""].error().message(), HasSubstr("batch_id"));
  EXPECT_EQ(answers["s5"].error().code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  ASSERT_TRUE(Eventually([&] { return Serves(*h, 23, 3); }, kWait));
  EXPECT_TRUE(Serves(*h, 21, 1));
  ASSERT_OK_AND_ASSIGN(Served never, h->Read(22));
  EXPECT_EQ(never.status, serving::v1::NOT_FOUND);
}

TEST(IngestionTest, AnOlderEventNeverReplacesANewerOne) {
  ASSERT_OK_AND_ASSIGN(auto h, IngestionHarness::Start());
  const absl::Time newer = h->Now();
  const absl::Time older = newer - absl::Minutes(10);
  ASSERT_TRUE(h->Push(h->Request("new", {{7, newer, 2}}, ONLINE_AND_OFFLINE)).ok());
  // The newer row is online before the older one is sent.
  ASSERT_TRUE(Eventually([&] { return Serves(*h, 7, 2); }, kWait));
  ASSERT_TRUE(h->Push(h->Request("old", {{7, older, 1}}, ONLINE_AND_OFFLINE)).ok());
  // The online writer has settled "old" (acknowledged, so handled, not waiting for a retry).
  ASSERT_TRUE(Eventually([&] { return h->WriterCaughtUp(bus::kOnlineWriter); }, kWait));
  ASSERT_TRUE(h->DeadLetters().ok() && h->DeadLetters()->empty());
  ASSERT_OK_AND_ASSIGN(Served served, h->Read(7));
  EXPECT_EQ(served.trips, 2);
  EXPECT_EQ(served.event, newer);
  // Both rows are offline: history keeps what came.
  ASSERT_TRUE(Eventually(
      [&] { return h->Count("SELECT count(*) FROM driver_stats WHERE driver_id = 7") == 2; },
      kWait));
}

TEST(IngestionTest, AnEqualEventTimeIsWonByTheNewerCreatedTimeOnlineAndOffline) {
  ASSERT_OK_AND_ASSIGN(auto h, IngestionHarness::Start());
  const absl::Time event = h->Now();
  const absl::Time created = absl::FromUnixSeconds(absl::ToUnixSeconds(event));
  auto push = [&](const std::string& id, int64_t trips, absl::Time made) {
    ASSERT_TRUE(h->Push(h->Request(id, {{9, event, trips, made}}, ONLINE_AND_OFFLINE)).ok());
  };
  push("first", 1, created);
  ASSERT_TRUE(Eventually([&] { return Serves(*h, 9, 1); }, kWait));
  push("correction", 2, created + absl::Seconds(1));
  ASSERT_TRUE(Eventually([&] { return Serves(*h, 9, 2); }, kWait));
  push("stale", 3, created - absl::Seconds(1));
  ASSERT_TRUE(Eventually([&] { return h->WriterCaughtUp(bus::kOnlineWriter); }, kWait));
  ASSERT_TRUE(h->DeadLetters().ok() && h->DeadLetters()->empty());
  EXPECT_TRUE(Serves(*h, 9, 2));
  // Offline, the point-in-time join's tie-break picks the same row.
  ASSERT_TRUE(Eventually(
      [&] { return h->Count("SELECT count(*) FROM driver_stats WHERE driver_id = 9") == 3; },
      kWait));
  EXPECT_EQ(h->Count("SELECT avg_daily_trips FROM driver_stats WHERE driver_id = 9 "
                     "ORDER BY event_timestamp DESC, created DESC LIMIT 1"),
            2);
}

TEST(IngestionTest, RetriesAreStoredOnceWithOrWithoutABatchId) {
  ASSERT_OK_AND_ASSIGN(auto h, IngestionHarness::Start());
  const absl::Time now = h->Now();
  auto req = h->Request("retry-me", {{8, now, 1}, {9, now, 2}}, ONLINE_AND_OFFLINE);
  PushResponse first, again;
  ASSERT_TRUE(h->Push(req, &first).ok());
  ASSERT_TRUE(h->Push(req, &again).ok());
  EXPECT_FALSE(first.duplicate());
  EXPECT_TRUE(again.duplicate());
  // No batch id: the same content is the same batch, as after a client's timeout.
  auto anonymous = h->Request("", {{11, now, 3}}, ONLINE_AND_OFFLINE);
  PushResponse one, two;
  ASSERT_TRUE(h->Push(anonymous, &one).ok());
  ASSERT_TRUE(h->Push(anonymous, &two).ok());
  EXPECT_FALSE(one.duplicate());
  EXPECT_TRUE(two.duplicate());
  EXPECT_EQ(one.batch_id(), two.batch_id());
  // A later batch proves the writer is past the retries.
  ASSERT_TRUE(h->Push(h->Request("after", {{12, now, 4}}, ONLINE_AND_OFFLINE)).ok());
  ASSERT_TRUE(Eventually(
      [&] { return h->Count("SELECT count(*) FROM driver_stats WHERE driver_id = 12") == 1; },
      kWait));
  EXPECT_EQ(h->Count("SELECT count(*) FROM driver_stats WHERE driver_id IN (8, 9, 11)"), 3);
}

TEST(IngestionTest, EachClassOfBadInputIsRefusedWithItsCodeAndNothingIsStored) {
  ASSERT_OK_AND_ASSIGN(auto h, IngestionHarness::Start(
                                   {.ingestion = "publish_timeout: 3s, max_batch_rows: 100000"}));
  const absl::Time now = h->Now();
  const int64_t last_before = h->StreamLastSequence(bus::kPushStream);
  ASSERT_GE(last_before, 0);
  struct Case {
    std::string name;
    ingestion::v1::PushRequest request;
    grpc::StatusCode code;
    std::vector<std::string> says;
  };
  std::vector<Case> cases;
  auto add = [&](std::string name, ingestion::v1::PushRequest r, grpc::StatusCode code,
                 std::vector<std::string> says) {
    cases.push_back({name, std::move(r), code, std::move(says)});
  };
  add("far ahead", h->Request("c1", {{1, now}, {2, absl::Now() + absl::Hours(2), 1}}, ONLINE),
      grpc::StatusCode::INVALID_ARGUMENT,
      {"columns[event_timestamp] row 1: ", "ahead of the ingestion service's clock"});
  {
    auto r = h->Request("c2", {{1, now, 1}}, ONLINE);
    r.mutable_columns()->erase("acc_rate");
    add("partial", r, grpc::StatusCode::INVALID_ARGUMENT,
        {"missing acc_rate of feature view \"driver_hourly_stats\""});
  }
  {
    auto r = h->Request("c3", {{1, now, 1}}, ONLINE);
    // One second before year 1, in the past: the range check refuses it, not the skew.
    (*r.mutable_columns())["event_timestamp"].mutable_val(0)->set_int64_val(-62135596801);
    add("out of range", r, grpc::StatusCode::INVALID_ARGUMENT,
        {"columns[event_timestamp] row 0: ", "outside years 1 to 9999"});
  }
  {
    auto r = h->Request("c4", {{1, now, 1}}, ONLINE);
    (*r.mutable_columns())["avg_daily_trips"].mutable_val(0)->set_string_val("many");
    add("wrong type", r, grpc::StatusCode::INVALID_ARGUMENT,
        {"columns[avg_daily_trips] row 0: expected INT64"});
  }
  {
    std::vector<DriverRow> many;
    for (int i = 0; i < 40000; ++i) many.push_back({i, now, i});
    add("too large for one message", h->Request("c5", many, ONLINE_AND_OFFLINE),
        grpc::StatusCode::INVALID_ARGUMENT, {"NATS max_payload"});
  }
  {
    auto r = h->Request("c6", {{1, now, 1}}, ONLINE);
    r.set_push_source_name("nope");
    add("unknown source", r, grpc::StatusCode::NOT_FOUND, {"push source \"nope\""});
  }
  {
    auto r = h->Request("c7", {{1, now, 1}}, ONLINE);
    r.set_project("elsewhere");
    add("unknown project", r, grpc::StatusCode::NOT_FOUND, {"project \"elsewhere\""});
  }
  for (const Case& c : cases) {
    grpc::Status s = h->Push(c.request);
    EXPECT_EQ(s.error_code(), c.code) << c.name << ": " << s.error_message();
    for (const std::string& says : c.says) {
      EXPECT_THAT(s.error_message(), HasSubstr(says)) << c.name;
    }
  }
  // Nothing reached JetStream (no message was ever stored since: trimming cannot hide one);
  // a good push afterwards is the only thing written.
  EXPECT_EQ(h->StreamLastSequence(bus::kPushStream), last_before);
  ASSERT_TRUE(h->Push(h->Request("good", {{3, now, 3}}, ONLINE_AND_OFFLINE)).ok());
  ASSERT_TRUE(Eventually([&] { return Serves(*h, 3, 3); }, kWait));
  ASSERT_TRUE(Eventually([&] { return h->Count("SELECT count(*) FROM driver_stats") == 1; }, kWait));
  ASSERT_OK_AND_ASSIGN(Served one, h->Read(1));
  EXPECT_EQ(one.status, serving::v1::NOT_FOUND);
}

TEST(IngestionTest, AFullStreamRefusesPushesAndKeepsWhatItStored) {
  // No writer runs: pushes pile up in GRANARY_PUSH until its 1 MiB bound.
  testing::TestStackOptions stack;
  stack.jetstream = "{push_max_bytes: 1MiB}";
  ASSERT_OK_AND_ASSIGN(auto h, IngestionHarness::Start({.materializers = 0, .stack = stack}));
  const absl::Time now = h->Now();
  std::vector<std::string> acked;
  grpc::Status refused;
  std::string pushback;
  for (int b = 0; b < 200 && refused.ok(); ++b) {
    std::vector<DriverRow> rows;
    for (int r = 0; r < 500; ++r) rows.push_back({b * 500 + r, now, b});
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    PushResponse resp;
    grpc::Status s = ingestion::v1::IngestionService::NewStub(h->ingestion().channel())
                         ->Push(&ctx, h->Request(absl::StrCat("f", b), rows, ONLINE), &resp);
    if (s.ok()) {
      acked.push_back(resp.batch_id());
    } else {
      refused = s;
      auto it = ctx.GetServerTrailingMetadata().find("grpc-retry-pushback-ms");
      if (it != ctx.GetServerTrailingMetadata().end()) {
        pushback = std::string(it->second.data(), it->second.size());
      }
    }
  }
  ASSERT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << refused.error_message();
  EXPECT_THAT(refused.error_message(), HasSubstr("maximum bytes"));
  EXPECT_EQ(pushback, "1000");
  ASSERT_FALSE(acked.empty());
  // Everything acknowledged is still there, nothing was dropped to make room.
  EXPECT_EQ(h->StreamMessages(bus::kPushStream), static_cast<int64_t>(acked.size()));
  // A writer drains the stream: every acknowledged row lands, and pushes work again.
  ASSERT_OK(h->StartMaterializer().status());
  std::vector<int64_t> drivers;
  for (size_t b = 0; b < acked.size(); ++b) {
    for (int r = 0; r < 500; ++r) drivers.push_back(static_cast<int64_t>(b) * 500 + r);
  }
  ASSERT_TRUE(Eventually(
      [&] {
        absl::StatusOr<std::map<int64_t, Served>> all = h->ReadAll(drivers);
        if (!all.ok()) return false;
        for (int64_t d : drivers) {
          const Served& s = all->at(d);
          if (s.status != serving::v1::PRESENT || s.trips != d / 500) return false;
        }
        return true;
      },
      kWait * 2));
  ASSERT_TRUE(Eventually(
      [&] { return h->Push(h->Request("after", {{1, now, 1}}, ONLINE)).ok(); }, kWait));
}

TEST(IngestionTest, APoisonMessageIsDeadLetteredWithItsReason) {
  ASSERT_OK_AND_ASSIGN(auto h, IngestionHarness::Start());
  ASSERT_OK(h->js().Publish("granary.push.driver_stats.driver_hourly_stats", "not a batch",
                            "poison")
                .status());
  ASSERT_TRUE(Eventually(
      [&] {
        absl::StatusOr<std::vector<events::v1::DeadLetter>> letters = h->DeadLetters();
        return letters.ok() && letters->size() == 2;  // one per writer
      },
      kWait));
  ASSERT_OK_AND_ASSIGN(std::vector<events::v1::DeadLetter> letters, h->DeadLetters());
  std::sort(letters.begin(), letters.end(),
            [](const auto& a, const auto& b) { return a.consumer() < b.consumer(); });
  EXPECT_EQ(letters[0].consumer(), "offline-writer");
  EXPECT_EQ(letters[1].consumer(), "online-writer");
  for (const auto& letter : letters) {
    EXPECT_EQ(letter.subject(), "granary.push.driver_stats.driver_hourly_stats");
    EXPECT_EQ(letter.payload(), "not a batch");
    EXPECT_EQ(letter.message_id(), "poison");
    EXPECT_THAT(letter.reason(), HasSubstr("undecodable"));
    EXPECT_EQ(letter.deliveries(), 2u);  // max_deliveries in the harness's config
  }
}

}  // namespace
}  // namespace granary::integration
