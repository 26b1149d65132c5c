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
  for (const pqxx::row& r : tx.exec(absl::StrCat("SELECT k0, k1, extract(epoch FROM t)::bigint, "
                                                 "extract(epoch FROM c)::bigint, f0 FROM (",
                                                 sql, ") q"))) {
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
