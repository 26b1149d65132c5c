#include "tools/cli/verify_checks.h"

#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "pqxx/pqxx"
#include <nats/nats.h>

#include "libs/auth/jwks.h"
#include "libs/auth/oidc_key_source.h"
#include "libs/base/clock.h"
#include "libs/redis/connection.h"
#include "tools/cli/credentials.h"

namespace granary::cli {
namespace {

constexpr char kRolesFix[] =
    "run deploy/postgres/roles.sql (init-roles.sh) again as the database's owner";
constexpr char kAclFix[] =
    "load the user's line of deploy/redis/users.acl (ACL SETUSER or --aclfile)";
constexpr char kNatsFix[] = "give the user the permissions of deploy/nats/nats.conf";

// ---- Redis ----------------------------------------------------------------------------------

// A key no Granary layout uses: the no-op writes below find nothing to change.
constexpr char kAbsentKey[] = "granary:verify:absent";

// OK, NOPERM (refused for want of a permission) or another error.
enum class Outcome { kAllowed, kRefused, kError };

Outcome Try(redis::Connection& conn, const std::vector<std::string>& args, std::string* error) {
  absl::StatusOr<redis::Reply> reply = conn.Command(args);
  if (!reply.ok()) {
    *error = std::string(reply.status().message());
    return Outcome::kError;
  }
  if (reply->is_error() && absl::StartsWith(reply->str, "NOPERM")) return Outcome::kRefused;
  // Any other answer (a result, NOSCRIPT for an unknown script) means the command ran.
  return Outcome::kAllowed;
}

// ---- PostgreSQL -----------------------------------------------------------------------------

const char* RoleName(PgRole role) {
  switch (role) {
    case PgRole::kRegistry:
      return "registry";
    case PgRole::kOfflineReader:
      return "offline reader";
    case PgRole::kOfflineWriter:
      return "offline writer";
  }
  return "";
}

struct TablePrivileges {
  std::string table;
  bool select, insert, update, del, truncate;
};

std::vector<TablePrivileges> OfflineTables(pqxx::work& tx) {
  std::vector<TablePrivileges> out;
  for (const auto& r :
       tx.exec("SELECT c.oid::regclass::text, has_table_privilege(c.oid, 'SELECT'), "
               "has_table_privilege(c.oid, 'INSERT'), has_table_privilege(c.oid, 'UPDATE'), "
               "has_table_privilege(c.oid, 'DELETE'), has_table_privilege(c.oid, 'TRUNCATE') "
               "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
               "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1")) {
    out.push_back({r[0].c_str(), r[1].as<bool>(), r[2].as<bool>(), r[3].as<bool>(), r[4].as<bool>(),
                   r[5].as<bool>()});
  }
  return out;
}

// Whether the role may create its schemas: CREATE on the database, or it owns all of them.
bool MayHaveSchemas(pqxx::work& tx, const std::vector<std::string>& schemas) {
  if (tx.exec1("SELECT has_database_privilege(current_database(), 'CREATE')")[0].as<bool>()) {
    return true;
  }
  for (const std::string& schema : schemas) {
    pqxx::result owned = tx.exec_params(
        "SELECT 1 FROM pg_namespace WHERE nspname = $1 AND nspowner = "
        "(SELECT oid FROM pg_roles WHERE rolname = current_user)",
        schema);
    if (owned.empty()) return false;
  }
  return true;
}

void CheckPgPrivileges(pqxx::work& tx, PgRole role, const std::string& who, VerifyReport* report) {
  pqxx::row attrs = tx.exec1(
      "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles "
      "WHERE rolname = current_user");
  if (attrs[0].as<bool>() || attrs[1].as<bool>() || attrs[2].as<bool>() || attrs[3].as<bool>()) {
    report->Fail("postgres",
                 absl::StrCat(who,
                              " is a superuser or may create roles or databases or bypass "
                              "row security: more than it needs"),
                 "ALTER ROLE ... NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS");
  }
  std::vector<TablePrivileges> tables = OfflineTables(tx);
  std::vector<std::string> lacking, exceeding;
  const std::string kind = RoleName(role);
  switch (role) {
    case PgRole::kRegistry:
      if (!MayHaveSchemas(tx, {"registry"})) {
        report->Fail("postgres", absl::StrCat(who, " cannot create or own schema registry"),
                     kRolesFix);
        return;
      }
      report->Pass("postgres", absl::StrCat(who, " may keep the catalog (schema registry)"));
      return;
    case PgRole::kOfflineReader:
      for (const auto& t : tables) {
        if (!t.select) lacking.push_back(absl::StrCat("SELECT on ", t.table));
        if (t.insert) exceeding.push_back(absl::StrCat("INSERT into ", t.table));
        if (t.update) exceeding.push_back(absl::StrCat("UPDATE of ", t.table));
        if (t.del) exceeding.push_back(absl::StrCat("DELETE from ", t.table));
        if (t.truncate) exceeding.push_back(absl::StrCat("TRUNCATE of ", t.table));
      }
      if (!tx.exec1("SELECT has_database_privilege(current_database(), 'TEMP')")[0].as<bool>()) {
        lacking.push_back("TEMP (historical retrieval's entity table)");
      }
      if (tx.exec1("SELECT has_database_privilege(current_database(), 'CREATE')")[0].as<bool>()) {
        exceeding.push_back("CREATE on the database");
      }
      if (tx.exec1("SELECT has_schema_privilege('public', 'CREATE')")[0].as<bool>()) {
        exceeding.push_back("CREATE in schema public");
      }
      break;
    case PgRole::kOfflineWriter:
      for (const auto& t : tables) {
        if (!t.insert) lacking.push_back(absl::StrCat("INSERT into ", t.table));
        if (t.update) exceeding.push_back(absl::StrCat("UPDATE of ", t.table));
        if (t.del) exceeding.push_back(absl::StrCat("DELETE from ", t.table));
        if (t.truncate) exceeding.push_back(absl::StrCat("TRUNCATE of ", t.table));
      }
      if (!MayHaveSchemas(tx, {"jobs", "granary_ingest"})) {
        lacking.push_back("CREATE on the database (schemas jobs and granary_ingest)");
      }
      break;
  }
  if (tables.empty()) {
    report->Warn("postgres",
                 absl::StrCat("no offline tables in schema public yet: ", who,
                              "'s table privileges are unchecked"),
                 "run verify again once the offline tables exist");
  }
  if (!lacking.empty()) {
    report->Fail("postgres", absl::StrCat(who, " lacks ", absl::StrJoin(lacking, ", ")), kRolesFix);
  }
  if (!exceeding.empty()) {
    report->Fail("postgres",
                 absl::StrCat(who, " may do more than the ", kind,
                              " needs: ", absl::StrJoin(exceeding, ", ")),
                 "REVOKE those privileges (deploy/postgres/roles.sql grants only what is needed)");
  }
  if (lacking.empty() && exceeding.empty() && !tables.empty()) {
    report->Pass("postgres", absl::StrCat(who, " has exactly the ", kind, "'s privileges on ",
                                          tables.size(), " offline table(s)"));
  }
}

// ---- NATS -----------------------------------------------------------------------------------

struct NatsDeleter {
  void operator()(natsConnection* nc) const { natsConnection_Destroy(nc); }
};
struct OptionsDeleter {
  void operator()(natsOptions* o) const { natsOptions_Destroy(o); }
};
using NatsPtr = std::unique_ptr<natsConnection, NatsDeleter>;

std::string NatsError(natsStatus s) {
  natsStatus last = NATS_OK;
  const char* text = nats_GetLastError(&last);
  return text != nullptr && *text != '\0' ? std::string(text) : natsStatus_GetText(s);
}

// One connection, no retries: a refused login is an answer here, not a reason to wait.
absl::StatusOr<NatsPtr> ConnectOnce(const bus::NatsOptions& options) {
  natsOptions* raw = nullptr;
  if (natsOptions_Create(&raw) != NATS_OK) return absl::InternalError("natsOptions_Create");
  std::unique_ptr<natsOptions, OptionsDeleter> opts(raw);
  natsOptions_SetURL(opts.get(), options.url.c_str());
  natsOptions_SetTimeout(opts.get(), 2000);
  natsOptions_SetName(opts.get(), "granary verify");
  natsOptions_SetAllowReconnect(opts.get(), false);
  if (!options.user.empty()) {
    natsOptions_SetUserInfo(opts.get(), options.user.c_str(), options.password.value().c_str());
  }
  if (!options.token.empty()) natsOptions_SetToken(opts.get(), options.token.value().c_str());
  natsConnection* nc = nullptr;
  natsStatus s = natsConnection_Connect(&nc, opts.get());
  if (s != NATS_OK) return absl::UnavailableError(NatsError(s));
  return NatsPtr(nc);
}

// Whether the server refused what was sent so far on `nc` for want of a permission: its
// -ERR comes before the PONG that ends the flush.
bool Refused(natsConnection* nc) {
  natsConnection_FlushTimeout(nc, 2000);
  const char* text = nullptr;
  return natsConnection_GetLastError(nc, &text) == NATS_NOT_PERMITTED;
}

bool DeclaresStreams(const std::string& service) {
  return service == "registry" || service == "ingestion" || service == "materializer";
}

}  // namespace

void VerifyReport::Pass(std::string area, std::string what) {
  lines_.push_back({Result::kPass, std::move(area), std::move(what), ""});
}
void VerifyReport::Warn(std::string area, std::string what, std::string fix) {
  lines_.push_back({Result::kWarn, std::move(area), std::move(what), std::move(fix)});
}
void VerifyReport::Fail(std::string area, std::string what, std::string fix) {
  lines_.push_back({Result::kFail, std::move(area), std::move(what), std::move(fix)});
}

bool VerifyReport::failed() const {
  for (const Line& l : lines_) {
    if (l.result == Result::kFail) return true;
  }
  return false;
}

void VerifyReport::Print(std::ostream& out) const {
  int counts[3] = {0, 0, 0};
  for (const Line& l : lines_) {
    const char* word = l.result == Result::kPass   ? "PASS"
                       : l.result == Result::kWarn ? "WARN"
                                                   : "FAIL";
    ++counts[static_cast<int>(l.result)];
    out << absl::StrFormat("%-5s %-9s %s\n", word, l.area, l.what);
    if (!l.fix.empty()) out << absl::StrFormat("%-15s fix: %s\n", "", l.fix);
  }
  out << absl::StrFormat("%d passed, %d warnings, %d failed\n", counts[0], counts[1], counts[2]);
}

void VerifyRedis(const std::string& service, const redis::RedisOptions& options, RedisRole role,
                 VerifyReport* report) {
  const std::string who =
      absl::StrCat(service, "'s user ", options.user.empty() ? "(default)" : options.user);
  absl::StatusOr<std::unique_ptr<redis::Connection>> conn = redis::Connection::Open(options);
  if (!conn.ok()) {
    report->Fail("redis",
                 absl::StrCat(who, " cannot log in to ", options.host, ":", options.port, ": ",
                              conn.status().message()),
                 "check the address, the user and its password (the secret file or variable)");
    return;
  }
  report->Pass("redis", absl::StrCat(who, " logs in to ", options.host, ":", options.port));
  // What the service runs (each a no-op on an absent key), and what it must not be able to.
  std::vector<std::vector<std::string>> needed = {{"HMGET", kAbsentKey, "f"}};
  std::vector<std::vector<std::string>> forbidden = {{"DEL", kAbsentKey},
                                                     {"CONFIG", "GET", "maxmemory"},
                                                     {"EVAL", "return 1", "0"},
                                                     {"KEYS", "granary:verify:none*"}};
  if (role == RedisRole::kReader) {
    forbidden.push_back({"HDEL", kAbsentKey, "f"});
    forbidden.push_back({"EXPIRE", kAbsentKey, "10"});
  } else {
    needed.push_back({"HDEL", kAbsentKey, "f"});
    needed.push_back({"EXPIRE", kAbsentKey, "10"});
    needed.push_back({"SCAN", "0", "MATCH", "granary:verify:none*", "COUNT", "1"});
    // An unknown script: NOSCRIPT when allowed, NOPERM when not.
    needed.push_back({"EVALSHA", std::string(40, '0'), "0"});
  }
  std::vector<std::string> lacking, exceeding;
  std::string error;
  for (const auto& args : needed) {
    Outcome o = Try(**conn, args, &error);
    if (o == Outcome::kError) break;
    if (o == Outcome::kRefused) lacking.push_back(args[0]);
  }
  for (const auto& args : forbidden) {
    if (!error.empty()) break;
    Outcome o = Try(**conn, args, &error);
    if (o == Outcome::kAllowed) exceeding.push_back(args[0] == "CONFIG" ? "CONFIG GET" : args[0]);
  }
  if (!error.empty()) {
    report->Fail("redis", absl::StrCat(who, ": ", error), "check that Redis is healthy");
    return;
  }
  if (!lacking.empty()) {
    report->Fail("redis", absl::StrCat(who, " may not run ", absl::StrJoin(lacking, ", ")),
                 kAclFix);
  }
  if (!exceeding.empty()) {
    report->Fail("redis",
                 absl::StrCat(who, " may run ", absl::StrJoin(exceeding, ", "), ": more than ",
                              role == RedisRole::kReader ? "reading" : "the online store's writes",
                              " needs"),
                 kAclFix);
  }
  if (lacking.empty() && exceeding.empty()) {
    report->Pass("redis",
                 absl::StrCat(who, role == RedisRole::kReader
                                       ? " may only read (HMGET)"
                                       : " may run the online store's writes and no more"));
  }
}

void VerifyPostgres(const pg::PgOptions& options, PgRole role, VerifyReport* report) {
  const std::string who = absl::StrCat("the ", RoleName(role), " ", options.user);
  try {
    pqxx::connection conn(pg::ConnInfo(options));
    report->Pass("postgres", absl::StrCat(who, " logs in to ", options.host, ":", options.port, "/",
                                          options.database));
    pqxx::work tx(conn);
    CheckPgPrivileges(tx, role, who, report);
  } catch (const pqxx::broken_connection& e) {
    report->Fail("postgres", absl::StrCat(who, " cannot log in: ", e.what()),
                 "check the address, the role and its password (the secret file or variable)");
  } catch (const std::exception& e) {
    report->Fail("postgres", absl::StrCat(who, ": ", e.what()), kRolesFix);
  }
}

void VerifyNats(const std::string& service, const bus::NatsOptions& options, VerifyReport* report) {
  const std::string who =
      absl::StrCat(service, "'s user ", options.user.empty() ? "(none)" : options.user);
  absl::StatusOr<NatsPtr> nc = ConnectOnce(options);
  if (!nc.ok()) {
    report->Fail("nats",
                 absl::StrCat(who, " cannot log in to ", options.url, ": ", nc.status().message()),
                 "check the URL, the user and its password (the secret file or variable)");
    return;
  }
  report->Pass("nats", absl::StrCat(who, " logs in to ", options.url));
  if (DeclaresStreams(service)) {
    natsMsg* reply = nullptr;
    natsStatus s = natsConnection_RequestString(&reply, nc->get(), "$JS.API.INFO", "", 2000);
    std::string data =
        reply == nullptr ? "" : std::string(natsMsg_GetData(reply), natsMsg_GetDataLength(reply));
    natsMsg_Destroy(reply);
    if (s != NATS_OK || absl::StrContains(data, "\"error\"")) {
      report->Fail(
          "nats",
          absl::StrCat(who, " cannot reach JetStream: ", s != NATS_OK ? NatsError(s) : data),
          absl::StrCat("enable JetStream (-js) and ", kNatsFix));
    } else {
      report->Pass("nats", absl::StrCat(who, " reaches JetStream"));
    }
  } else {
    natsSubscription* sub = nullptr;
    natsConnection_SubscribeSync(&sub, nc->get(), "granary.registry.changed.>");
    bool refused = Refused(nc->get());
    natsSubscription_Destroy(sub);
    if (refused) {
      report->Fail("nats", absl::StrCat(who, " may not watch granary.registry.changed.>"),
                   kNatsFix);
    } else {
      report->Pass("nats", absl::StrCat(who, " may watch catalog changes"));
    }
  }
  // Outside its subjects (and outside every stream's, so nothing is stored if it goes through).
  std::vector<std::string> subjects = {absl::StrCat("granary.verify.", service)};
  if (service == "ingestion") subjects.push_back("granary.registry.verify");
  for (const std::string& subject : subjects) {
    absl::StatusOr<NatsPtr> fresh = ConnectOnce(options);  // a fresh last error
    if (!fresh.ok()) continue;
    natsConnection_PublishString(fresh->get(), subject.c_str(), "");
    if (Refused(fresh->get())) {
      report->Pass("nats", absl::StrCat(who, " is refused ", subject));
    } else {
      report->Fail("nats",
                   absl::StrCat(who, " may publish to ", subject,
                                ": its permissions reach beyond its own subjects"),
                   kNatsFix);
    }
  }
}

void VerifyAuth(const auth::AuthConfig& config, VerifyReport* report) {
  if (config.type == "none") {
    report->Warn("auth", "no authentication: every caller gets the configured identity",
                 "set gateway auth type to jwt, oidc or kubernetes");
    return;
  }
  if (config.type == "kubernetes") {
    report->Warn("auth",
                 absl::StrCat("kubernetes mode: TokenReview at ", config.k8s_api_server,
                              " is checked only from inside the cluster"),
                 "deploy/k8s/README.md lists the RBAC the gateway needs");
    return;
  }
  for (const std::string& alg : config.algorithms) {
    if (alg != "HS256") continue;
    if (config.hs256_secret.value().size() < 32) {
      report->Warn("auth", "the HS256 secret is shorter than 32 bytes",
                   "use 32 random bytes or more (tools/dev makes 64 hex digits)");
    } else {
      report->Pass("auth", "the HS256 secret is readable and long enough");
    }
  }
  if (!config.jwks_file.empty()) {
    absl::StatusOr<std::string> text = ReadCredentialFile(config.jwks_file, "JWKS file");
    absl::StatusOr<auth::KeySet> keys =
        text.ok() ? auth::ParseJwks(*text) : absl::StatusOr<auth::KeySet>(text.status());
    if (!keys.ok() || keys->keys.empty()) {
      report->Fail("auth",
                   absl::StrCat("the JWKS file ", config.jwks_file, " gives no keys",
                                keys.ok() ? "" : absl::StrCat(": ", keys.status().message())),
                   "point jwks_file at the issuer's JWKS (RS256 or ES256 signing keys)");
    } else {
      report->Pass("auth", absl::StrCat("the JWKS file has ", keys->keys.size(), " key(s)"));
    }
  }
  if (!config.discovery_url.empty()) {
    auth::OidcKeySource source(
        {.discovery_url = config.discovery_url, .expected_issuer = config.issuer},
        base::Clock::Real());
    absl::StatusOr<std::shared_ptr<const auth::KeySet>> keys = source.Keys();
    if (!keys.ok()) {
      report->Fail("auth",
                   absl::StrCat("the issuer's keys cannot be had: ", keys.status().message()),
                   "check discovery_url, the issuer's certificate and that issuer matches the "
                   "discovery document's");
    } else {
      report->Pass("auth", absl::StrCat("the issuer ", source.issuer(), " answers with ",
                                        (*keys)->keys.size(), " key(s)"));
    }
  }
}

}  // namespace granary::cli
