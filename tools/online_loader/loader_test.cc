// The online loader against a real registry (the shared test stack's, with real PostgreSQL and
// NATS) and a real Redis: the example's values file lands in Feast's layout with the right Values and
// event times; every declared type, nulls and left-out features are written as they should be;
// rows not newer than the stored ones are left alone; bad files fail naming the problem with
// nothing written; an unreachable registry or Redis is reported as such; and the binary prints
// one line per view and exits non-zero on errors.
#include "tools/online_loader/loader.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "granary/registry/v1/registry_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include <sys/wait.h>

#include "libs/base/proto_time.h"
#include "libs/base/status_macros.h"
#include "libs/keys/entity_key.h"
#include "libs/keys/hash_field.h"
#include "libs/onlinestore/redis_online_store.h"
#include "libs/testing/ports.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/subprocess.h"
#include "libs/testing/temp_dir.h"
#include "libs/testing/test_stack.h"

namespace granary::online_loader {
namespace {

namespace fs = std::filesystem;
using ::granary::testing::StatusIs;
using registry_client::Catalog;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using types::v1::Value;

constexpr absl::Duration kTimeout = absl::Seconds(10);
constexpr char kExampleValues[] = "examples/online_values/driver_stats.yaml";

// Every scalar type, two list types, a two-entity key, a view without entities, one that is
// not online and an on-demand view.
constexpr char kShopRepo[] = R"pb(
  project { name: "shop" }
  entities { name: "user" join_key: "user_id" value_type: STRING }
  entities { name: "store" join_key: "store_id" value_type: INT32 }
  data_sources {
    name: "events"
    postgres { table: "events" }
    timestamp_field: "event_timestamp"
  }
  feature_views {
    name: "profiles"
    entities: "user"
    entities: "store"
    schema { name: "name" dtype: STRING }
    schema { name: "score" dtype: DOUBLE }
    schema { name: "vip" dtype: BOOL }
    schema { name: "avatar" dtype: BYTES }
    schema { name: "last_seen" dtype: UNIX_TIMESTAMP }
    schema { name: "visits" dtype: INT32 }
    schema { name: "tags" dtype: STRING_LIST }
    schema { name: "amounts" dtype: INT64_LIST }
    batch_source: "events"
  }
  feature_views {
    name: "totals"
    schema { name: "orders" dtype: INT64 }
    batch_source: "events"
  }
  feature_views {
    name: "archive"
    entities: "user"
    schema { name: "old" dtype: INT64 }
    batch_source: "events"
    online: false
  }
  on_demand_feature_views {
    name: "boosted"
    sources { feature_view { feature_view: "profiles" features: "score" } }
    schema { name: "boosted_score" dtype: DOUBLE }
    transformation { mode: "expression" text: "boosted_score = score * 2" }
  }
)pb";

class LoaderTest : public ::testing::Test {
 protected:
  // One stack for the suite: the example repo (examples/driver_stats, read as the CLI reads
  // it) and the shop repo applied to a registry in this process.
  static void SetUpTestSuite() {
    registry::v1::FeatureRepo shop;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kShopRepo, &shop));
    auto stack = testing::TestStack::Start({.more_repos = {shop}});
    ASSERT_OK(stack);
    stack_ = stack->release();
    *registry_address_ = stack_->registry_address();
  }

  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
  }

  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(redis_, testing::RedisServer::Start());
    redis_options_.host = redis_->host();
    redis_options_.port = redis_->port();
    store_ = std::make_unique<onlinestore::RedisOnlineStore>(redis_options_);
    ASSERT_OK_AND_ASSIGN(work_, testing::TempDir::Create("loader"));
  }

  std::unique_ptr<const Catalog> CatalogOf(const std::string& project) {
    absl::StatusOr<std::unique_ptr<const Catalog>> catalog =
        FetchCatalog(*registry_address_, project, kTimeout);
    EXPECT_OK(catalog);
    return catalog.ok() ? *std::move(catalog) : nullptr;
  }

  // Checks and writes a values file given as text.
  absl::StatusOr<std::vector<ViewResult>> LoadText(const std::string& yaml, absl::Time now) {
    ASSIGN_OR_RETURN(ValuesFile file, ParseValuesFile(yaml, "values.yaml"));
    ASSIGN_OR_RETURN(std::unique_ptr<const Catalog> catalog,
                     FetchCatalog(*registry_address_, file.project, kTimeout));
    ASSIGN_OR_RETURN(std::vector<ViewRows> views, BuildWrites(file, *catalog, now));
    return WriteViews(*store_, views, kTimeout);
  }

  LoadOptions Options(const std::string& values_path) {
    return {.values_path = values_path,
            .registry_address = *registry_address_,
            .redis = redis_options_,
            .timeout = kTimeout};
  }

  // The stored fields of a view for one entity: feature name -> Value, plus the event time.
  struct Stored {
    std::map<std::string, std::optional<Value>> values;
    std::optional<absl::Time> event_time;
  };

  Stored Read(std::vector<std::pair<std::string, Value>> key, const std::string& project,
              const std::string& view, const std::vector<std::string>& features) {
    absl::StatusOr<std::string> redis_key = keys::RedisKey(std::move(key), project);
    EXPECT_OK(redis_key);
    std::vector<std::string> fields;
    for (const std::string& f : features) fields.push_back(keys::FeatureField(view, f));
    fields.push_back(keys::TimestampField(view));
    Stored stored;
    auto session = store_->NewSession();
    EXPECT_OK(session->MultiGet({{*redis_key, &fields}}, absl::Now() + kTimeout,
                                [&](size_t, size_t field, const char* data, size_t size) {
                                  if (data == nullptr) return;
                                  if (field == features.size()) {
                                    google::protobuf::Timestamp ts;
                                    EXPECT_TRUE(ts.ParseFromArray(data, static_cast<int>(size)));
                                    stored.event_time = base::FromProtoTime(ts);
                                    return;
                                  }
                                  Value v;
                                  EXPECT_TRUE(v.ParseFromArray(data, static_cast<int>(size)));
                                  stored.values[features[field]] = v;
                                }));
    for (const std::string& f : features) stored.values.try_emplace(f);
    return stored;
  }

  Stored Driver(int64_t id) {
    Value v;
    v.set_int64_val(id);
    return Read({{"driver_id", v}}, "driver_stats", "driver_hourly_stats",
                {"conv_rate", "acc_rate", "avg_daily_trips"});
  }

  Stored Profile(const std::string& user, int32_t store) {
    Value u, s;
    u.set_string_val(user);
    s.set_int32_val(store);
    return Read({{"user_id", u}, {"store_id", s}}, "shop", "profiles",
                {"name", "score", "vip", "avatar", "last_seen", "visits", "tags", "amounts"});
  }

  std::string WriteFile(const std::string& name, const std::string& text) {
    std::string path = work_.path() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  static testing::TestStack* stack_;
  static std::string* registry_address_;
  std::unique_ptr<testing::RedisServer> redis_;
  redis::RedisOptions redis_options_;
  std::unique_ptr<onlinestore::RedisOnlineStore> store_;
  testing::TempDir work_ = std::move(testing::TempDir::Create("unused").value());
};

