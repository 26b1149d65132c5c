// `granary push` against an in-process stand-in for the ingestion service (PushStream records
// each batch and acks it, refusing null join keys as the real service does) and the registry
// (GetSnapshot answers the driver_stats catalog).
#include "tools/cli/push_command.h"

#include <atomic>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "granary/ingestion/v1/ingestion.grpc.pb.h"
#include "granary/registry/v1/registry_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

#include "libs/server/run_service.h"
#include "libs/testing/ports.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/temp_dir.h"
#include "tools/cli/push_stream.h"

namespace granary::cli {
namespace {

using ::granary::testing::StatusIs;
using ingestion::v1::PushRequest;
using ingestion::v1::PushStreamRequest;
using ingestion::v1::PushStreamResponse;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

constexpr char kCatalog[] = R"pb(
  project { name: "driver_stats" }
  entities { name: "driver" join_key: "driver_id" value_type: INT64 }
  data_sources {
    name: "driver_stats_source"
    timestamp_field: "event_timestamp"
    created_timestamp_column: "created"
    postgres { table: "driver_stats" }
  }
  data_sources {
    name: "driver_stats_push"
    push { batch_source: "driver_stats_source" }
  }
  feature_views {
    name: "driver_hourly_stats"
    entities: "driver"
    schema { name: "conv_rate" dtype: FLOAT }
    schema { name: "avg_daily_trips" dtype: INT64 }
    batch_source: "driver_stats_source"
    stream_source: "driver_stats_push"
  }
)pb";

registry::v1::FeatureRepo Catalog() {
  registry::v1::FeatureRepo repo;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(kCatalog, &repo));
  return repo;
}

// What the stand-in ingestion service saw, and how it answers.
struct Ingestion {
  // Answers are held until this many batches came in, then sent newest first.
  std::atomic<int> hold{1};
  // The first this-many batches are turned away as the real service does when its memory
  // budget is spent: RESOURCE_EXHAUSTED with a retry hint.
  std::atomic<int> throttle{0};
  // The next this-many are UNAVAILABLE without a hint (JetStream electing a leader).
  std::atomic<int> unavailable{0};
  absl::Mutex mu;
  std::vector<PushRequest> batches ABSL_GUARDED_BY(mu);
  std::set<std::string> stored ABSL_GUARDED_BY(mu);

  PushStreamResponse Answer(const PushRequest& batch) {
    absl::MutexLock lock(&mu);
    batches.push_back(batch);
    PushStreamResponse resp;
    resp.set_batch_id(batch.batch_id());
    if (throttle.fetch_sub(1) > 0) {
      resp.mutable_error()->set_code(8);
      resp.mutable_error()->set_message("ingestion holds 256 MiB of pushes in flight");
      resp.mutable_error()->set_retry_after_ms(20);
      return resp;
    }
    if (unavailable.fetch_sub(1) > 0) {
      resp.mutable_error()->set_code(14);
      resp.mutable_error()->set_message("nats: no JetStream leader (retry with batch_id ...)");
      return resp;
    }
    const auto& keys = batch.columns().at("driver_id").val();
    for (int r = 0; r < keys.size(); ++r) {
      if (keys[r].has_null_val()) {
        resp.mutable_error()->set_code(3);
        resp.mutable_error()->set_message(
            absl::StrCat("columns[driver_id] row ", r, ": a join key cannot be null"));
        return resp;
      }
    }
    resp.mutable_ack()->set_batch_id(batch.batch_id());
    resp.mutable_ack()->set_rows(keys.size());
    resp.mutable_ack()->set_duplicate(!stored.insert(batch.batch_id()).second);
    resp.mutable_ack()->add_feature_views("driver_hourly_stats");
    return resp;
  }
  std::vector<PushRequest> Batches() {
    absl::MutexLock lock(&mu);
    return batches;
  }
};

