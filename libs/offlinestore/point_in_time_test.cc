// The point-in-time join against a real PostgreSQL, checked row for row against a brute-force
// reference computed here: random feature rows for three views (ties on event time broken by
// created time, a view without created times, rows exactly on ttl edges, NULL features, a
// source given as a query, a column whose name needs quoting), random entity rows (some for
// entities no view has), several seeds. Then requests that cannot be made are refused.
#include "libs/offlinestore/point_in_time.h"

#include <algorithm>
#include <optional>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include <pqxx/pqxx>

#include "libs/offlinestore/sql_names.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/status_matchers.h"

namespace granary::offlinestore {
namespace {

using ::granary::testing::StatusIs;
using ::testing::HasSubstr;

constexpr int64_t kBase = 1'700'000'000;
constexpr char kOdd[] = "odd \"name\" y";  // a real column, named to need quoting

struct FeatureRow {
  int64_t driver;
  int64_t ts;                      // seconds
  std::optional<int64_t> created;  // seconds; views without created times have none
  std::optional<std::string> value;
  std::optional<std::string> value2;  // view a only: the oddly named column
};

struct View {
  std::string table;
  int64_t ttl = 0;
  bool created = true;
  std::vector<FeatureRow> rows;
};

struct EntityRow {
  int64_t line, driver, ts;
  std::string label;
};

// The reference: the newest row (event time, then created time; none is oldest) with the
// same driver, ts <= entity ts and, with a ttl, ts >= entity ts - ttl.
const FeatureRow* Newest(const View& view, const EntityRow& e) {
  const FeatureRow* best = nullptr;
  for (const FeatureRow& r : view.rows) {
    if (r.driver != e.driver || r.ts > e.ts) continue;
    if (view.ttl > 0 && r.ts < e.ts - view.ttl) continue;
    auto key = [](const FeatureRow& x) {
      return std::make_pair(x.ts, x.created.has_value() ? *x.created : INT64_MIN);
    };
    if (best == nullptr || key(r) > key(*best)) best = &r;
  }
  return best;
}

std::string Time(int64_t seconds) { return absl::StrCat("to_timestamp(", seconds, ")"); }
std::string Text(const std::optional<std::string>& v, pqxx::work& tx) {
  return v.has_value() ? tx.quote(*v) : "NULL";
}

class PointInTimeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<testing::PostgresServer>> pg = testing::PostgresServer::Start();
    ASSERT_OK(pg);
    pg_ = pg->release();
    ASSERT_OK(pg_->CreateDatabase("offline"));
  }
  static void TearDownTestSuite() { delete pg_; }

  static testing::PostgresServer* pg_;
};

testing::PostgresServer* PointInTimeTest::pg_ = nullptr;

