// Historical retrieval on the shared stack: training sets equal to the brute-force
// point-in-time answer row for row, inline and as SQL, and every request that cannot be
// answered refused saying why.
#include "google/protobuf/util/message_differencer.h"
#include "granary/serving/v1/serving.grpc.pb.h"

#include "libs/testing/grpc_probes.h"
#include "tests/integration/offline_stack_fixture.h"

namespace granary::integration {
namespace {

namespace v1 = materialization::v1;
using testing::Eventually;
using ::testing::HasSubstr;

using HistoricalTest = OfflineStackTest;

TEST_F(HistoricalTest, HistoricalFeaturesAreThePointInTimeJoinRowForRow) {
  AddRows(300, 6);
  ASSERT_OK_AND_ASSIGN(testing::TestService * m,
                       h_->stack().Spawn("materializer", {.section = "task_threads: 0"}));
  std::mt19937 rng(7);
  struct EntityRow {
    int64_t driver;
    absl::Time at;
    int64_t label;
  };
  std::vector<EntityRow> entities;
  std::vector<std::string> sql_rows;
  for (int i = 0; i < 2500; ++i) {
    EntityRow e{static_cast<int64_t>(1 + rng() % 320), t0_ - absl::Hours(1), i};
    // Some exactly on a row's event time, or exactly a day after one (the ttl's edge).
    if (i % 5 == 0 && !rows_.empty()) {
      const OfflineRow& row = rows_[rng() % rows_.size()];
      e.driver = row.driver;
      e.at = row.event + (i % 10 == 0 ? absl::Hours(24) : absl::ZeroDuration());
    } else {
      e.at += absl::Seconds(static_cast<int64_t>(rng() % (13 * 3600)));
    }
    entities.push_back(e);
    sql_rows.push_back(absl::StrCat("(", i, ", ", e.driver, ", 'epoch'::timestamptz + ",
                                    absl::ToUnixMicros(e.at), " * interval '1 microsecond', ",
                                    e.label, ")"));
  }
  v1::GetHistoricalFeaturesRequest request;
  request.set_project(h_->stack().project());
  request.set_feature_service("driver_activity");
  v1::EntityTable* table = request.mutable_entity_table();
  auto& drivers = (*table->mutable_columns())["driver_id"];
  auto& labels = (*table->mutable_columns())["label"];
  for (const EntityRow& e : entities) {
    drivers.add_val()->set_int64_val(e.driver);
    labels.add_val()->set_int64_val(e.label);
    *table->add_event_timestamps() = base::ToProtoTime(e.at);
  }
  ASSERT_OK_AND_ASSIGN(auto parts, Historical(*m, request));
  ASSERT_FALSE(parts.empty());
  ASSERT_TRUE(parts[0].has_header());
  std::vector<std::string> names;
  for (const auto& c : parts[0].header().columns()) names.push_back(c.name());
  EXPECT_THAT(names, ::testing::ElementsAre("driver_id", "event_timestamp", "label", "conv_rate",
                                            "acc_rate", "avg_daily_trips"));
  auto check = [&](const std::vector<v1::GetHistoricalFeaturesResponse>& got) {
    size_t r = 0;
    int wrong = 0;
    for (size_t p = 1; p < got.size(); ++p) {
      ASSERT_TRUE(got[p].has_batch());
      for (const v1::Row& row : got[p].batch().rows()) {
        ASSERT_LT(r, entities.size());
        const EntityRow& e = entities[r++];
        ASSERT_EQ(row.values_size(), 6);
        const std::optional<OfflineRow> want = AsOf(e.driver, e.at);
        const bool ok =
            row.values(0).int64_val() == e.driver &&
            row.values(1).unix_timestamp_val() == absl::ToUnixSeconds(e.at) &&
            row.values(2).int64_val() == e.label &&
            (want ? row.values(5).int64_val() == want->trips &&
                        std::abs(row.values(3).float_val() - want->trips / 1000.0) < 1e-6
                  : row.values(5).has_null_val() && row.values(3).has_null_val());
        if (!ok && ++wrong <= 5) {
          ADD_FAILURE() << "entity row " << r << " (driver " << e.driver << "): got "
                        << row.ShortDebugString() << ", want trips "
                        << (want ? absl::StrCat(want->trips) : std::string("null"));
        }
      }
    }
    EXPECT_EQ(r, entities.size());
    EXPECT_EQ(wrong, 0);
  };
  check(parts);
  EXPECT_GT(parts.size(), 2u);  // in batches

  // The same rows as a query over the offline database.
  ASSERT_OK(h_->stack().postgres().Execute(
      absl::StrCat("CREATE TABLE training_rows (n int, driver_id bigint, ts timestamptz, label "
                   "bigint); INSERT INTO training_rows VALUES ",
                   absl::StrJoin(sql_rows, ",")),
      "granary"));
  request.clear_entity_table();
  request.set_entity_sql("SELECT driver_id, ts, label FROM training_rows ORDER BY n");
  request.set_event_timestamp_column("ts");
  ASSERT_OK_AND_ASSIGN(parts, Historical(*m, request));
  names.clear();
  for (const auto& c : parts[0].header().columns()) names.push_back(c.name());
  EXPECT_THAT(names, ::testing::ElementsAre("driver_id", "ts", "label", "conv_rate", "acc_rate",
                                            "avg_daily_trips"));
  check(parts);

  // Full feature names.
  request.set_full_feature_names(true);
  ASSERT_OK_AND_ASSIGN(parts, Historical(*m, request));
  EXPECT_EQ(parts[0].header().columns(5).name(), "driver_hourly_stats__avg_daily_trips");
}

// The skew test: on-demand features through serving and through historical retrieval, for the
// same entities and request values (nulls included), come out identical: one engine. Computed at
// read time (transformed_conv_rate) and stored at write time (driver_rates, written by the
// materialization job): a driver without a stored row is null in the training set as it is not
// found online.
TEST_F(HistoricalTest, OnDemandFeaturesInTrainingSetsEqualWhatServingComputes) {
  AddRows(200, 12);
  ASSERT_OK_AND_ASSIGN(testing::TestService * m,
                       h_->stack().Spawn("materializer", {.section = kWorker}));
  ASSERT_OK_AND_ASSIGN(v1::Job job, Materialize(*m, t0_, t0_ + absl::Hours(10), 2));
  ASSERT_OK_AND_ASSIGN(job, Watch(*m, job.job_id()));
  ASSERT_EQ(job.state(), v1::SUCCEEDED) << job.error();

  std::mt19937 rng(3);
  const int kRows = 300;
  serving::v1::GetOnlineFeaturesRequest online;
  online.set_project(h_->stack().project());
  for (const char* f :
       {"transformed_conv_rate:conv_rate_plus_val1", "transformed_conv_rate:conv_rate_plus_val2",
        "driver_rates:completed_share", "driver_rates:busy"}) {
    online.mutable_features()->add_val(f);
  }
  v1::GetHistoricalFeaturesRequest historical;
  historical.set_project(h_->stack().project());
  for (const std::string& f : online.features().val()) historical.mutable_features()->add_val(f);
  v1::EntityTable* table = historical.mutable_entity_table();
  table->add_column_order("driver_id");
  table->add_column_order("val_to_add");
  table->add_column_order("val_to_add_2");
  // Now: the training set's point in time is the latest row, which is what was materialized.
  const absl::Time now = h_->Now();
  for (int r = 0; r < kRows; ++r) {
    types::v1::Value driver, val, val2;
    driver.set_int64_val(1 + rng() % 230);  // some drivers have no rows
    if (r % 7 == 0) {
      val.set_null_val(types::v1::NULL_);
    } else {
      val.set_int64_val(static_cast<int64_t>(rng() % 100) - 50);
    }
    val2.set_int64_val(static_cast<int64_t>(rng() % 1000));
    for (auto [name, value] :
         {std::pair<const char*, const types::v1::Value*>{"driver_id", &driver},
          {"val_to_add", &val},
          {"val_to_add_2", &val2}}) {
      *(*table->mutable_columns())[name].add_val() = *value;
      if (std::string(name) == "driver_id") {
        *(*online.mutable_entities())[name].add_val() = *value;
      } else {
        *(*online.mutable_request_context())[name].add_val() = *value;
      }
    }
    *table->add_event_timestamps() = base::ToProtoTime(now);
  }
  serving::v1::GetOnlineFeaturesResponse served;
  {
    auto stub = serving::v1::ServingService::NewStub(h_->serving_channel());
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kWait));
    ASSERT_OK(base::FromGrpcStatus(stub->GetOnlineFeatures(&context, online, &served)));
  }
  ASSERT_OK_AND_ASSIGN(auto parts, Historical(*m, historical));
  std::vector<const v1::Row*> rows;
  for (size_t p = 1; p < parts.size(); ++p) {
    for (const v1::Row& row : parts[p].batch().rows()) rows.push_back(&row);
  }
  ASSERT_EQ(rows.size(), static_cast<size_t>(kRows));
  ASSERT_EQ(served.results_size(), 5);  // driver_id and the four outputs
  int present = 0, missing = 0, not_stored = 0;
  for (int r = 0; r < kRows; ++r) {
    for (int o = 0; o < 4; ++o) {
      const serving::v1::FieldStatus status = served.results(1 + o).statuses(r);
      const types::v1::Value& online_value = served.results(1 + o).values(r);
      // The training set: driver_id, event_timestamp, val_to_add, val_to_add_2, then outputs.
      const types::v1::Value& offline_value = rows[r]->values(4 + o);
      if (status == serving::v1::PRESENT) {
        ++present;
        EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(offline_value, online_value))
            << "row " << r << " output " << o << ": " << online_value.ShortDebugString()
            << " online, " << rows[r]->ShortDebugString() << " offline";
      } else {
        ++missing;
        not_stored += status == serving::v1::NOT_FOUND;
        EXPECT_THAT(status, ::testing::AnyOf(serving::v1::INVALID, serving::v1::NULL_VALUE,
                                             serving::v1::NOT_FOUND));
        EXPECT_TRUE(offline_value.has_null_val())
            << "row " << r << " output " << o << ": " << rows[r]->ShortDebugString();
      }
    }
  }
  // Every kind is there: values, rows whose driver or request value was missing, and drivers
  // with nothing stored.
  EXPECT_GT(present, 0);
  EXPECT_GT(missing, 0);
  EXPECT_GT(not_stored, 0);
  // The training set's failed outputs (null inputs, a nil sum) are counted.
  EXPECT_GT(testing::ScrapeMetric(
                m->metrics_port(),
                "granary_materializer_on_demand_failures_total{consumer=\"historical\"}"),
            0);
}