testing::TestStack* LoaderTest::stack_ = nullptr;
std::string* LoaderTest::registry_address_ = new std::string();

TEST_F(LoaderTest, TheExampleLandsInFeastsLayout) {
  const absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  ASSERT_OK_AND_ASSIGN(std::vector<ViewResult> results, Load(Options(kExampleValues), now));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(Summary(results[0]), "driver_hourly_stats: 6 rows written");

  Stored d1001 = Driver(1001);
  ASSERT_TRUE(d1001.values["conv_rate"].has_value());
  EXPECT_EQ(d1001.values["conv_rate"]->val_case(), Value::kFloatVal);
  EXPECT_FLOAT_EQ(d1001.values["conv_rate"]->float_val(), 0.91f);
  ASSERT_TRUE(d1001.values["acc_rate"].has_value());
  EXPECT_FLOAT_EQ(d1001.values["acc_rate"]->float_val(), 0.87f);
  ASSERT_TRUE(d1001.values["avg_daily_trips"].has_value());
  EXPECT_EQ(d1001.values["avg_daily_trips"]->val_case(), Value::kInt64Val);
  EXPECT_EQ(d1001.values["avg_daily_trips"]->int64_val(), 21);
  EXPECT_EQ(d1001.event_time, now - absl::Minutes(5));

  EXPECT_EQ(Driver(1002).event_time, now - absl::Minutes(40));
  EXPECT_EQ(Driver(1003).event_time, now - absl::Hours(2));
  EXPECT_EQ(Driver(1004).event_time, now - absl::Minutes(450));
  // Older than the view's ttl: stored, and served as OUTSIDE_MAX_AGE.
  Stored d1005 = Driver(1005);
  EXPECT_EQ(d1005.event_time, now - absl::Hours(48));
  ASSERT_TRUE(d1005.values["avg_daily_trips"].has_value());
  EXPECT_EQ(d1005.values["avg_daily_trips"]->int64_val(), 3);
  // A stored null.
  Stored d1006 = Driver(1006);
  ASSERT_TRUE(d1006.values["acc_rate"].has_value());
  EXPECT_EQ(d1006.values["acc_rate"]->val_case(), Value::kNullVal);
  ASSERT_TRUE(d1006.values["conv_rate"].has_value());
  EXPECT_FLOAT_EQ(d1006.values["conv_rate"]->float_val(), 0.62f);
  // No other driver.
  EXPECT_FALSE(Driver(1007).event_time.has_value());
}