TEST_F(PointInTimeTest, EqualsABruteForceReferenceRowForRow) {
  for (uint32_t seed = 1; seed <= 5; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return static_cast<int64_t>(rng() % static_cast<uint32_t>(n)); };
    View a{.table = "stats_a", .ttl = 0, .created = true};
    View b{.table = "stats_b", .ttl = 30, .created = true};
    View c{.table = "stats_c", .ttl = 100, .created = false};
    for (View* view : {&a, &b, &c}) {
      std::set<std::pair<int64_t, std::pair<int64_t, int64_t>>> seen;  // no exact duplicates
      for (int i = 0; i < 120; ++i) {
        FeatureRow r;
        r.driver = pick(8);
        r.ts = kBase + 10 * pick(20);  // many equal event times
        if (view->created) r.created = kBase + 10 * 20 + pick(3);
        const int64_t created = r.created.value_or(0);
        if (!seen.insert({r.driver, {r.ts, created}}).second) continue;
        if (pick(5) != 0) r.value = absl::StrCat(pick(1000));                 // else NULL
        if (pick(4) != 0) r.value2 = absl::StrCat("t", pick(1000), "'\"\\");  // awkward text
        if (view == &b && r.value.has_value()) r.value = absl::StrCat(*r.value, ".5");
        view->rows.push_back(r);
      }
    }
    std::vector<EntityRow> entities;
    for (int i = 0; i < 200; ++i) {
      // Drivers 8 and 9 are in no view; times on multiples of 5 s hit the ttl edges exactly.
      entities.push_back({i, pick(10), kBase - 20 + 5 * pick(50), absl::StrCat("label", i)});
    }
    std::shuffle(entities.begin(), entities.end(), rng);
    for (size_t i = 0; i < entities.size(); ++i) entities[i].line = static_cast<int64_t>(i) * 3;
    std::shuffle(entities.begin(), entities.end(), rng);  // stored in another order than lines

    pqxx::connection conn(pg_->ConnInfo("offline"));
    {
      pqxx::work tx(conn);
      tx.exec(absl::StrCat(
          "DROP TABLE IF EXISTS stats_a, stats_b, stats_c, entities;"
          "CREATE TABLE stats_a (driver_id bigint, ts timestamptz, created timestamptz, "
          "x bigint, ",
          *QuoteIdentifier(kOdd),
          " text);"
          "CREATE TABLE stats_b (driver bigint, event_time timestamptz, created_at timestamptz, "
          "z double precision);"
          "CREATE TABLE stats_c (driver_id bigint, ts timestamptz, w bigint);"
          "CREATE TABLE entities (line bigint, driver_id bigint, ts timestamptz, label text)"));
      for (const FeatureRow& r : a.rows) {
        tx.exec(absl::StrCat("INSERT INTO stats_a VALUES (", r.driver, ", ", Time(r.ts), ", ",
                             Time(*r.created), ", ", Text(r.value, tx), ", ", Text(r.value2, tx),
                             ")"));
      }
      for (const FeatureRow& r : b.rows) {
        tx.exec(absl::StrCat("INSERT INTO stats_b VALUES (", r.driver, ", ", Time(r.ts), ", ",
                             Time(*r.created), ", ", Text(r.value, tx), ")"));
      }
      for (const FeatureRow& r : c.rows) {
        tx.exec(absl::StrCat("INSERT INTO stats_c VALUES (", r.driver, ", ", Time(r.ts), ", ",
                             Text(r.value, tx), ")"));
      }
      for (const EntityRow& e : entities) {
        tx.exec(absl::StrCat("INSERT INTO entities VALUES (", e.line, ", ", e.driver, ", ",
                             Time(e.ts), ", ", tx.quote(e.label), ")"));
      }
      tx.commit();
    }

    EntityRows rows{.table = "public.entities",
                    .join_keys = {"driver_id"},
                    .timestamp_column = "ts",
                    .extra_columns = {"label", "line"},
                    .order_column = "line"};
    std::vector<ViewSource> views = {
        {.name = "stats_a",
         .table = "stats_a",
         .join_keys = {"driver_id"},
         .join_columns = {"driver_id"},
         .timestamp_column = "ts",
         .created_column = "created",
         .features = {{"x", "x"}, {kOdd, "y"}}},
        {.name = "stats_b",  // a source given as a query
         .query = "SELECT driver, event_time, created_at, z FROM stats_b -- ends with a comment",
         .join_keys = {"driver_id"},
         .join_columns = {"driver"},
         .timestamp_column = "event_time",
         .created_column = "created_at",
         .features = {{"z", "z"}},
         .ttl = absl::Seconds(b.ttl)},
        {.name = "stats_c",
         .table = "stats_c",
         .join_keys = {"driver_id"},
         .join_columns = {"driver_id"},
         .timestamp_column = "ts",
         .features = {{"w", "w"}},
         .ttl = absl::Seconds(c.ttl)},
    };
    ASSERT_OK_AND_ASSIGN(std::string sql, PointInTimeSql(rows, views, /*full_feature_names=*/true));
    pqxx::work tx(conn);
    pqxx::result got = tx.exec(sql);
    ASSERT_EQ(got.size(), entities.size());
    ASSERT_EQ(got.columns(), 8);
    EXPECT_STREQ(got.column_name(4), "stats_a__x");
    EXPECT_STREQ(got.column_name(5), "stats_a__y");
    EXPECT_STREQ(got.column_name(6), "stats_b__z");
    EXPECT_STREQ(got.column_name(7), "stats_c__w");
    std::vector<EntityRow> in_order = entities;
    std::sort(in_order.begin(), in_order.end(),
              [](const EntityRow& l, const EntityRow& r) { return l.line < r.line; });
    auto cell = [](const pqxx::field& f) -> std::optional<std::string> {
      if (f.is_null()) return std::nullopt;
      return std::string(f.c_str());
    };
    int matched = 0, ttl_edges = 0;
    for (size_t i = 0; i < in_order.size(); ++i) {
      const EntityRow& e = in_order[i];
      const pqxx::row row = got[static_cast<pqxx::row::size_type>(i)];
      SCOPED_TRACE(absl::StrCat("entity line ", e.line, " driver ", e.driver, " ts ", e.ts));
      ASSERT_EQ(row[0].as<int64_t>(), e.driver);
      ASSERT_EQ(row[2].as<std::string>(), e.label);
      ASSERT_EQ(row[3].as<int64_t>(), e.line);
      const FeatureRow* ra = Newest(a, e);
      const FeatureRow* rb = Newest(b, e);
      const FeatureRow* rc = Newest(c, e);
      EXPECT_EQ(cell(row[4]), ra ? ra->value : std::nullopt);
      EXPECT_EQ(cell(row[5]), ra ? ra->value2 : std::nullopt);
      EXPECT_EQ(cell(row[6]), rb ? rb->value : std::nullopt);
      EXPECT_EQ(cell(row[7]), rc ? rc->value : std::nullopt);
      matched += (ra != nullptr) + (rb != nullptr) + (rc != nullptr);
      if (rb != nullptr && rb->ts == e.ts - b.ttl) ++ttl_edges;
    }
    // The data exercised what it is meant to: matches, and rows exactly on a ttl edge.
    EXPECT_GT(matched, 100);
    EXPECT_GT(ttl_edges, 0);
  }
}