class FakeIngestion final : public ingestion::v1::IngestionService::Service {
 public:
  explicit FakeIngestion(std::shared_ptr<Ingestion> state) : state_(std::move(state)) {}
  grpc::Status PushStream(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<PushStreamResponse, PushStreamRequest>* stream) override {
    std::vector<PushStreamResponse> held;
    auto flush = [&] {
      for (auto it = held.rbegin(); it != held.rend(); ++it) stream->Write(*it);
      held.clear();
    };
    for (PushStreamRequest req; stream->Read(&req);) {
      held.push_back(state_->Answer(req.batch()));
      if (static_cast<int>(held.size()) >= state_->hold) flush();
    }
    flush();
    return grpc::Status::OK;
  }

 private:
  std::shared_ptr<Ingestion> state_;
};

class FakeRegistry final : public registry::v1::RegistryService::Service {
  grpc::Status GetSnapshot(grpc::ServerContext*, const registry::v1::GetSnapshotRequest* req,
                           registry::v1::GetSnapshotResponse* resp) override {
    if (req->project() != "driver_stats") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no project " + req->project());
    }
    *resp->mutable_snapshot()->mutable_repo() = Catalog();
    return grpc::Status::OK;
  }
};

struct NoConfig {};

server::ServiceDefinition<NoConfig> Fakes(std::shared_ptr<Ingestion> state) {
  return {.name = "fake_ingestion",
          .defaults = {"127.0.0.1:0", "127.0.0.1:0"},
          .read_config = [](config::Reader&) { return NoConfig{}; },
          .build =
              [state](const NoConfig&, server::ServiceHost& host) {
                host.AddGrpcService(std::make_unique<FakeIngestion>(state),
                                    ingestion::v1::IngestionService::service_full_name());
                host.AddGrpcService(std::make_unique<FakeRegistry>(),
                                    registry::v1::RegistryService::service_full_name());
                return absl::OkStatus();
              }};
}

constexpr char kRows[] =
    "driver_id,event_timestamp,created,conv_rate,avg_daily_trips\n"
    "1001,2026-11-21T10:00:00Z,now,0.5,14\n"
    "1002,2026-11-21 10:00:00,now,0.25,9\n"
    "1003,1795255200,now,,21\n"
    "1004,now-5m,now,0.75,6\n"
    "1005,now,now,0.125,17\n";

class PushCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(runtime_, server::StartInProcess(Fakes(state_), ""));
    address_ = absl::StrCat("127.0.0.1:", runtime_->grpc_port());
    ASSERT_OK_AND_ASSIGN(dir_, granary::testing::TempDir::Create("push"));
    options_ = {.project = "driver_stats",
                .push_source = "driver_stats_push",
                .file = Write("rows.csv", kRows),
                .batch_rows = 2,
                .now = absl::FromUnixSeconds(1'800'000'000)};
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_.path() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  int Run(const std::string& ingestion, const std::string& registry, bool json = false) {
    out_.str("");
    err_.str("");
    return RunPush({.address = ingestion}, {.address = registry}, options_, {out_, err_, json});
  }
  int Run(bool json = false) { return Run(address_, address_, json); }

  std::shared_ptr<Ingestion> state_ = std::make_shared<Ingestion>();
  std::unique_ptr<server::ServiceRuntime> runtime_;
  std::string address_;
  granary::testing::TempDir dir_ = std::move(granary::testing::TempDir::Create("x").value());
  PushOptions options_;
  std::ostringstream out_, err_;
};

TEST_F(PushCommandTest, SendsTypedBatchesAndARepeatIsDuplicates) {
  ASSERT_EQ(Run(), 0) << err_.str();
  EXPECT_THAT(out_.str(), MatchesRegex("pushed 5 rows in 3 batches to driver_hourly_stats "
                                       "\\(0 duplicate batches\\) in [0-9.]+ s\n"));
  EXPECT_EQ(err_.str(), "");
  std::vector<PushRequest> first = state_->Batches();
  ASSERT_EQ(first.size(), 3u);
  const PushRequest& b0 = first[0];
  EXPECT_EQ(b0.project(), "driver_stats");
  EXPECT_EQ(b0.push_source_name(), "driver_stats_push");
  EXPECT_EQ(b0.to(), ingestion::v1::ONLINE);
  EXPECT_EQ(b0.columns().at("driver_id").val(1).int64_val(), 1002);
  EXPECT_EQ(b0.columns().at("event_timestamp").val(0).unix_timestamp_val(), 1'795'255'200);
  EXPECT_EQ(b0.columns().at("event_timestamp").val(1).unix_timestamp_val(), 1'795'255'200);
  EXPECT_EQ(b0.columns().at("created").val(0).unix_timestamp_val(), 1'800'000'000);
  EXPECT_FLOAT_EQ(b0.columns().at("conv_rate").val(1).float_val(), 0.25f);
  EXPECT_EQ(b0.columns().at("avg_daily_trips").val(0).int64_val(), 14);
  EXPECT_TRUE(first[1].columns().at("conv_rate").val(0).has_null_val());
  EXPECT_EQ(first[1].columns().at("event_timestamp").val(1).unix_timestamp_val(),
            1'800'000'000 - 300);
  ASSERT_EQ(first[2].columns().at("driver_id").val_size(), 1);
  EXPECT_EQ(first[2].columns().at("driver_id").val(0).int64_val(), 1005);
  std::string prefix = b0.batch_id().substr(0, b0.batch_id().size() - 2);
  EXPECT_THAT(prefix, MatchesRegex("[0-9a-f]{32}"));
  EXPECT_EQ(first[1].batch_id(), prefix + "-1");
  EXPECT_EQ(first[2].batch_id(), prefix + "-2");

  // The same file at the same `now`: the same ids, which the service stored already.
  ASSERT_EQ(Run(), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("pushed 5 rows in 3 batches to driver_hourly_stats "
                                    "(3 duplicate batches)"));
  std::vector<PushRequest> all = state_->Batches();
  ASSERT_EQ(all.size(), 6u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(all[3 + i].batch_id(), first[i].batch_id());
}

TEST_F(PushCommandTest, BatchIdsDependOnContentTargetAndNowWhenUsed) {
  std::string content = "driver_id\n1001\n";
  std::string base = BatchIdPrefix(content, options_, false);
  EXPECT_EQ(BatchIdPrefix(content, options_, false), base);
  EXPECT_NE(BatchIdPrefix(content + "1002\n", options_, false), base);
  PushOptions later = options_;
  later.now += absl::Minutes(1);
  EXPECT_EQ(BatchIdPrefix(content, later, false), base);  // `now` unused: a repeat
  EXPECT_NE(BatchIdPrefix(content, later, true), BatchIdPrefix(content, options_, true));
  PushOptions offline = options_;
  offline.to = ingestion::v1::OFFLINE;
  EXPECT_NE(BatchIdPrefix(content, offline, false), base);
  PushOptions other = options_;
  other.push_source = "other_push";
  EXPECT_NE(BatchIdPrefix(content, other, false), base);
}

TEST_F(PushCommandTest, ManyBatchesInFlightAnsweredOutOfOrderWithAJsonSummary) {
  state_->hold = 3;  // no answer before three batches arrived: they must be in flight together
  ASSERT_EQ(Run(/*json=*/true), 0) << err_.str();
  nlohmann::json summary = nlohmann::json::parse(out_.str());
  EXPECT_EQ(summary["rows"], 5);
  EXPECT_EQ(summary["batches"], 3);
  EXPECT_EQ(summary["total_batches"], 3);
  EXPECT_EQ(summary["duplicate_batches"], 0);
  EXPECT_EQ(summary["feature_views"], nlohmann::json({"driver_hourly_stats"}));
  EXPECT_TRUE(summary["errors"].empty());
  EXPECT_EQ(state_->Batches().size(), 3u);
}

TEST_F(PushCommandTest, ABatchErrorNamesTheFileLineAndStopsSending) {
  options_.file = Write("bad.csv", "driver_id,conv_rate\n1,0.5\n2,0.5\n3,0.5\n,0.5\n5,0.5\n");
  options_.max_in_flight = 1;
  EXPECT_EQ(Run(), 1);
  EXPECT_THAT(err_.str(), HasSubstr(absl::StrCat(
                              "granary push: ", options_.file,
                              " line 5 (batch 1, row 1): columns[driver_id] row 1: a join key "
                              "cannot be null (INVALID_ARGUMENT)\n")));
  EXPECT_THAT(err_.str(), HasSubstr("granary push: 1 batch of 3 stored (2 rows)"));
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(state_->Batches().size(), 2u);  // batch 2 was never sent

  // JSON rows are named by their index in the file.
  options_.file = Write("bad.json", R"([{"driver_id": 1}, {"driver_id": 2}, {"driver_id": null}])");
  EXPECT_EQ(Run(/*json=*/true), 1);
  EXPECT_THAT(err_.str(), HasSubstr("bad.json [2] (batch 1, row 0): columns[driver_id] row 0"));
  nlohmann::json summary = nlohmann::json::parse(out_.str());
  EXPECT_EQ(summary["errors"][0]["code"], "INVALID_ARGUMENT");
  EXPECT_EQ(summary["batches"], 1);
}

TEST_F(PushCommandTest, BatchesTurnedAwayForNowAreSentAgainWithTheirIds) {
  state_->throttle = 2;
  ASSERT_EQ(Run(/*json=*/true), 0) << err_.str();
  nlohmann::json summary = nlohmann::json::parse(out_.str());
  EXPECT_EQ(summary["rows"], 5);
  EXPECT_EQ(summary["batches"], 3);
  EXPECT_TRUE(summary["errors"].empty());
  // Three batches, two of them twice, the second time under the same id.
  std::vector<PushRequest> sent = state_->Batches();
  ASSERT_EQ(sent.size(), 5u);
  std::multiset<std::string> ids;
  for (const PushRequest& b : sent) ids.insert(b.batch_id());
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 3u);
}

TEST_F(PushCommandTest, UnavailableWithoutAHintIsSentAgainAfterABackoff) {
  state_->unavailable = 2;
  ASSERT_EQ(Run(/*json=*/true), 0) << err_.str();
  nlohmann::json summary = nlohmann::json::parse(out_.str());
  EXPECT_EQ(summary["rows"], 5);
  EXPECT_TRUE(summary["errors"].empty());
  EXPECT_EQ(state_->Batches().size(), 5u);  // two of the three sent twice
}

TEST(CutBatchesTest, BatchesAreCutByRowsAndBySize) {
  PushTable table;
  table.columns = {"driver_id", "note"};
  table.values.resize(2);
  table.rows = 10;
  for (int r = 0; r < table.rows; ++r) {
    table.values[0].add_val()->set_int64_val(r);
    table.values[1].add_val()->set_string_val(std::string(r == 7 ? 5000 : 90, 'x'));
  }
  // By rows alone.
  EXPECT_THAT(CutBatches(table, 4, 1 << 20),
              ElementsAre(std::make_pair(0, 4), std::make_pair(4, 8), std::make_pair(8, 10)));
  // 98 bytes a row as they travel: 300 bytes take 3 rows; row 7, larger than the bound by
  // itself, goes alone.
  EXPECT_THAT(CutBatches(table, 100, 300),
              ElementsAre(std::make_pair(0, 3), std::make_pair(3, 6), std::make_pair(6, 7),
                          std::make_pair(7, 8), std::make_pair(8, 10)));
}

TEST_F(PushCommandTest, AnUnreachableServiceFailsWithUnavailable) {
  ASSERT_OK_AND_ASSIGN(int nobody, granary::testing::PickFreePort());
  std::string gone = absl::StrCat("127.0.0.1:", nobody);
  EXPECT_EQ(Run(gone, address_), 1);
  EXPECT_THAT(err_.str(), HasSubstr(absl::StrCat("(UNAVAILABLE, ingestion at ", gone, ")")));
  EXPECT_THAT(err_.str(), HasSubstr("0 batches of 3 stored"));
}

TEST_F(PushCommandTest, WithoutTheRegistryColumnsAreGuessedWithAWarning) {
  ASSERT_OK_AND_ASSIGN(int nobody, granary::testing::PickFreePort());
  ASSERT_EQ(Run(address_, absl::StrCat("127.0.0.1:", nobody)), 0) << err_.str();
  EXPECT_THAT(err_.str(), HasSubstr("column types are guessed from the values"));
  std::vector<PushRequest> batches = state_->Batches();
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0].columns().at("driver_id").val(0).int64_val(), 1001);
  EXPECT_EQ(batches[0].columns().at("event_timestamp").val(0).unix_timestamp_val(), 1'795'255'200);
  EXPECT_DOUBLE_EQ(batches[0].columns().at("conv_rate").val(0).double_val(), 0.5);
}

TEST_F(PushCommandTest, AnUnknownPushSourceOrBadFileFailsBeforeSending) {
  options_.push_source = "nope";
  EXPECT_EQ(Run(), 1);
  EXPECT_THAT(err_.str(), HasSubstr("project driver_stats has no push source \"nope\""));
  options_.push_source = "driver_stats_source";
  EXPECT_EQ(Run(), 1);
  EXPECT_THAT(err_.str(), HasSubstr("\"driver_stats_source\" is not a push source"));
  options_.push_source = "driver_stats_push";
  options_.file = Write("typo.csv", "driver_id,conv_rate\n1001,high\n");
  EXPECT_EQ(Run(), 1);
  EXPECT_THAT(err_.str(), HasSubstr("typo.csv: line 2, column conv_rate: expected a FLOAT"));
  EXPECT_TRUE(state_->Batches().empty());
}

TEST(PushSourceSchemaTest, TimestampsEntitiesFeaturesAndMappedColumns) {
  registry::v1::FeatureRepo repo = Catalog();
  (*repo.mutable_data_sources(0)->mutable_field_mapping())["trips"] = "avg_daily_trips";
  ASSERT_OK_AND_ASSIGN(PushSchema schema, PushSourceSchema(repo, "driver_stats_push"));
  using types::v1::ValueType;
  EXPECT_THAT(schema.feature_views, ElementsAre("driver_hourly_stats"));
  EXPECT_EQ(schema.types.at("driver_id"), ValueType::INT64);
  EXPECT_EQ(schema.types.at("event_timestamp"), ValueType::UNIX_TIMESTAMP);
  EXPECT_EQ(schema.types.at("created"), ValueType::UNIX_TIMESTAMP);
  EXPECT_EQ(schema.types.at("conv_rate"), ValueType::FLOAT);
  EXPECT_EQ(schema.types.at("trips"), ValueType::INT64);
  EXPECT_THAT(PushSourceSchema(repo, "missing"), StatusIs(absl::StatusCode::kNotFound));
}

TEST(ParsePushTargetTest, FeastsPushModes) {
  ASSERT_OK_AND_ASSIGN(auto online, ParsePushTarget("online"));
  EXPECT_EQ(online, ingestion::v1::ONLINE);
  ASSERT_OK_AND_ASSIGN(auto both, ParsePushTarget("online_and_offline"));
  EXPECT_EQ(both, ingestion::v1::ONLINE_AND_OFFLINE);
  ASSERT_OK_AND_ASSIGN(auto offline, ParsePushTarget("OFFLINE"));
  EXPECT_EQ(offline, ingestion::v1::OFFLINE);
  EXPECT_THAT(ParsePushTarget("push_target_unspecified"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--to")));
  EXPECT_THAT(ParsePushTarget("redis"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace granary::cli
