#include "libs/pg/pool.h"

#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pqxx/nontransaction.hxx"

#include "libs/pg/errors.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/status_matchers.h"

namespace granary::pg {
namespace {

using ::granary::testing::PostgresServer;
using ::granary::testing::StatusIs;
using ::testing::HasSubstr;

class PoolTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = PostgresServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(server).value().release();
    ASSERT_OK(server_->CreateDatabase("pool_test"));
  }
  static void TearDownTestSuite() { delete server_; }

  static PgOptions Options() {
    PgOptions o;
    o.host = server_->host();
    o.port = server_->port();
    o.database = "pool_test";
    o.user = server_->user();
    o.sslmode = "disable";
    return o;
  }

  static PostgresServer* server_;
};

PostgresServer* PoolTest::server_ = nullptr;

TEST_F(PoolTest, TransactCommitsOnOkAndRollsBackOnError) {
  Pool pool(Options());
  ASSERT_OK(pool.Transact([](pqxx::work& tx) {
    tx.exec("CREATE TABLE commit_test (v int)");
    tx.exec("INSERT INTO commit_test VALUES (1)");
    return absl::OkStatus();
  }));
  EXPECT_THAT(pool.Transact([](pqxx::work& tx) {
    tx.exec("INSERT INTO commit_test VALUES (2)");
    return absl::FailedPreconditionError("changed my mind");
  }),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  int64_t count = 0;
  ASSERT_OK(pool.Transact([&](pqxx::work& tx) {
    count = tx.exec1("SELECT count(*) FROM commit_test")[0].as<int64_t>();
    return absl::OkStatus();
  }));
  EXPECT_EQ(count, 1);
}

TEST_F(PoolTest, SqlErrorsMapToMeaningfulCodes) {
  Pool pool(Options());
  ASSERT_OK(pool.Transact([](pqxx::work& tx) {
    tx.exec("CREATE TABLE uniq (k text PRIMARY KEY)");
    tx.exec("INSERT INTO uniq VALUES ('a')");
    return absl::OkStatus();
  }));
  EXPECT_THAT(pool.Transact([](pqxx::work& tx) {
    tx.exec("INSERT INTO uniq VALUES ('a')");
    return absl::OkStatus();
  }),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("postgres:")));
  // A missing table or a syntax error in SQL Granary wrote is a bug: INTERNAL, with the
  // SQLSTATE attached for code that runs users' SQL.
  absl::Status missing = pool.Transact([](pqxx::work& tx) {
    tx.exec("SELECT * FROM no_such_table");
    return absl::OkStatus();
  });
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kInternal, HasSubstr("no_such_table")));
  EXPECT_EQ(SqlState(missing), "42P01");
  absl::Status syntax = pool.Transact([](pqxx::work& tx) {
    tx.exec("SELEKT 1");
    return absl::OkStatus();
  });
  EXPECT_THAT(syntax, StatusIs(absl::StatusCode::kInternal));
  EXPECT_EQ(SqlState(syntax), "42601");
  // The pool is still usable after each failure.
  EXPECT_OK(pool.Ping());
}

TEST_F(PoolTest, StatementTimeoutIsDeadlineExceeded) {
  PgOptions o = Options();
  o.statement_timeout = absl::Milliseconds(100);
  Pool pool(o);
  EXPECT_THAT(pool.Transact([](pqxx::work& tx) {
    tx.exec("SELECT pg_sleep(5)");
    return absl::OkStatus();
  }),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
}

TEST_F(PoolTest, UnknownDatabaseIsUnavailableAndNamed) {
  PgOptions o = Options();
  o.database = "does_not_exist";
  Pool pool(o);
  EXPECT_THAT(pool.Ping(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("does_not_exist")));
}

TEST_F(PoolTest, ConcurrentTransactions) {
  Pool pool(Options());
  ASSERT_OK(pool.Transact([](pqxx::work& tx) {
    tx.exec("CREATE TABLE counter (n int)");
    tx.exec("INSERT INTO counter VALUES (0)");
    return absl::OkStatus();
  }));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&pool] {
      for (int i = 0; i < 25; ++i) {
        ASSERT_OK(pool.Transact([](pqxx::work& tx) {
          tx.exec("UPDATE counter SET n = n + 1");
          return absl::OkStatus();
        }));
      }
    });
  }
  for (auto& t : threads) t.join();
  int n = 0;
  ASSERT_OK(pool.Transact([&](pqxx::work& tx) {
    n = tx.exec1("SELECT n FROM counter")[0].as<int>();
    return absl::OkStatus();
  }));
  EXPECT_EQ(n, 100);
}

