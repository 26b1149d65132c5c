#include "libs/pg/migrations.h"

#include <thread>

#include "gtest/gtest.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/status_matchers.h"

namespace granary::pg {
namespace {

using ::granary::testing::PostgresServer;
using ::granary::testing::StatusIs;

class MigrationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(server_, PostgresServer::Start());
    options_.host = server_->host();
    options_.port = server_->port();
    options_.database = "postgres";
    options_.user = server_->user();
    options_.sslmode = "disable";
  }

  int64_t Count(Pool& pool, const std::string& sql) {
    int64_t n = -1;
    EXPECT_OK(pool.Transact([&](pqxx::work& tx) {
      n = tx.exec1(sql)[0].as<int64_t>();
      return absl::OkStatus();
    }));
    return n;
  }

  std::unique_ptr<PostgresServer> server_;
  PgOptions options_;
};

const std::vector<Migration> kV1 = {
    {1, "things", "CREATE TABLE app.things (id int PRIMARY KEY)"},
};
const std::vector<Migration> kV2 = {
    {1, "things", "CREATE TABLE app.things (id int PRIMARY KEY)"},
    {2, "seed", "INSERT INTO app.things VALUES (1), (2)"},
};

TEST_F(MigrationsTest, AppliesOnceAndOnlyWhatIsNew) {
  Pool pool(options_);
  ASSERT_OK(Migrate(pool, "app", kV1));
  ASSERT_OK(Migrate(pool, "app", kV1));  // idempotent
  EXPECT_EQ(Count(pool, "SELECT count(*) FROM app.schema_migrations"), 1);
  ASSERT_OK(Migrate(pool, "app", kV2));  // only version 2 runs
  ASSERT_OK(Migrate(pool, "app", kV2));
  EXPECT_EQ(Count(pool, "SELECT count(*) FROM app.things"), 2);
  EXPECT_EQ(Count(pool, "SELECT max(version) FROM app.schema_migrations"), 2);
}

TEST_F(MigrationsTest, ConcurrentMigratorsApplyEachOnce) {
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      Pool pool(options_);
      results[i] = Migrate(pool, "app", kV2);
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) EXPECT_OK(r);
  Pool pool(options_);
  EXPECT_EQ(Count(pool, "SELECT count(*) FROM app.things"), 2);
}

TEST_F(MigrationsTest, ADatabaseFromANewerReleaseIsRefused) {
  Pool pool(options_);
  ASSERT_OK(Migrate(pool, "app", kV2));
  EXPECT_THAT(Migrate(pool, "app", kV1),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       ::testing::HasSubstr("at version 2 but this release knows only 1")));
}

TEST_F(MigrationsTest, AFailingMigrationLeavesNothingHalfDone) {
  Pool pool(options_);
  std::vector<Migration> broken = {
      {1, "things", "CREATE TABLE app.things (id int PRIMARY KEY)"},
      {2, "broken", "INSERT INTO app.no_such_table VALUES (1)"},
  };
  EXPECT_THAT(Migrate(pool, "app", broken), StatusIs(absl::StatusCode::kInternal));
  EXPECT_EQ(Count(pool, "SELECT count(*) FROM pg_tables WHERE schemaname = 'app'"), 0);
}

}  // namespace
}  // namespace granary::pg
