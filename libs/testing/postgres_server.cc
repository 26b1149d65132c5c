#include "libs/testing/postgres_server.h"

#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "postgresql/libpq-fe.h"
#include <sys/stat.h>
#include <sys/wait.h>

#include "libs/base/status_macros.h"

namespace granary::testing {
namespace {

constexpr char kPostgresUser[] = "postgres";

// As root, PostgreSQL's files must belong to the user it runs as.
absl::Status GiveToPostgresUser(const std::string& path) {
  if (geteuid() != 0) return absl::OkStatus();
  struct passwd* pw = getpwnam(kPostgresUser);
  if (pw == nullptr) return absl::NotFoundError("no postgres user (is postgresql installed?)");
  if (chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("chown ", path, ": ", std::strerror(errno),
                     " (inside Bazel's sandbox? tag the test \"no-sandbox\")"));
  }
  return absl::OkStatus();
}

std::optional<std::string> RunAs() {
  if (geteuid() == 0) return std::string(kPostgresUser);
  return std::nullopt;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::Start() {
  ASSIGN_OR_RETURN(std::string bin, PostgresBinDir());
  // Under /tmp: when running as root, the postgres user must be able to enter the folder.
  ASSIGN_OR_RETURN(TempDir dir, TempDir::Create("postgres", /*under_tmp=*/true));
  chmod(dir.path().c_str(), 0755);
  std::string data = dir.path() + "/data";
  if (mkdir(data.c_str(), 0700) != 0) {
    return absl::InternalError(absl::StrCat("mkdir ", data, ": ", std::strerror(errno)));
  }
  RETURN_IF_ERROR(GiveToPostgresUser(data));

  ASSIGN_OR_RETURN(
      auto initdb,
      Subprocess::Start({.argv = {bin + "/initdb", "-D", data, "-U", kPostgresUser, "--auth=trust",
                                  "--encoding=UTF8", "--locale=C", "--no-sync"},
                         .log_path = dir.path() + "/initdb.log",
                         .run_as_user = RunAs()}));
  ASSIGN_OR_RETURN(int status, initdb->Wait(absl::Seconds(120)));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("initdb failed:\n", initdb->RecentOutput()));
  }

  BackendSpec spec{
      .name = "postgres",
      .argv = [bin, data](int port) -> std::vector<std::string> {
        // TCP only: test folders are too deep for a Unix socket path. Durability settings are
        // off because a test cluster never outlives its test.
        return {bin + "/postgres",
                "-D",
                data,
                "-p",
                std::to_string(port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "unix_socket_directories=",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200"};
      },
      .ready_line = "database system is ready to accept connections",
      .port_taken_line = "could not bind",
      // SIGINT is PostgreSQL's "fast" shutdown: sessions are ended at once.
      .stop_signal = SIGINT,
      .run_as_user = RunAs(),
      .log_path = dir.path() + "/postgres.log",
  };
  auto server =
      std::unique_ptr<PostgresServer>(new PostgresServer(std::move(dir), std::move(spec)));
  RETURN_IF_ERROR(server->process_.StartOnFreePort());
  return server;
}

std::string PostgresServer::ConnInfo(absl::string_view database) const {
  return absl::StrCat("host=", host(), " port=", port(), " user=", user(), " dbname=", database,
                      " connect_timeout=5");
}

absl::Status PostgresServer::Execute(absl::string_view sql, absl::string_view database) {
  PGconn* conn = PQconnectdb(ConnInfo(database).c_str());
  absl::Status result;
  if (PQstatus(conn) != CONNECTION_OK) {
    result = absl::UnavailableError(absl::StrCat("connect: ", PQerrorMessage(conn)));
  } else {
    PGresult* res = PQexec(conn, std::string(sql).c_str());
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      result = absl::InternalError(absl::StrCat("SQL failed: ", PQresultErrorMessage(res)));
    }
    PQclear(res);
  }
  PQfinish(conn);
  return result;
}

absl::Status PostgresServer::CreateDatabase(absl::string_view name) {
  return Execute(absl::StrCat("CREATE DATABASE \"", name, "\""));
}

}  // namespace granary::testing
