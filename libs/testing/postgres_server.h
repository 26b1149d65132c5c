// A real PostgreSQL cluster on a free loopback port (TCP only), in a temporary folder, for
// tests. As root, initdb and postgres run as the `postgres` user, which needs the test to run
// outside Bazel's sandbox (tag the test "no-sandbox").
//
//   ASSERT_OK_AND_ASSIGN(auto pg, PostgresServer::Start());
//   ASSERT_OK(pg->CreateDatabase("registry_test"));
//   pqxx::connection conn(pg->ConnInfo("registry_test"));
#ifndef GRANARY_LIBS_TESTING_POSTGRES_SERVER_H_
#define GRANARY_LIBS_TESTING_POSTGRES_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "libs/testing/backend_process.h"
#include "libs/testing/temp_dir.h"

namespace granary::testing {

class PostgresServer {
 public:
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Start();

  std::string host() const { return "127.0.0.1"; }
  int port() const { return process_.port(); }
  // The superuser (trust authentication on loopback).
  std::string user() const { return "postgres"; }
  // libpq connection string for a database.
  std::string ConnInfo(absl::string_view database = "postgres") const;
  pid_t pid() const { return process_.pid(); }

  absl::Status CreateDatabase(absl::string_view name);
  // Runs SQL as the superuser on a database (setup of roles, fixtures).
  absl::Status Execute(absl::string_view sql, absl::string_view database = "postgres");

  absl::Status Stop() { return process_.Stop(); }
  absl::Status Kill() { return process_.Kill(); }
  // Same port and the same data.
  absl::Status Restart() { return process_.Restart(); }

 private:
  PostgresServer(TempDir dir, BackendSpec spec) : dir_(std::move(dir)), process_(std::move(spec)) {}
  TempDir dir_;
  BackendProcess process_;
};

}  // namespace granary::testing

#endif  // GRANARY_LIBS_TESTING_POSTGRES_SERVER_H_