TEST_F(LoaderTest, RowsNotNewerThanTheStoredOnesAreLeftAlone) {
  const absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  ASSERT_OK(Load(Options(kExampleValues), now));
  ASSERT_OK_AND_ASSIGN(std::vector<ViewResult> again, Load(Options(kExampleValues), now));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].written, 0);
  EXPECT_EQ(Summary(again[0]),
            "driver_hourly_stats: 0 rows written, 6 left as stored (not newer than the stored "
            "row)");
  // Later, the same file moves every event time forward.
  ASSERT_OK_AND_ASSIGN(std::vector<ViewResult> later,
                       Load(Options(kExampleValues), now + absl::Hours(1)));
  EXPECT_EQ(later[0].written, 6);
  EXPECT_EQ(Driver(1001).event_time, now + absl::Hours(1) - absl::Minutes(5));
}

TEST_F(LoaderTest, EveryTypeNullsAndLeftOutFeatures) {
  const absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  ASSERT_OK_AND_ASSIGN(std::vector<ViewResult> first, LoadText(R"yaml(
project: shop
views:
  - name: profiles
    rows:
      - user_id: u1
        store_id: 7
        age: 1d12h
        name: Alice
        score: 4.5
        vip: true
        avatar: "\x01png"
        last_seen: 2024-05-01T12:00:00Z
        visits: 12
        tags: [new, mobile]
        amounts: [100, 250]
  - name: totals
    rows:
      - {orders: 99}
)yaml",
                                                               now));
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(Summary(first[0]), "profiles: 1 row written");
  EXPECT_EQ(Summary(first[1]), "totals: 1 row written");

  Stored p = Profile("u1", 7);
  EXPECT_EQ(p.event_time, now - absl::Hours(36));
  EXPECT_EQ(p.values["name"]->string_val(), "Alice");
  EXPECT_DOUBLE_EQ(p.values["score"]->double_val(), 4.5);
  EXPECT_EQ(p.values["vip"]->val_case(), Value::kBoolVal);
  EXPECT_TRUE(p.values["vip"]->bool_val());
  EXPECT_EQ(p.values["avatar"]->bytes_val(), "\x01png");
  EXPECT_EQ(p.values["last_seen"]->unix_timestamp_val(), 1714564800);
  EXPECT_EQ(p.values["visits"]->int32_val(), 12);
  EXPECT_THAT(p.values["tags"]->string_list_val().val(), ElementsAre("new", "mobile"));
  EXPECT_THAT(p.values["amounts"]->int64_list_val().val(), ElementsAre(100, 250));
  // The other store's row is another entity; an INT64 store_id would be another key too.
  EXPECT_FALSE(Profile("u1", 8).event_time.has_value());

  Value dummy;
  dummy.set_string_val("");
  Stored totals = Read({{keys::kDummyJoinKey, dummy}}, "shop", "totals", {"orders"});
  EXPECT_EQ(totals.values["orders"]->int64_val(), 99);
  EXPECT_EQ(totals.event_time, now);  // no age: now

  // A newer row: name left out (kept), vip null, the rest replaced.
  ASSERT_OK(LoadText(R"yaml(
project: shop
views:
  - name: profiles
    rows:
      - {user_id: u1, store_id: 7, age: 1h, score: 1.25, vip: null, avatar: b, last_seen: 5,
         visits: 13, tags: [], amounts: [1]}
)yaml",
                     now));
  p = Profile("u1", 7);
  EXPECT_EQ(p.event_time, now - absl::Hours(1));
  EXPECT_EQ(p.values["name"]->string_val(), "Alice");
  EXPECT_DOUBLE_EQ(p.values["score"]->double_val(), 1.25);
  EXPECT_EQ(p.values["vip"]->val_case(), Value::kNullVal);
  EXPECT_EQ(p.values["last_seen"]->unix_timestamp_val(), 5);
  EXPECT_EQ(p.values["tags"]->val_case(), Value::kStringListVal);
  EXPECT_EQ(p.values["tags"]->string_list_val().val_size(), 0);
  EXPECT_THAT(p.values["amounts"]->int64_list_val().val(), ElementsAre(1));
}

