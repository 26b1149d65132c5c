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

// Whether the user may run a command, asked without running it: inside MULTI, Redis checks
// the ACL as it queues the command (QUEUED or NOPERM), and DISCARD drops the queue, so even
// FLUSHALL is only ever queued.
enum class Outcome { kAllowed, kRefused, kError };

Outcome Try(redis::Connection& conn, const std::vector<std::string>& args, std::string* error) {
  absl::StatusOr<std::vector<redis::Reply>> replies = conn.Pipeline({{"MULTI"}, args, {"DISCARD"}});
  if (!replies.ok() || replies->size() != 3) {
    *error = replies.ok() ? "unexpected replies" : std::string(replies.status().message());
    return Outcome::kError;
  }
  const redis::Reply& queued = (*replies)[1];
  if (!queued.is_error() && queued.str == "QUEUED") return Outcome::kAllowed;
  if ((*replies)[0].is_error()) {  // MULTI itself refused: the probe cannot tell
    *error = absl::StrCat("cannot ask without running commands: MULTI: ", (*replies)[0].str);
    return Outcome::kError;
  }
  // NOPERM, or a command the server does not have (renamed away on managed Redis): either way
  // the user cannot run it. Anything else (OOM, READONLY, LOADING, MOVED, ...) says nothing
  // about permissions.
  if (absl::StartsWith(queued.str, "NOPERM") ||
      absl::StartsWith(queued.str, "ERR unknown command")) {
    return Outcome::kRefused;
  }
  *error = absl::StrCat("cannot tell whether it may run ", args[0], ": ", queued.str);
  return Outcome::kError;
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
               // Partitions are read and written through their parent.
               "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
               "ORDER BY 1")) {
    out.push_back({r[0].c_str(), r[1].as<bool>(), r[2].as<bool>(), r[3].as<bool>(), r[4].as<bool>(),
                   r[5].as<bool>()});
  }
  return out;
}

// The role's schemas (missing ones too) and tables in them it does not own: roles.sql makes
// them, owned by it.
std::vector<std::string> SchemasNotOwned(pqxx::work& tx, const std::vector<std::string>& schemas) {
  std::vector<std::string> out;
  for (const std::string& schema : schemas) {
    pqxx::result owned = tx.exec_params(
        "SELECT 1 FROM pg_namespace WHERE nspname = $1 AND nspowner = "
        "(SELECT oid FROM pg_roles WHERE rolname = current_user)",
        schema);
    if (owned.empty()) out.push_back(absl::StrCat("ownership of schema ", schema));
    // Its tables too: a schema handed over with another role's tables cannot be migrated.
    for (const auto& r : tx.exec_params(
             "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON "
             "n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND "
             "c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = current_user) ORDER BY 1",
             schema)) {
      out.push_back(absl::StrCat("ownership of table ", r[0].c_str()));
    }
  }
  return out;
}

