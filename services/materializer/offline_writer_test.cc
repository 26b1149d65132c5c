// The offline writer against a real PostgreSQL: COPY's escaping of text, times before 1970 and
// far ahead stored exactly, each batch stored once, rows the table refuses for good split from
// the rest (which are stored), and a missing table or a deleted view told apart.
#include "services/materializer/offline_writer.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "prometheus/registry.h"

#include "libs/testing/postgres_server.h"
#include "libs/testing/status_matchers.h"
#include "services/materializer/writer_test_catalog.h"

namespace granary::materializer {
namespace {

using ::granary::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::Time At(int64_t seconds) { return absl::FromUnixSeconds(seconds); }

class OfflineWriterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto pg = testing::PostgresServer::Start();
    ASSERT_OK(pg);
    pg_ = pg->release();
    ASSERT_OK(pg_->CreateDatabase("granary"));
  }
  static void TearDownTestSuite() { delete pg_; }

  void SetUp() override {
    ASSERT_OK(pg_->Execute(
        "DROP TABLE IF EXISTS stats; DROP SCHEMA IF EXISTS granary_ingest CASCADE; "
        "CREATE TABLE stats (driver_id bigint, ts timestamptz, created timestamptz, "
        "note text CHECK (note IS NULL OR note <> 'refuse'), seen timestamptz, trips bigint)",
        "granary"));
    pg::PgOptions options;
    options.host = "127.0.0.1";
    options.port = pg_->port();
    options.user = "postgres";
    options.database = "granary";
    options.sslmode = "disable";
    catalog_ = WriterTestCatalog();
    writer_ = std::make_unique<OfflineWriter>(
        std::make_shared<pg::Pool>(options),
        [this](const std::string&) {
          if (catalog_ == nullptr) {
            return absl::StatusOr<std::shared_ptr<const registry_client::Catalog>>(
                absl::NotFoundError("no project"));
          }
          return absl::StatusOr<std::shared_ptr<const registry_client::Catalog>>(catalog_);
        },
        std::make_shared<WriterMetrics>(registry_));
    ASSERT_OK(writer_->Migrate());
  }
  std::vector<std::vector<std::string>> Rows(const std::string& sql) {
    pqxx::connection conn(pg_->ConnInfo("granary"));
    pqxx::nontransaction tx(conn);
    std::vector<std::vector<std::string>> out;
    for (const auto& row : tx.exec(sql)) {
      std::vector<std::string>& cells = out.emplace_back();
      for (const auto& field : row) cells.push_back(field.is_null() ? "NULL" : field.c_str());
    }
    return out;
  }

  static testing::PostgresServer* pg_;
  prometheus::Registry registry_;
  std::shared_ptr<const registry_client::Catalog> catalog_;
  std::unique_ptr<OfflineWriter> writer_;
};

testing::PostgresServer* OfflineWriterTest::pg_ = nullptr;

TEST_F(OfflineWriterTest, TextSurvivesCopyExactly) {
  const std::string tricky = "tab\there\nnew line\rcr \\backslash \\N \"quoted\" 'single' é ✓";
  ASSERT_OK(
      writer_->Write(TestBatch("b1", {{1, At(1), At(2), tricky}, {2, At(1), At(2), ""}})).status());
  EXPECT_THAT(Rows("SELECT note FROM stats ORDER BY driver_id"),
              ElementsAre(ElementsAre(tricky), ElementsAre("")));
}