TEST_F(LoaderTest, BadFilesFailNamingTheProblemAndWriteNothing) {
  std::unique_ptr<const Catalog> drivers = CatalogOf("driver_stats");
  std::unique_ptr<const Catalog> shop = CatalogOf("shop");
  ASSERT_NE(drivers, nullptr);
  ASSERT_NE(shop, nullptr);
  struct Case {
    const Catalog* catalog;
    std::string views;  // the file after `views:`
    std::vector<std::string> expected;
  };
  const std::string ok_row = "{driver_id: 1, conv_rate: 0.5}";
  const std::vector<Case> cases = {
      {drivers.get(),
       "\n  - name: driver_daily_stats\n    rows: [" + ok_row + "]",
       {"values.yaml:3: views[0].name: no feature view named \"driver_daily_stats\" in project "
        "driver_stats (its views: driver_hourly_stats)"}},
      {shop.get(),
       "\n  - name: boosted\n    rows: [{user_id: u1, store_id: 1}]",
       {"boosted is an on-demand feature view"}},
      {drivers.get(),
       "\n  - name: driver_hourly_stats\n    rows:\n      - " + ok_row +
           "\n      - {driver_id: 2, trips: 3}",
       {"values.yaml:6: views[0].rows[1].trips: unknown key"}},
      {drivers.get(),
       "\n  - name: driver_hourly_stats\n    rows:\n      - " + ok_row +
           "\n      - {driver_id: 2, avg_daily_trips: fast}",
       {"values.yaml:6: views[0].rows[1].avg_daily_trips: expected an INT64 (a whole number), "
        "got \"fast\""}},
      {drivers.get(),
       "\n  - name: driver_hourly_stats\n    rows:\n      - {driver_id: 1, conv_rate: [1, 2]}",
       {"views[0].rows[0].conv_rate: expected a single value"}},
      {drivers.get(),
       "\n  - name: driver_hourly_stats\n    rows:\n      - {driver_id: abc, conv_rate: 0.5}",
       {"views[0].rows[0].driver_id: expected an INT64 (a whole number), got \"abc\""}},
      {drivers.get(),
       "\n  - name: driver_hourly_stats\n    rows:\n      - {conv_rate: 0.5}\n"
       "      - {driver_id: null}",
       {"views[0].rows[0].driver_id: required: every row needs its driver_id, the join key of "
        "entity driver (the row at line 5)",
        "views[0].rows[1].driver_id: required"}},
      {drivers.get(),
       "\n  - name: driver_hourly_stats\n    rows:\n      - " + ok_row + "\n      - " + ok_row,
       {"values.yaml:6: views[0].rows[1].driver_id: the same entity as rows[0]"}},
      {drivers.get(),
       "\n  - name: driver_hourly_stats\n    rows:\n      - {driver_id: 1, age: yesterday}",
       {"views[0].rows[0].age: expected how long ago, such as 30s, 5m, 2h, 1d or 1d12h, got "
        "\"yesterday\""}},
      {drivers.get(),
       "\n  - name: driver_hourly_stats\n    rows: [" + ok_row +
           "]\n  - name: driver_hourly_stats\n    rows: [{driver_id: 2}]",
       {"views[1].name: listed twice (also views[0])"}},
      {drivers.get(), "\n  - name: driver_hourly_stats", {"views[0].rows: required"}},
      {drivers.get(), " []", {"views: required"}},
      {shop.get(),
       "\n  - name: archive\n    rows: [{user_id: u1, old: 1}]",
       {"feature view archive is not served online"}},
      {shop.get(),
       "\n  - name: totals\n    rows: [{orders: 1}, {orders: 2}]",
       {"views[0].rows: feature view totals has no entities, hence one row; got 2"}},
      {shop.get(),
       "\n  - name: profiles\n    rows: [{user_id: u1, store_id: 3000000000, vip: yes, "
       "tags: [a, [b]]}]",
       {"store_id: expected an INT32", "vip: expected a BOOL (true or false), got \"yes\"",
        "tags: expected a list of single values"}},
  };
  for (const Case& c : cases) {
    std::string yaml = absl::StrCat("project: ", c.catalog->project(), "\nviews:", c.views, "\n");
    SCOPED_TRACE(yaml);
    ASSERT_OK_AND_ASSIGN(ValuesFile file, ParseValuesFile(yaml, "values.yaml"));
    absl::StatusOr<std::vector<ViewRows>> writes = BuildWrites(file, *c.catalog, absl::Now());
    ASSERT_THAT(writes, StatusIs(absl::StatusCode::kInvalidArgument));
    for (const std::string& e : c.expected) {
      EXPECT_THAT(writes.status().message(), HasSubstr(e));
    }
  }

  // A file for another project than the catalog's.
  ASSERT_OK_AND_ASSIGN(ValuesFile other,
                       ParseValuesFile("project: shop\nviews: []\n", "values.yaml"));
  EXPECT_THAT(BuildWrites(other, *drivers, absl::Now()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("project: the catalog given is project driver_stats")));
  // The file itself.
  EXPECT_THAT(ParseValuesFile("views: []\n", "values.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("values.yaml: project: "
                                                                     "required")));
  EXPECT_THAT(ParseValuesFile("project: [\n", "values.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("malformed YAML")));
  EXPECT_THAT(ReadValuesFile(work_.path() + "/missing.yaml"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing.yaml")));

  // Through Load: one bad row anywhere, and nothing at all is written.
  std::string bad = WriteFile("bad.yaml", R"yaml(
project: driver_stats
views:
  - name: driver_hourly_stats
    rows:
      - {driver_id: 1001, conv_rate: 0.5}
      - {driver_id: 1002, avg_daily_trips: 1.5}
)yaml");
  EXPECT_THAT(Load(Options(bad), absl::Now()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("bad.yaml:7: views[0].rows[1].avg_daily_trips: expected an "
                                 "INT64 (a whole number), got \"1.5\"")));
  EXPECT_FALSE(Driver(1001).event_time.has_value());
}

TEST_F(LoaderTest, AnUnreachableRegistryOrRedisIsNamed) {
  ASSERT_OK_AND_ASSIGN(int free_port, testing::PickFreePort());
  std::string nowhere = absl::StrCat("127.0.0.1:", free_port);
  EXPECT_THAT(FetchCatalog(nowhere, "driver_stats", absl::Seconds(2)),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr(absl::StrCat("registry at ", nowhere, ": "))));
  EXPECT_THAT(FetchCatalog(*registry_address_, "no_such_project", kTimeout),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("project no_such_project is not in the registry at")));

  ASSERT_OK(redis_->Stop());
  EXPECT_THAT(Load(Options(kExampleValues), absl::Now()),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr(absl::StrCat("writing driver_hourly_stats: redis at 127.0.0.1:",
                                              redis_->port()))));
}