bool Has(pqxx::work& tx, const std::string& query) { return tx.exec1(query)[0].as<bool>(); }

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
  // None may create schemas: it could put one named after another role first in that role's
  // search path.
  if (Has(tx, "SELECT has_database_privilege(current_database(), 'CREATE')")) {
    exceeding.push_back("CREATE on the database");
  }
  if (Has(tx, "SELECT has_schema_privilege('public', 'CREATE')")) {
    exceeding.push_back("CREATE in schema public");
  }
  switch (role) {
    case PgRole::kRegistry:
      lacking = SchemasNotOwned(tx, {"registry"});
      for (const auto& t : tables) {
        if (t.select || t.insert) exceeding.push_back(absl::StrCat("access to ", t.table));
      }
      break;
    case PgRole::kOfflineReader:
      for (const auto& t : tables) {
        if (!t.select) lacking.push_back(absl::StrCat("SELECT on ", t.table));
        if (t.insert) exceeding.push_back(absl::StrCat("INSERT into ", t.table));
        if (t.update) exceeding.push_back(absl::StrCat("UPDATE of ", t.table));
        if (t.del) exceeding.push_back(absl::StrCat("DELETE from ", t.table));
        if (t.truncate) exceeding.push_back(absl::StrCat("TRUNCATE of ", t.table));
      }
      if (!Has(tx, "SELECT has_database_privilege(current_database(), 'TEMP')")) {
        lacking.push_back("TEMP (historical retrieval's entity table)");
      }
      break;
    case PgRole::kOfflineWriter:
      for (const auto& t : tables) {
        if (!t.insert) lacking.push_back(absl::StrCat("INSERT into ", t.table));
        if (t.update) exceeding.push_back(absl::StrCat("UPDATE of ", t.table));
        if (t.del) exceeding.push_back(absl::StrCat("DELETE from ", t.table));
        if (t.truncate) exceeding.push_back(absl::StrCat("TRUNCATE of ", t.table));
      }
      for (const auto& r :
           // CASE: has_sequence_privilege fails on a table, and AND may evaluate it first.
           tx.exec("SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON "
                   "n.oid = c.relnamespace WHERE n.nspname = 'public' AND CASE WHEN "
                   "c.relkind = 'S' THEN NOT has_sequence_privilege(c.oid, 'USAGE') ELSE false "
                   "END ORDER BY 1")) {
        lacking.push_back(absl::StrCat("USAGE of sequence ", r[0].c_str()));
      }
      for (std::string& schema : SchemasNotOwned(tx, {"jobs", "granary_ingest"})) {
        lacking.push_back(std::move(schema));
      }
      break;
  }
  if (tables.empty() && role != PgRole::kRegistry) {
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
  if (lacking.empty() && exceeding.empty() && (!tables.empty() || role == PgRole::kRegistry)) {
    report->Pass("postgres", role == PgRole::kRegistry
                                 ? absl::StrCat(who, " owns schema registry and no offline data")
                                 : absl::StrCat(who, " has exactly the ", kind, "'s privileges on ",
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
    // The services' own inboxes (libs/bus): requests get their replies where they would.
    natsOptions_SetCustomInboxPrefix(opts.get(), bus::InboxPrefix(options.user).c_str());
  }
  if (!options.token.empty()) natsOptions_SetToken(opts.get(), options.token.value().c_str());
  natsConnection* nc = nullptr;
  natsStatus s = natsConnection_Connect(&nc, opts.get());
  if (s != NATS_OK) return absl::UnavailableError(NatsError(s));
  return NatsPtr(nc);
}

// What the server said to what was sent so far on `nc`: a refusal for want of a permission
// comes as an -ERR before the PONG that ends the flush; no answer in time is not a verdict.
enum class Verdict { kAllowed, kRefused, kUnknown };
Verdict Judge(natsConnection* nc) {
  natsStatus flushed = natsConnection_FlushTimeout(nc, 5000);
  const char* text = nullptr;
  if (natsConnection_GetLastError(nc, &text) == NATS_NOT_PERMITTED) return Verdict::kRefused;
  return flushed == NATS_OK ? Verdict::kAllowed : Verdict::kUnknown;
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
  auto print = [&out](const Line& l) {
    const char* word = l.result == Result::kPass   ? "PASS"
                       : l.result == Result::kWarn ? "WARN"
                                                   : "FAIL";
    out << absl::StrFormat("%-5s %-9s %s\n", word, l.area, l.what);
    if (!l.fix.empty()) out << absl::StrFormat("%-15s fix: %s\n", "", l.fix);
  };
  int counts[3] = {0, 0, 0};
  for (const Line& l : lines_) {
    ++counts[static_cast<int>(l.result)];
    print(l);
  }
  out << absl::StrFormat("%d passed, %d warnings, %d failed\n", counts[0], counts[1], counts[2]);
  // The failures again, last, where a long report's reader looks first.
  if (counts[2] > 0) {
    out << "failed:\n";
    for (const Line& l : lines_) {
      if (l.result == Result::kFail) print(l);
    }
  }
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
  // Without a user and password nobody may do anything: else the separation is moot (asked
  // once, with serving's address).
  if (role == RedisRole::kReader) {
    redis::RedisOptions anonymous = options;
    anonymous.user.clear();
    anonymous.password = config::Secret();
    absl::StatusOr<std::unique_ptr<redis::Connection>> nobody = redis::Connection::Open(anonymous);
    absl::StatusOr<redis::Reply> ping =
        nobody.ok() ? (*nobody)->Command({"PING"}) : absl::StatusOr<redis::Reply>(nobody.status());
    if (ping.ok() && !ping->is_error()) {
      report->Fail("redis",
                   absl::StrCat(options.host, ":", options.port,
                                " answers a client without a user or password"),
                   "turn the default user off (deploy/redis/users.acl: user default off)");
    }
  }
  // What the service runs, and what it must not be able to (probed inside MULTI: nothing runs).
  std::vector<std::vector<std::string>> needed = {{"HMGET", kAbsentKey, "f"}};
  // Serving reads a hash whole when a request asks for most of it.
  if (role == RedisRole::kReader) needed.push_back({"HGETALL", kAbsentKey});
  std::vector<std::vector<std::string>> forbidden = {{"SET", kAbsentKey, "x"},
                                                     {"DEL", kAbsentKey},
                                                     {"FLUSHALL"},
                                                     {"FLUSHDB"},
                                                     {"CONFIG", "GET", "maxmemory"},
                                                     {"EVAL", "return 1", "0"},
                                                     {"KEYS", "granary:verify:*"},
                                                     {"SCRIPT", "FLUSH"},
                                                     {"ACL", "WHOAMI"}};
  const std::vector<std::vector<std::string>> writes = {
      {"HSET", kAbsentKey, "f", "v"}, {"HGET", kAbsentKey, "f"},
      {"HDEL", kAbsentKey, "f"},      {"EXPIRE", kAbsentKey, "10"},
      {"SCAN", "0", "COUNT", "1"},    {"EVALSHA", std::string(40, '0'), "0"},
      {"SCRIPT", "LOAD", "return 1"}};
  for (const auto& w : writes) (role == RedisRole::kReader ? forbidden : needed).push_back(w);
  std::vector<std::string> lacking, exceeding;
  std::string error;
  for (const auto& args : needed) {
    Outcome o = Try(**conn, args, &error);
    if (o == Outcome::kError) break;
    if (o == Outcome::kRefused)
      lacking.push_back(
          absl::StrJoin(args.begin(), args.begin() + (args[0] == "SCRIPT" ? 2 : 1), " "));
  }
  for (const auto& args : forbidden) {
    if (!error.empty()) break;
    Outcome o = Try(**conn, args, &error);
    if (o == Outcome::kAllowed) {
      const bool two_words = args[0] == "CONFIG" || args[0] == "SCRIPT" || args[0] == "ACL";
      exceeding.push_back(absl::StrJoin(args.begin(), args.begin() + (two_words ? 2 : 1), " "));
    }
  }
  if (!error.empty()) {
    report->Fail("redis", absl::StrCat(who, ": ", error),
                 "give the user +multi +discard (not +exec), as deploy/redis/users.acl does, and "
                 "check that Redis answers");
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
                                       ? " may only read (HMGET, HGETALL)"
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
  if (service == "registry") {  // once per server: nobody logs in without a user
    bus::NatsOptions anonymous;
    anonymous.url = options.url;
    if (ConnectOnce(anonymous).ok()) {
      report->Fail("nats", absl::StrCat(options.url, " lets a client in without a user"),
                   "list only Granary's users (deploy/nats/nats.conf), with no no_auth_user");
    } else {
      report->Pass("nats", absl::StrCat(options.url, " refuses a client without a user"));
    }
  }
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
    // What it publishes, without storing anything: a stream takes a message only when its
    // Nats-Expected-Stream header names it, and this one names no stream (the permission is
    // checked before that).
    const std::string subject = service == "ingestion"  ? "granary.push.verify.verify"
                                : service == "registry" ? "granary.cleanup.verify"
                                                        : "granary.tasks.verify";
    absl::StatusOr<NatsPtr> fresh = ConnectOnce(options);
    if (fresh.ok()) {
      natsMsg* msg = nullptr;
      natsMsg_Create(&msg, subject.c_str(), nullptr, "", 0);
      natsMsgHeader_Set(msg, "Nats-Expected-Stream", "granary-verify-none");
      natsConnection_PublishMsg(fresh->get(), msg);
      natsMsg_Destroy(msg);
      if (Judge(fresh->get()) == Verdict::kAllowed) {
        report->Pass("nats", absl::StrCat(who, " may publish to ", subject));
      } else {
        report->Fail("nats", absl::StrCat(who, " may not publish to ", subject), kNatsFix);
      }
    }
  } else {
    natsSubscription* sub = nullptr;
    natsConnection_SubscribeSync(&sub, nc->get(), "granary.registry.changed.>");
    Verdict v = Judge(nc->get());
    natsSubscription_Destroy(sub);
    if (v == Verdict::kAllowed) {
      report->Pass("nats", absl::StrCat(who, " may watch catalog changes"));
    } else {
      report->Fail("nats", absl::StrCat(who, " may not watch granary.registry.changed.>"),
                   kNatsFix);
    }
  }
  // What it must not do, each on a fresh connection (a refusal sticks to the connection):
  // publish outside its subjects (to subjects no stream holds, so nothing is stored if it goes
  // through) and read other users' replies.
  struct Probe {
    bool publish;
    std::string subject;
  };
  std::vector<Probe> probes = {{true, absl::StrCat("granary.verify.", service)},
                               {false, "_INBOX.>"}};
  if (service == "ingestion") probes.push_back({true, "granary.registry.verify"});
  if (service != "materializer") probes.push_back({false, "_INBOX_granary-materializer.>"});
  for (const Probe& probe : probes) {
    const std::string what =
        absl::StrCat(probe.publish ? "publish to " : "subscribe to ", probe.subject);
    absl::StatusOr<NatsPtr> fresh = ConnectOnce(options);
    if (!fresh.ok()) {
      report->Fail("nats",
                   absl::StrCat(who, ": cannot check ", what, ": ", fresh.status().message()),
                   "run verify again when NATS answers");
      continue;
    }
    natsSubscription* sub = nullptr;
    if (probe.publish) {
      natsConnection_PublishString(fresh->get(), probe.subject.c_str(), "");
    } else {
      natsConnection_SubscribeSync(&sub, fresh->get(), probe.subject.c_str());
    }
    Verdict v = Judge(fresh->get());
    if (sub != nullptr) natsSubscription_Destroy(sub);
    if (v == Verdict::kRefused) {
      report->Pass("nats", absl::StrCat(who, " may not ", what));
    } else if (v == Verdict::kAllowed) {
      report->Fail("nats",
                   absl::StrCat(who, " may ", what, ": its permissions reach beyond its own"),
                   kNatsFix);
    } else {
      report->Fail("nats", absl::StrCat(who, ": NATS did not answer a check of ", what),
                   "run verify again when NATS answers");
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