TEST_F(HistoricalTest, HistoricalRequestsThatCannotBeAnsweredSayWhy) {
  ASSERT_OK_AND_ASSIGN(testing::TestService * m,
                       h_->stack().Spawn("materializer", {.section = "task_threads: 0"}));
  v1::GetHistoricalFeaturesRequest request;
  request.set_project(h_->stack().project());
  request.mutable_features()->add_val("driver_hourly_stats:conv_rate");
  request.mutable_features()->add_val("driver_hourly_stats:nope");
  request.set_entity_sql("SELECT 1::bigint AS driver_id, now() AS event_timestamp");
  EXPECT_THAT(
      Historical(*m, request).status(),
      testing::StatusIs(absl::StatusCode::kNotFound, HasSubstr("driver_hourly_stats:nope")));
  request.mutable_features()->set_val(1, "no_colon");
  EXPECT_THAT(Historical(*m, request).status(),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no_colon")));
  request.mutable_features()->mutable_val()->RemoveLast();
  request.set_entity_sql("SELECT 1 AS rider, now() AS event_timestamp");
  EXPECT_THAT(Historical(*m, request).status(),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("driver_id")));
  request.set_entity_sql("SELECT * FROM no_such_table");
  EXPECT_THAT(Historical(*m, request).status(),
              testing::StatusIs(absl::StatusCode::kNotFound, HasSubstr("no_such_table")));
  // A query that ends the parenthesis and goes on (out of the read-only transaction, even) is
  // refused before anything of it runs.
  request.set_entity_sql(
      "SELECT 1::bigint AS driver_id, now() AS event_timestamp) x; COMMIT; DROP TABLE "
      "driver_stats; SELECT * FROM (SELECT 1");
  EXPECT_THAT(Historical(*m, request).status(),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("entity_sql")));
  EXPECT_EQ(h_->Count("SELECT count(*) FROM driver_stats"), 0) << "the table is still there";
  // A query that would write anything is refused by the read-only transaction.
  ASSERT_OK(h_->stack().postgres().Execute("CREATE SEQUENCE side_effect", "granary"));
  request.set_entity_sql(
      "SELECT 1::bigint AS driver_id, now() AS event_timestamp, nextval('side_effect') AS n");
  EXPECT_THAT(Historical(*m, request).status(),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("read-only")));
  v1::EntityTable* table = request.mutable_entity_table();
  (*table->mutable_columns())["driver_id"].add_val()->set_string_val("not a number");
  *table->add_event_timestamps() = base::ToProtoTime(t0_);
  EXPECT_THAT(Historical(*m, request).status(),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("row 1")));
  (*table->mutable_columns())["driver_id"].mutable_val(0)->set_int64_val(1);
  *table->add_event_timestamps() = base::ToProtoTime(t0_);
  EXPECT_THAT(Historical(*m, request).status(),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1 values for 2")));
  request.set_feature_service("no_such_service");
  EXPECT_THAT(Historical(*m, request).status(),
              testing::StatusIs(absl::StatusCode::kNotFound, HasSubstr("no_such_service")));
}

}  // namespace
}  // namespace granary::integration