TEST_F(OfflineWriterTest, TimesBefore1970AndFarAheadAreStoredExactly) {
  const absl::Time year1 =
      absl::FromCivil(absl::CivilSecond(1, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  const absl::Time year9999 =
      absl::FromCivil(absl::CivilSecond(9999, 12, 31, 23, 59, 59), absl::UTCTimeZone());
  ASSERT_OK(writer_
                ->Write(TestBatch("b1", {{1, year1, year1, "a", -62135596800},
                                         {2, At(-1) - absl::Milliseconds(500), At(0), "b", -1},
                                         {3, year9999, year9999, "c", 253402300799}}))
                .status());
  EXPECT_THAT(Rows("SELECT extract(epoch FROM ts)::numeric, extract(epoch FROM created)::bigint, "
                   "extract(epoch FROM seen)::bigint FROM stats ORDER BY driver_id"),
              ElementsAre(ElementsAre("-62135596800.000000", "-62135596800", "-62135596800"),
                          ElementsAre("-1.500000", "0", "-1"),
                          ElementsAre("253402300799.000000", "253402300799", "253402300799")));
}

TEST_F(OfflineWriterTest, EachBatchIsStoredOnce) {
  events::v1::PushBatch batch = TestBatch("once", {{1, At(1), At(1), "a"}, {2, At(1), At(1), "b"}});
  ASSERT_OK(writer_->Write(batch).status());
  ASSERT_OK(writer_->Write(batch).status());
  EXPECT_THAT(Rows("SELECT count(*) FROM stats"), ElementsAre(ElementsAre("2")));
  EXPECT_THAT(Rows("SELECT message_id, rows FROM granary_ingest.offline_batches"),
              ElementsAre(ElementsAre("shop/once/driver_stats", "2")));
}

TEST_F(OfflineWriterTest, TheWholeOfAPushFeedingSeveralViewsIsOneRowPerPushedRow) {
  events::v1::PushBatch whole = TestBatch("w", {{1, At(10), At(11), "a", 5}});
  whole.set_online(false);
  whole.set_whole_push(true);
  whole.add_views("driver_stats");
  whole.add_views("driver_trips");
  whole.add_features("trips");
  whole.mutable_rows(0)->add_features()->set_int64_val(42);
  ASSERT_OK(writer_->Write(whole).status());
  ASSERT_OK(writer_->Write(whole).status());  // redelivered: stored once
  EXPECT_THAT(Rows("SELECT driver_id, extract(epoch FROM ts)::bigint, note, "
                   "extract(epoch FROM seen)::bigint, trips FROM stats"),
              ElementsAre(ElementsAre("1", "10", "a", "5", "42")));
  EXPECT_THAT(Rows("SELECT message_id FROM granary_ingest.offline_batches"),
              ElementsAre(ElementsAre("shop/w/*/offline")));
  // Stored before under the id earlier versions gave the whole of a push (named after its
  // first view): not stored again.
  whole.set_batch_id("legacy");
  ASSERT_OK(
      pg_->Execute("INSERT INTO granary_ingest.offline_batches (message_id, target, rows) "
                   "VALUES ('shop/legacy/driver_stats/offline', 'stats', 1)",
                   "granary"));
  ASSERT_OK(writer_->Write(whole).status());
  EXPECT_THAT(Rows("SELECT count(*) FROM stats"), ElementsAre(ElementsAre("1")));
  // A feature of none of the views it names any more (removed since the batch was accepted):
  // the rest is written, that column left out (the table has no such column: writing it would
  // fail).
  whole.set_batch_id("w2");
  whole.set_features(2, "nowhere");
  whole.mutable_rows(0)->mutable_join_values(0)->set_int64_val(2);
  ASSERT_OK(writer_->Write(whole).status());
  EXPECT_THAT(Rows("SELECT driver_id, note, trips FROM stats ORDER BY driver_id"),
              ElementsAre(ElementsAre("1", "a", "42"), ElementsAre("2", "a", "NULL")));
}

TEST_F(OfflineWriterTest, RowsTheTableRefusesAreSplitFromTheRestWhichIsStored) {
  ASSERT_OK_AND_ASSIGN(SinkResult result,
                       writer_->Write(TestBatch("b1", {{1, At(1), At(1), "fine"},
                                                       {2, At(1), At(1), "refuse"},
                                                       {3, At(1), At(1), "also fine"},
                                                       {4, At(1), At(1), "refuse"}})));
  EXPECT_THAT(result.rejected_rows, ElementsAre(1, 3));
  EXPECT_THAT(result.reason, HasSubstr("check constraint"));
  EXPECT_THAT(Rows("SELECT driver_id FROM stats ORDER BY driver_id"),
              ElementsAre(ElementsAre("1"), ElementsAre("3")));
  // Recorded as written with its refused rows: a redelivery (its dead letter failed, say)
  // adds nothing to the table and answers the same refused rows, which are not lost.
  ASSERT_OK_AND_ASSIGN(SinkResult again,
                       writer_->Write(TestBatch("b1", {{1, At(1), At(1), "fine"},
                                                       {2, At(1), At(1), "refuse"},
                                                       {3, At(1), At(1), "also fine"},
                                                       {4, At(1), At(1), "refuse"}})));
  EXPECT_THAT(again.rejected_rows, ElementsAre(1, 3));
  EXPECT_THAT(again.reason, HasSubstr("check constraint"));
  EXPECT_THAT(Rows("SELECT count(*) FROM stats"), ElementsAre(ElementsAre("2")));
}

TEST_F(OfflineWriterTest, AMissingTablePassesADeletedViewDoesNot) {
  absl::StatusOr<SinkResult> missing =
      writer_->Write(TestBatch("b1", {{1, At(1), At(1), "a"}}, "ghost_push"));
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("missing")));
  EXPECT_FALSE(IsPermanent(missing.status()));
  catalog_ = nullptr;  // the project was deleted
  EXPECT_THAT(writer_->Write(TestBatch("b2", {{1, At(1), At(1), "a"}})),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no longer")));
}

}  // namespace
}  // namespace granary::materializer