// Its own server: stopping the suite's shared one would disturb the other tests.
TEST(PoolRestartTest, ReconnectsByItselfAfterPostgresRestarts) {
  ASSERT_OK_AND_ASSIGN(auto server, PostgresServer::Start());
  PgOptions o;
  o.host = server->host();
  o.port = server->port();
  o.database = "postgres";
  o.user = server->user();
  o.sslmode = "disable";
  Pool pool(o);
  ASSERT_OK(pool.Ping());
  ASSERT_OK(server->Stop());
  EXPECT_THAT(pool.Ping(), StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_OK(server->Restart());
  // The pooled connection went stale during the outage; it is noticed before use.
  EXPECT_OK(pool.Ping());
}

TEST_F(PoolTest, NeverRunsWorkTwice) {
  Pool pool(Options());
  ASSERT_OK(pool.Transact([](pqxx::work& tx) {
    tx.exec("CREATE TABLE once (n int)");
    return absl::OkStatus();
  }));
  int calls = 0;
  // The work's own connection is killed from inside the work: the pool must report the failure
  // rather than run the work again on a new connection.
  absl::Status s = pool.WithConnection([&](pqxx::connection& conn) {
    ++calls;
    pqxx::nontransaction tx(conn);
    tx.exec("INSERT INTO once VALUES (1)");
    tx.exec("SELECT pg_terminate_backend(pg_backend_pid())");
    return absl::OkStatus();
  });
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(calls, 1);
  int64_t rows = 0;
  ASSERT_OK(pool.Transact([&](pqxx::work& tx) {
    rows = tx.exec1("SELECT count(*) FROM once")[0].as<int64_t>();
    return absl::OkStatus();
  }));
  EXPECT_EQ(rows, 1);
}

TEST(OptionsTest, ConnInfoQuotesValuesAndReadsSection) {
  setenv("GRANARY_PG_TEST_PW", "it's\\secret", 1);
  ASSERT_OK_AND_ASSIGN(config::Reader root, config::Reader::FromString(R"(
postgres:
  address: db.internal:6432
  database: features
  user: reader
  password: {env: GRANARY_PG_TEST_PW}
  sslmode: require
  statement_timeout: 5s
)"));
  PgOptions o = ReadPgOptions(root.Section("postgres"));
  ASSERT_OK(root.Finish());
  std::string info = ConnInfo(o);
  EXPECT_THAT(info, HasSubstr("host='db.internal' port=6432 dbname='features' user='reader'"));
  EXPECT_THAT(info, HasSubstr("password='it\\'s\\\\secret'"));
  EXPECT_THAT(info, HasSubstr("sslmode='require'"));
  EXPECT_THAT(info, HasSubstr("statement_timeout=5000"));
}

TEST(OptionsTest, RejectsUnknownSslMode) {
  ASSERT_OK_AND_ASSIGN(config::Reader root,
                       config::Reader::FromString("postgres:\n  sslmode: maybe\n"));
  ReadPgOptions(root.Section("postgres"));
  EXPECT_THAT(root.Finish(), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("postgres.sslmode: expected one of")));
}

}  // namespace
}  // namespace granary::pg