struct LoaderRun {
  int code;
  std::string output;
};

LoaderRun RunLoader(std::vector<std::string> args) {
  args.insert(args.begin(), fs::absolute("tools/online_loader/online_loader").string());
  auto p = testing::Subprocess::Start({.argv = args});
  if (!p.ok()) return {-1, std::string(p.status().message())};
  absl::StatusOr<int> status = (*p)->Wait(absl::Seconds(60));
  int code = status.ok() && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  return {code, (*p)->Output()};
}

TEST_F(LoaderTest, TheBinaryPrintsALinePerViewAndExitsNonZeroOnErrors) {
  // Redis with an ACL user, as tools/dev may run it.
  ASSERT_OK_AND_ASSIGN(auto acl_redis,
                       testing::RedisServer::Start({.config_lines = {
                                                        "user loader on >s3cret ~* +@all",
                                                        "user default off",
                                                    }}));
  std::string password = WriteFile("password", "s3cret\n");
  std::vector<std::string> flags = {
      "--registry", *registry_address_,      "--redis", acl_redis->address(), "--redis_user",
      "loader",     "--redis_password_file", password};

  std::vector<std::string> ok = flags;
  ok.insert(ok.end(), {"--values", kExampleValues});
  LoaderRun run = RunLoader(ok);
  EXPECT_EQ(run.code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("driver_hourly_stats: 6 rows written"));

  std::vector<std::string> unknown_view = flags;
  unknown_view.insert(unknown_view.end(),
                      {"--values", WriteFile("unknown.yaml",
                                             "project: driver_stats\nviews:\n  - name: nope\n"
                                             "    rows: [{driver_id: 1}]\n")});
  run = RunLoader(unknown_view);
  EXPECT_EQ(run.code, 1);
  EXPECT_THAT(run.output, AllOf(HasSubstr("granary-online-loader: invalid configuration"),
                                HasSubstr("views[0].name: no feature view named \"nope\"")));

  ASSERT_OK_AND_ASSIGN(int free_port, testing::PickFreePort());
  run = RunLoader({"--registry", absl::StrCat("127.0.0.1:", free_port), "--redis",
                   acl_redis->address(), "--values", kExampleValues, "--timeout", "2s"});
  EXPECT_EQ(run.code, 1);
  EXPECT_THAT(run.output, HasSubstr(absl::StrCat("registry at 127.0.0.1:", free_port)));

  // Without the password, Redis refuses.
  run = RunLoader({"--registry", *registry_address_, "--redis", acl_redis->address(), "--values",
                   kExampleValues});
  EXPECT_EQ(run.code, 1);
  EXPECT_THAT(run.output, HasSubstr("granary-online-loader: writing driver_hourly_stats: "));

  run = RunLoader({"--registry", *registry_address_});
  EXPECT_EQ(run.code, 2);
  EXPECT_THAT(run.output, HasSubstr("--values is required"));
}

}  // namespace
}  // namespace granary::online_loader
