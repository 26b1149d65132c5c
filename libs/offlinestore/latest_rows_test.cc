// The latest rows per entity in [start, end) against a real PostgreSQL, checked against a
// brute-force reference over random rows (ties on event time broken by created time, rows
// exactly on both edges of the interval, NULL features, keys of two columns), and shards that
// split the entities without loss or overlap.
#include "libs/offlinestore/latest_rows.h"

#include <map>
#include <optional>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include <pqxx/pqxx>

#include "libs/testing/postgres_server.h"
#include "libs/testing/status_matchers.h"

namespace granary::offlinestore {
namespace {

using ::granary::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr int64_t kBase = 1'700'000'000;

struct Row {
  int64_t driver;
  std::string city;
  int64_t ts, created;
  std::optional<std::string> value;
};

using Key = std::pair<int64_t, std::string>;
// What a statement returned, by entity: (event time, created time, value).
using Latest = std::map<Key, std::tuple<int64_t, int64_t, std::optional<std::string>>>;

Latest Query(pqxx::connection& conn, const std::string& sql) {
  pqxx::work tx(conn);
  Latest out;
  for (const pqxx::row& r :
       tx.exec(absl::StrCat("SELECT k0, k1, t / 1000000, c / 1000000, f0 FROM (", sql, ") q"))) {
    std::optional<std::string> value;
    if (!r[4].is_null()) value = r[4].as<std::string>();
    Key key{r[0].as<int64_t>(), r[1].as<std::string>()};
    EXPECT_TRUE(out.count(key) == 0) << "entity twice: " << key.first << " " << key.second;
    out[key] = {r[2].as<int64_t>(), r[3].as<int64_t>(), value};
  }
  return out;
}

TEST(LatestRowsTest, EqualsABruteForceReferenceAndShardsSplitTheEntities) {
  ASSERT_OK_AND_ASSIGN(auto pg, testing::PostgresServer::Start());
  ASSERT_OK(pg->CreateDatabase("offline"));
  pqxx::connection conn(pg->ConnInfo("offline"));
  for (uint32_t seed = 1; seed <= 5; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return static_cast<int64_t>(rng() % static_cast<uint32_t>(n)); };
    std::vector<Row> rows;
    std::set<std::tuple<int64_t, std::string, int64_t, int64_t>> seen;
    for (int i = 0; i < 600; ++i) {
      Row r{pick(40), pick(2) == 0 ? "north" : "south", kBase + 10 * pick(30), kBase + pick(3),
            std::nullopt};
      if (!seen.insert({r.driver, r.city, r.ts, r.created}).second) continue;
      if (pick(5) != 0) r.value = absl::StrCat(pick(100000));
      rows.push_back(r);
    }
    {
      pqxx::work tx(conn);
      tx.exec(
          "DROP TABLE IF EXISTS stats; CREATE TABLE stats (driver_id bigint, city text, "
          "ts timestamptz, created timestamptz, trips bigint)");
      for (const Row& r : rows) {
        tx.exec(absl::StrCat("INSERT INTO stats VALUES (", r.driver, ", ", tx.quote(r.city),
                             ", to_timestamp(", r.ts, "), to_timestamp(", r.created, "), ",
                             r.value.has_value() ? *r.value : "NULL", ")"));
      }
      tx.commit();
    }
    // Both edges on rows' times: rows at start are in, rows at end are out.
    const int64_t start = kBase + 10 * pick(10);
    const int64_t end = start + 10 * (1 + pick(15));
    {
      // A row without a key (no entity's), and an entity whose row with a created time beats
      // the one without at the same event time.
      pqxx::work tx(conn);
      tx.exec(absl::StrCat("INSERT INTO stats VALUES (NULL, 'north', to_timestamp(", start,
                           "), NULL, 1), (1000, 'west', to_timestamp(", start,
                           "), NULL, 2), (1000, 'west', to_timestamp(", start, "), to_timestamp(",
                           kBase, "), 3)"));
      tx.commit();
    }
    Latest expected;
    for (const Row& r : rows) {
      if (r.ts < start || r.ts >= end) continue;
      Key key{r.driver, r.city};
      auto it = expected.find(key);
      if (it == expected.end() ||
          std::make_pair(r.ts, r.created) >
              std::make_pair(std::get<0>(it->second), std::get<1>(it->second))) {
        expected[key] = {r.ts, r.created, r.value};
      }
    }
    expected[{1000, "west"}] = {start, kBase, std::string("3")};
    ViewSource view{.name = "stats",
                    .table = "stats",
                    .join_columns = {"driver_id", "city"},
                    .timestamp_column = "ts",
                    .created_column = "created",
                    .features = {{"trips", "trips"}}};
    ASSERT_OK_AND_ASSIGN(std::string all, LatestRowsSql(view, absl::FromUnixSeconds(start),
                                                        absl::FromUnixSeconds(end), std::nullopt));
    EXPECT_EQ(Query(conn, all), expected);
    EXPECT_GT(expected.size(), 20u);  // the data exercised it
    Latest sharded;
    size_t non_empty = 0;
    for (int s = 0; s < 3; ++s) {
      ASSERT_OK_AND_ASSIGN(std::string part,
                           LatestRowsSql(view, absl::FromUnixSeconds(start),
                                         absl::FromUnixSeconds(end), Shard{s, 3}));
      Latest got = Query(conn, part);
      non_empty += got.empty() ? 0 : 1;
      for (auto& [key, value] : got) {
        EXPECT_TRUE(sharded.count(key) == 0) << "in two shards: " << key.first << key.second;
        sharded[key] = value;
      }
    }
    EXPECT_EQ(sharded, expected);
    EXPECT_EQ(non_empty, 3u);
  }
}

TEST(LatestRowsTest, ReadInBatchesAsValuesOfTheirDeclaredTypes) {
  ASSERT_OK_AND_ASSIGN(auto pg, testing::PostgresServer::Start());
  ASSERT_OK(pg->CreateDatabase("offline"));
  pqxx::connection conn(pg->ConnInfo("offline"));
  pqxx::work tx(conn);
  // 1,050 entities, two rows each: the newer one (by created time) carries i, the older -i.
  tx.exec(
      "CREATE TABLE wide (id bigint, ts timestamptz, created timestamptz, "
      "rate double precision, tags text[], seen timestamptz, note text);"
      "INSERT INTO wide SELECT g, to_timestamp(1000), to_timestamp(2000 + v), "
      "v * g + 0.5, ARRAY['t' || g, 'x,y'], to_timestamp(g), 'n' || g "
      "FROM generate_series(0, 1049) g, (VALUES (1), (-1)) AS s(v)");
  ViewSource view{.name = "wide",
                  .table = "wide",
                  .join_keys = {"id"},
                  .join_columns = {"id"},
                  .join_types = {types::v1::ValueType::INT64},
                  .timestamp_column = "ts",
                  .created_column = "created",
                  .features = {{"rate", "rate", types::v1::ValueType::DOUBLE},
                               {"tags", "tags", types::v1::ValueType::STRING_LIST},
                               {"seen", "seen", types::v1::ValueType::UNIX_TIMESTAMP}}};
  std::vector<size_t> batches;
  std::set<int64_t> ids;
  ASSERT_OK(ReadLatestRows(tx, view, absl::FromUnixSeconds(0), absl::FromUnixSeconds(5000),
                           std::nullopt, 100, [&](std::vector<LatestRow>& rows) {
                             batches.push_back(rows.size());
                             for (const LatestRow& row : rows) {
                               const int64_t id = row.keys.at(0).int64_val();
                               EXPECT_TRUE(ids.insert(id).second);
                               EXPECT_EQ(row.event_time, absl::FromUnixSeconds(1000));
                               EXPECT_EQ(row.created_time, absl::FromUnixSeconds(2001)) << id;
                               EXPECT_EQ(row.features.at(0).double_val(), id + 0.5);
                               EXPECT_EQ(row.features.at(1).string_list_val().val_size(), 2);
                               if (row.features.at(1).string_list_val().val_size() != 2) continue;
                               EXPECT_EQ(row.features.at(1).string_list_val().val(0),
                                         absl::StrCat("t", id));
                               EXPECT_EQ(row.features.at(1).string_list_val().val(1), "x,y");
                               EXPECT_EQ(row.features.at(2).unix_timestamp_val(), id);
                             }
                             return absl::OkStatus();
                           }));
  EXPECT_EQ(ids.size(), 1050u);
  EXPECT_EQ(batches.size(), 11u);  // ten of 100, then the last 50
  EXPECT_EQ(batches.back(), 50u);
  // The caller's error stops the reading.
  int calls = 0;
  EXPECT_THAT(ReadLatestRows(tx, view, absl::FromUnixSeconds(0), absl::FromUnixSeconds(5000),
                             std::nullopt, 100,
                             [&](std::vector<LatestRow>&) {
                               ++calls;
                               return absl::UnavailableError("redis away");
                             }),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(calls, 1);
  // A column whose text is not of the declared type: named, with the entity.
  ViewSource wrong = view;
  wrong.features = {{"note", "note", types::v1::ValueType::INT64}};
  EXPECT_THAT(
      ReadLatestRows(tx, wrong, absl::FromUnixSeconds(0), absl::FromUnixSeconds(5000), Shard{0, 1},
                     100, [](std::vector<LatestRow>&) { return absl::OkStatus(); }),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("feature view wide"), HasSubstr("column note"), HasSubstr("id="),
                     HasSubstr("not a INT64"))));
}

TEST(LatestRowsTest, RequestsThatCannotBeMadeAreRefused) {
  ViewSource view{.name = "stats",
                  .table = "stats",
                  .join_columns = {"driver_id"},
                  .timestamp_column = "ts",
                  .features = {{"trips", "trips"}}};
  const absl::Time t = absl::FromUnixSeconds(kBase);
  EXPECT_THAT(LatestRowsSql(view, t, t, std::nullopt),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is not after start")));
  EXPECT_THAT(LatestRowsSql(view, t, t + absl::Hours(1), Shard{3, 3}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no such shard")));
  ViewSource keyless = view;
  keyless.join_columns.clear();
  EXPECT_THAT(LatestRowsSql(keyless, t, t + absl::Hours(1), std::nullopt),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no join columns")));
}

}  // namespace
}  // namespace granary::offlinestore
