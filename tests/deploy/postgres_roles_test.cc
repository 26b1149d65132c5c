// deploy/postgres (init-roles.sh running roles.sql) on a real PostgreSQL, then each role
// through the code that uses it: the registry's migrations as granary_registry; the
// materializer's job store, its ledger and a pushed batch's COPY as granary_offline_writer;
// reads and a retrieval's temporary entity table as granary_offline_reader. Every write the
// reader might attempt is refused with insufficient_privilege, and so is everything outside
// each role's job (the writer rewriting or dropping history, the registry reading offline data,
// a role of no job connecting at all).
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "prometheus/registry.h"

#include "libs/pg/pool.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/subprocess.h"
#include "libs/testing/temp_dir.h"
#include "services/materializer/job_store.h"
#include "services/materializer/offline_writer.h"
#include "services/materializer/writer_metrics.h"
#include "services/materializer/writer_test_catalog.h"
#include "services/registry/pg_store.h"

namespace granary::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kInitRoles[] = "deploy/postgres/init-roles.sh";
// Offline tables: one made before the roles script (granted by GRANT ... ON ALL TABLES), one
// after it (granted by the default privileges), both by the superuser that ran it.
constexpr char kBefore[] =
    "CREATE TABLE stats (driver_id bigint, ts timestamptz, created timestamptz, note text, "
    "seen timestamptz, trips bigint); "
    "INSERT INTO stats VALUES (1, now(), now(), 'history', now(), 3); "
    "CREATE TABLE serials (id bigserial, x int)";
constexpr char kAfter[] = "CREATE TABLE later (id bigint); INSERT INTO later VALUES (7)";

class PostgresRolesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto pg = PostgresServer::Start();
    ASSERT_OK(pg);
    pg_ = pg->release();
    ASSERT_OK(pg_->CreateDatabase("granary"));
    ASSERT_OK(pg_->Execute(kBefore, "granary"));
    auto dir = TempDir::Create("pg-secrets");
    ASSERT_OK(dir);
    secrets_ = new TempDir(*std::move(dir));
    // A quote and a backslash: the script must pass any password through intact.
    for (const char* name : {"pg-registry", "pg-offline-reader", "pg-offline-writer"}) {
      std::ofstream(secrets_->path() + "/" + name) << "pa'ss\\word-" << name << "\n";
    }
    // Twice: a second run (a restarted container, a re-run by hand) must succeed too.
    for (int run = 0; run < 2; ++run) {
      auto [code, output] = InitRoles();
      ASSERT_EQ(code, 0) << output;
      ASSERT_THAT(output, HasSubstr("roles of granary are up to date"));
    }
    ASSERT_OK(pg_->Execute(kAfter, "granary"));
  }
  static void TearDownTestSuite() {
    delete pg_;
    delete secrets_;
  }

  static std::pair<int, std::string> InitRoles(const std::string& admin = "postgres",
                                               const std::string& database = "granary") {
    auto process = Subprocess::Start(
        {.argv = {"sh", kInitRoles},
         .env = {"PGHOST=127.0.0.1", absl::StrCat("PGPORT=", pg_->port()),
                 absl::StrCat("PGUSER=", admin), absl::StrCat("GRANARY_DATABASE=", database),
                 absl::StrCat("GRANARY_SECRETS_DIR=", secrets_->path())}});
    if (!process.ok()) return {-1, process.status().ToString()};
    absl::StatusOr<int> code = (*process)->Wait(absl::Seconds(60));
    return {code.ok() ? *code : -1, (*process)->Output()};
  }

  static pg::PgOptions As(const std::string& role) {
    pg::PgOptions options;
    options.host = "127.0.0.1";
    options.port = pg_->port();
    options.user = role;
    options.database = "granary";
    options.sslmode = "disable";
    return options;
  }

  // Runs one statement as a role, in its own transaction: OK; PERMISSION_DENIED for the
  // server's insufficient_privilege (SQLSTATE 42501) and FAILED_PRECONDITION for any other SQL
  // error; UNAVAILABLE when the connection fails.
  static absl::Status Run(const std::string& role, const std::string& sql) {
    try {
      pqxx::connection conn(pg::ConnInfo(As(role)));
      pqxx::work tx(conn);
      tx.exec(sql);
      tx.commit();
      return absl::OkStatus();
    } catch (const pqxx::insufficient_privilege& e) {
      return absl::PermissionDeniedError(e.what());
    } catch (const pqxx::sql_error& e) {
      return absl::FailedPreconditionError(e.what());
    } catch (const std::exception& e) {
      return absl::UnavailableError(e.what());
    }
  }

  // Refused for want of a privilege, not for any other reason.
  static void ExpectRefused(const std::string& role, const std::string& sql) {
    EXPECT_THAT(Run(role, sql), StatusIs(absl::StatusCode::kPermissionDenied))
        << role << ": " << sql;
  }

  static PostgresServer* pg_;
  static TempDir* secrets_;
};

