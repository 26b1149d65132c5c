// How to reach PostgreSQL, and the `postgres:` config section that fills it.
//
//   postgres:
//     address: 127.0.0.1:5432
//     database: granary
//     user: granary
//     password: {file: /run/secrets/pg}
//     sslmode: prefer
//     connect_timeout: 2s
//     statement_timeout: 30s
//     pool_size: 4
#ifndef GRANARY_LIBS_PG_OPTIONS_H_
#define GRANARY_LIBS_PG_OPTIONS_H_

#include <string>

#include "absl/time/time.h"

#include "libs/config/reader.h"
#include "libs/config/secret.h"

namespace granary::pg {

struct PgOptions {
  std::string host = "127.0.0.1";
  int port = 5432;
  std::string database = "granary";
  std::string user = "granary";
  config::Secret password;
  // libpq's sslmode: disable, allow, prefer, require, verify-ca, verify-full.
  std::string sslmode = "prefer";
  absl::Duration connect_timeout = absl::Seconds(2);
  // Server-side limit per statement; zero means none.
  absl::Duration statement_timeout = absl::Seconds(30);
  // How long unacknowledged data may wait on a connection before it counts as dead (with TCP
  // keepalives): a server that vanished without closing its sockets fails calls in seconds,
  // not after the kernel's default of two hours.
  absl::Duration tcp_timeout = absl::Seconds(10);
  // Shown in pg_stat_activity.
  std::string application_name = "granary";
  // Connections the pool keeps open.
  int pool_size = 4;
};

// Reads the section; problems are recorded in the reader.
PgOptions ReadPgOptions(config::Reader section);

// A libpq connection string with every value quoted and escaped.
std::string ConnInfo(const PgOptions& options);

}  // namespace granary::pg

#endif  // GRANARY_LIBS_PG_OPTIONS_H_