TEST_F(PointInTimeTest, RequestsThatCannotBeMadeAreRefused) {
  EntityRows rows{.table = "entities", .join_keys = {"driver_id"}, .timestamp_column = "ts"};
  ViewSource a{.name = "a",
               .table = "stats_a",
               .join_keys = {"driver_id"},
               .join_columns = {"driver_id"},
               .timestamp_column = "ts",
               .features = {{"x", "x"}}};
  ViewSource b = a;
  b.name = "b";
  EXPECT_THAT(PointInTimeSql(rows, {}, false),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("features")));
  EXPECT_THAT(PointInTimeSql(rows, {a, b}, false),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("full feature names")));
  EXPECT_OK(PointInTimeSql(rows, {a, b}, true).status());
  ViewSource other_entity = a;
  other_entity.join_keys = {"customer_id"};
  other_entity.join_columns = {"customer"};
  EXPECT_THAT(PointInTimeSql(rows, {other_entity}, false),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no column \"customer_id\"")));
  ViewSource dotted = a;
  dotted.table = "a.b.c";
  EXPECT_THAT(PointInTimeSql(rows, {dotted}, false),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("schema.table")));
  EXPECT_THAT(QuoteIdentifier(std::string("a\0b", 3)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(*QuoteIdentifier("x\"; DROP TABLE t; --"), "\"x\"\"; DROP TABLE t; --\"");
  EXPECT_THAT(QuoteIdentifier(std::string(64, 'n')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("63 bytes")));
  EXPECT_EQ(*FromClause("", "SELECT 1; \n", "s", "x"), "(SELECT 1\n) s");
}

}  // namespace
}  // namespace granary::offlinestore