PostgresServer* PostgresRolesTest::pg_ = nullptr;
TempDir* PostgresRolesTest::secrets_ = nullptr;

TEST_F(PostgresRolesTest, EachRoleLogsInWithAPasswordAndNoAdminAttributes) {
  // The test server trusts loopback, so a login does not prove the password; what is checked
  // is that each role got one (a SCRAM verifier, from its file: the script ran with passwords
  // holding a quote and a backslash) and no attribute beyond LOGIN.
  pqxx::connection conn(pg_->ConnInfo("granary"));
  pqxx::nontransaction tx(conn);
  for (const std::string role :
       {"granary_registry", "granary_offline_reader", "granary_offline_writer"}) {
    pqxx::row row = tx.exec_params1(
        "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolpassword LIKE "
        "'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = $1",
        role);
    EXPECT_TRUE(row[0].as<bool>()) << role;
    EXPECT_FALSE(row[1].as<bool>()) << role;
    EXPECT_FALSE(row[2].as<bool>()) << role;
    EXPECT_FALSE(row[3].as<bool>()) << role;
    EXPECT_TRUE(row[4].as<bool>()) << role;
  }
}

TEST_F(PostgresRolesTest, AMissingSecretFailsTheScriptAndNamesTheFile) {
  const std::string file = secrets_->path() + "/pg-offline-writer";
  std::string kept;
  std::getline(std::ifstream(file), kept);
  std::ofstream(file, std::ios::trunc).flush();
  auto [code, output] = InitRoles();
  std::ofstream(file) << kept << "\n";
  EXPECT_NE(code, 0);
  EXPECT_THAT(output, HasSubstr("pg-offline-writer is missing or empty"));
}

TEST_F(PostgresRolesTest, TheRegistryMigratesItsSchemaAndCannotReadOfflineData) {
  registry::PgStore store(std::make_shared<pg::Pool>(As("granary_registry")));
  ASSERT_OK(store.Migrate());
  EXPECT_OK(Run("granary_registry",
                "INSERT INTO registry.projects (name, version, spec) VALUES ('p', 1, '') "
                "ON CONFLICT DO NOTHING"));
  ExpectRefused("granary_registry", "SELECT * FROM stats");
  ExpectRefused("granary_registry", "INSERT INTO stats (driver_id) VALUES (1)");
  // No role may create schemas: one that could would shadow public in another role's search
  // path (a schema named after that role comes first).
  ExpectRefused("granary_registry", "CREATE SCHEMA granary_offline_reader");
  ExpectRefused("granary_offline_writer", "CREATE SCHEMA granary_offline_reader");
  for (const std::string role :
       {"granary_registry", "granary_offline_reader", "granary_offline_writer"}) {
    pqxx::connection conn(pg::ConnInfo(As(role)));
    pqxx::nontransaction tx(conn);
    EXPECT_EQ(tx.exec1("SHOW search_path")[0].as<std::string>(), "public") << role;
  }
}

TEST_F(PostgresRolesTest, TheWriterAppendsPushedRowsAndKeepsJobsButCannotRewriteHistory) {
  auto pool = std::make_shared<pg::Pool>(As("granary_offline_writer"));
  materializer::JobStore jobs(pool);
  ASSERT_OK(jobs.Migrate());
  materializer::JobPlan plan;
  plan.project = "shop";
  plan.created_by = "alice";
  plan.registry_version = 1;
  plan.ranges.push_back({"driver_stats", absl::FromUnixSeconds(100), absl::FromUnixSeconds(200)});
  plan.tasks.push_back(
      {"driver_stats", absl::FromUnixSeconds(100), absl::FromUnixSeconds(200), 0, 1});
  ASSERT_OK(jobs.Create(plan, /*force=*/false).status());

  prometheus::Registry metrics;
  std::shared_ptr<const registry_client::Catalog> catalog = materializer::WriterTestCatalog();
  materializer::OfflineWriter writer(
      pool,
      [catalog](const std::string&) {
        return absl::StatusOr<std::shared_ptr<const registry_client::Catalog>>(catalog);
      },
      std::make_shared<materializer::WriterMetrics>(metrics));
  ASSERT_OK(writer.Migrate());
  ASSERT_OK(writer
                .Write(materializer::TestBatch(
                    "b1", {{9, absl::FromUnixSeconds(1), absl::FromUnixSeconds(2), "pushed"}}))
                .status());
  pqxx::connection conn(pg_->ConnInfo("granary"));
  pqxx::nontransaction tx(conn);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM stats WHERE note = 'pushed'")[0].as<int>(), 1);
  EXPECT_OK(Run("granary_offline_writer", "INSERT INTO later VALUES (8)"));
  // A serial column draws from its sequence.
  EXPECT_OK(Run("granary_offline_writer", "INSERT INTO serials (x) VALUES (1)"));

  ExpectRefused("granary_offline_writer", "UPDATE stats SET trips = 0");
  ExpectRefused("granary_offline_writer", "DELETE FROM stats");
  ExpectRefused("granary_offline_writer", "TRUNCATE stats");
  ExpectRefused("granary_offline_writer", "DROP TABLE stats");
  ExpectRefused("granary_offline_writer", "ALTER TABLE stats ADD COLUMN x int");
  ExpectRefused("granary_offline_writer", "CREATE TABLE public.mine (x int)");
  ExpectRefused("granary_offline_writer", "DELETE FROM later");
}

