// A feature view's offline source as the registry describes it (field mapping, created
// column, ttl, a query), and the check that its table and columns exist, naming what is
// missing, against a real PostgreSQL.
#include "libs/offlinestore/view_source.h"

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include <pqxx/pqxx>

#include "libs/testing/postgres_server.h"
#include "libs/testing/status_matchers.h"

namespace granary::offlinestore {
namespace {

using ::granary::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

registry_client::Catalog TestCatalog() {
  registry::v1::Snapshot snapshot;
  snapshot.set_version(1);
  google::protobuf::TextFormat::ParseFromString(
      R"pb(
        project { name: "shop" }
        entities { name: "driver" join_key: "driver_id" value_type: INT64 }
        data_sources {
          name: "stats_table"
          timestamp_field: "event_ts"
          created_timestamp_column: "created"
          field_mapping { key: "id" value: "driver_id" }
          field_mapping { key: "conv" value: "conv_rate" }
          postgres { table: "analytics.stats" }
        }
        data_sources {
          name: "stats_query"
          timestamp_field: "event_ts"
          postgres {
            query: "SELECT id AS driver_id, event_ts, conv AS conv_rate FROM analytics.stats"
          }
        }
        data_sources {
          name: "stats_push"
          push { batch_source: "stats_table" }
        }
        feature_views {
          name: "driver_stats"
          entities: "driver"
          schema { name: "conv_rate" dtype: DOUBLE }
          schema { name: "trips" dtype: INT64 }
          ttl { seconds: 3600 }
          batch_source: "stats_table"
        }
        feature_views {
          name: "driver_query"
          entities: "driver"
          schema { name: "conv_rate" dtype: DOUBLE }
          batch_source: "stats_query"
        }
        feature_views {
          name: "pushed_only"
          entities: "driver"
          schema { name: "x" dtype: INT64 }
          batch_source: "stats_push"
        }
      )pb",
      snapshot.mutable_repo());
  return registry_client::Catalog(std::move(snapshot));
}

TEST(ViewSourceTest, TheRegistrysDescriptionThroughTheFieldMapping) {
  registry_client::Catalog catalog = TestCatalog();
  ASSERT_OK_AND_ASSIGN(ViewSource source, SourceOfView(catalog, "driver_stats"));
  EXPECT_EQ(source.table, "analytics.stats");
  EXPECT_EQ(source.timestamp_column, "event_ts");
  EXPECT_EQ(source.created_column, "created");
  EXPECT_THAT(source.join_keys, ElementsAre("driver_id"));
  EXPECT_THAT(source.join_columns, ElementsAre("id"));
  ASSERT_EQ(source.features.size(), 2u);
  EXPECT_EQ(source.features[0].column, "conv");
  EXPECT_EQ(source.features[0].name, "conv_rate");
  EXPECT_EQ(source.features[0].type, types::v1::ValueType::DOUBLE);
  EXPECT_EQ(source.features[1].column, "trips");
  EXPECT_THAT(source.join_types, ElementsAre(types::v1::ValueType::INT64));
  EXPECT_EQ(source.ttl, absl::Hours(1));
  EXPECT_THAT(SourceOfView(catalog, "nowhere"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("feature view nowhere")));
  EXPECT_THAT(SourceOfView(catalog, "pushed_only"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("stats_push")));
}

TEST(ViewSourceTest, MissingTablesAndColumnsAreNotFoundByName) {
  ASSERT_OK_AND_ASSIGN(auto pg, testing::PostgresServer::Start());
  ASSERT_OK(pg->CreateDatabase("offline"));
  pqxx::connection conn(pg->ConnInfo("offline"));
  registry_client::Catalog catalog = TestCatalog();
  ASSERT_OK_AND_ASSIGN(ViewSource stats, SourceOfView(catalog, "driver_stats"));
  ASSERT_OK_AND_ASSIGN(ViewSource query, SourceOfView(catalog, "driver_query"));
  pqxx::work tx(conn);
  EXPECT_THAT(CheckSource(tx, stats),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("analytics.stats")));
  tx.exec(
      "CREATE SCHEMA analytics; CREATE TABLE analytics.stats (id bigint, "
      "event_ts timestamptz, conv double precision)");
  // Both missing columns named at once.
  EXPECT_THAT(CheckSource(tx, stats),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("feature view driver_stats: columns \"created\", \"trips\" "
                                 "not in analytics.stats")));
  tx.exec("ALTER TABLE analytics.stats ADD COLUMN created timestamptz");
  EXPECT_OK(CheckSource(tx, query));
  tx.exec("ALTER TABLE analytics.stats ADD COLUMN trips bigint");
  EXPECT_OK(CheckSource(tx, stats));
  // The caller's transaction is still usable after a failed check.
  EXPECT_EQ(tx.exec("SELECT count(*) FROM analytics.stats")[0][0].as<int>(), 0);
}

}  // namespace
}  // namespace granary::offlinestore
