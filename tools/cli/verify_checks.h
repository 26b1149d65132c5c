// The checks of `granary verify`, one backend credential at a time, against the real backend:
// each logs in as the service would and tries what the service needs and what it must not be
// able to do, without changing any data (no-op writes on keys, subjects and tables that hold
// nothing, and privilege functions in PostgreSQL).
//
//   VerifyReport report;
//   VerifyRedis("serving", options, RedisRole::kReader, &report);
//   report.Print(std::cout);   // PASS/WARN/FAIL lines, each FAIL with its fix
#ifndef GRANARY_TOOLS_CLI_VERIFY_CHECKS_H_
#define GRANARY_TOOLS_CLI_VERIFY_CHECKS_H_

#include <ostream>
#include <string>
#include <vector>

#include "libs/auth/auth_config.h"
#include "libs/bus/options.h"
#include "libs/pg/options.h"
#include "libs/redis/options.h"

namespace granary::cli {

class VerifyReport {
 public:
  enum class Result { kPass, kWarn, kFail };
  struct Line {
    Result result;
    std::string area;  // redis, postgres, nats, auth, config
    std::string what;
    std::string fix;  // empty for PASS
  };

  void Pass(std::string area, std::string what);
  void Warn(std::string area, std::string what, std::string fix);
  void Fail(std::string area, std::string what, std::string fix);

  bool failed() const;
  const std::vector<Line>& lines() const { return lines_; }
  // One line each ("FAIL  postgres  ...\n        fix: ..."), then a summary line.
  void Print(std::ostream& out) const;

 private:
  std::vector<Line> lines_;
};

// Serving's user may only read (HMGET, HGETALL); the writer's may also run the online store's
// scripts and SCAN, and neither may delete keys, read the config or run ad-hoc scripts.
enum class RedisRole { kReader, kWriter };
void VerifyRedis(const std::string& service, const redis::RedisOptions& options, RedisRole role,
                 VerifyReport* report);

// The three roles of deploy/postgres/roles.sql.
enum class PgRole { kRegistry, kOfflineReader, kOfflineWriter };
void VerifyPostgres(const pg::PgOptions& options, PgRole role, VerifyReport* report);

// A service's NATS user: logs in, reaches JetStream when the service declares streams, and is
// refused a subject outside its own.
void VerifyNats(const std::string& service, const bus::NatsOptions& options, VerifyReport* report);

// The gateway's token checks: the HS256 secret is usable, the JWKS file parses, the OIDC
// issuer's discovery document and keys can be fetched and name the configured issuer.
void VerifyAuth(const auth::AuthConfig& config, VerifyReport* report);

}  // namespace granary::cli

#endif  // GRANARY_TOOLS_CLI_VERIFY_CHECKS_H_