TEST_F(PostgresRolesTest, TheReaderReadsAndMakesTemporaryTablesAndWritesNothing) {
  EXPECT_OK(Run("granary_offline_reader", "SELECT count(*) FROM stats"));
  EXPECT_OK(Run("granary_offline_reader", "SELECT count(*) FROM later"));
  // A historical retrieval's entity rows go to a temporary table.
  EXPECT_OK(Run("granary_offline_reader",
                "CREATE TEMPORARY TABLE entities (driver_id bigint, ts timestamptz); "
                "INSERT INTO entities VALUES (1, now()); ANALYZE pg_temp.entities"));

  for (const char* table : {"stats", "later"}) {
    ExpectRefused("granary_offline_reader",
                  absl::StrCat("INSERT INTO ", table, " SELECT * FROM ", table));
    ExpectRefused("granary_offline_reader",
                  absl::StrCat("UPDATE ", table, " SET ",
                               std::string(table) == "stats" ? "trips = 0" : "id = 0"));
    ExpectRefused("granary_offline_reader", absl::StrCat("DELETE FROM ", table));
    ExpectRefused("granary_offline_reader", absl::StrCat("TRUNCATE ", table));
    ExpectRefused("granary_offline_reader", absl::StrCat("DROP TABLE ", table));
  }
  ExpectRefused("granary_offline_reader", "COPY stats FROM STDIN");
  ExpectRefused("granary_offline_reader", "CREATE TABLE public.mine (x int)");
  ExpectRefused("granary_offline_reader", "CREATE SCHEMA mine");
  // The materializer's own state is the writer's: the reader can neither read nor change it.
  ASSERT_OK(
      materializer::JobStore(std::make_shared<pg::Pool>(As("granary_offline_writer"))).Migrate());
  ExpectRefused("granary_offline_reader", "SELECT * FROM jobs.jobs");
  ExpectRefused("granary_offline_reader", "DELETE FROM jobs.jobs");
  ExpectRefused("granary_offline_reader", "DROP SCHEMA jobs CASCADE");
}

// A managed PostgreSQL gives no superuser: its admin owns the database and may create roles.
// The script works as that admin too, and leaves it no member of Granary's roles.
TEST_F(PostgresRolesTest, ADatabaseOwnerThatIsNotASuperuserCanRunIt) {
  ASSERT_OK(pg_->Execute("CREATE ROLE dbadmin LOGIN CREATEROLE"));
  ASSERT_OK(pg_->Execute("CREATE DATABASE managed OWNER dbadmin"));
  auto [code, output] = InitRoles("dbadmin", "managed");
  ASSERT_EQ(code, 0) << output;
  pqxx::connection conn(pg_->ConnInfo("managed"));
  pqxx::nontransaction tx(conn);
  EXPECT_EQ(tx.exec1("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = "
                     "'registry'")[0]
                .as<std::string>(),
            "granary_registry");
  EXPECT_EQ(tx.exec1("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = "
                     "'jobs'")[0]
                .as<std::string>(),
            "granary_offline_writer");
  EXPECT_FALSE(
      tx.exec1("SELECT pg_has_role('dbadmin', 'granary_registry', 'MEMBER')")[0].as<bool>());
  EXPECT_FALSE(
      tx.exec1("SELECT pg_has_role('dbadmin', 'granary_offline_writer', 'MEMBER')")[0].as<bool>());
}

TEST_F(PostgresRolesTest, ARoleOfNoJobCannotConnectToTheDatabase) {
  ASSERT_OK(pg_->Execute(
      "DO $$ BEGIN CREATE ROLE someone LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$"));
  absl::Status status = Run("someone", "SELECT 1");
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable,
                               HasSubstr("permission denied for database")));
}

}  // namespace
}  // namespace granary::testing
