#include "libs/pg/options.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace granary::pg {
namespace {

// libpq conninfo values: single-quoted, with \ and ' escaped.
std::string Quote(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

}  // namespace

PgOptions ReadPgOptions(config::Reader section) {
  PgOptions o;
  config::HostPort address = section.HostAndPort("address", "127.0.0.1:5432");
  o.host = address.host;
  o.port = address.port;
  o.database = section.String("database", o.database);
  o.user = section.String("user", o.user);
  o.password = section.SecretValue("password");
  o.sslmode = section.String("sslmode", o.sslmode);
  static const char* const kModes[] = {"disable", "allow",     "prefer",
                                       "require", "verify-ca", "verify-full"};
  if (std::find(std::begin(kModes), std::end(kModes), o.sslmode) == std::end(kModes)) {
    section.AddError("sslmode",
                     "expected one of disable, allow, prefer, require, verify-ca, "
                     "verify-full");
  }
  o.connect_timeout =
      section.Duration("connect_timeout", o.connect_timeout, absl::Seconds(1), absl::Minutes(5));
  o.statement_timeout = section.Duration("statement_timeout", o.statement_timeout);
  o.tcp_timeout =
      section.Duration("tcp_timeout", o.tcp_timeout, absl::Seconds(1), absl::Minutes(10));
  o.application_name = section.String("application_name", o.application_name);
  o.pool_size = static_cast<int>(section.Int("pool_size", o.pool_size, 1, 256));
  return o;
}

std::string ConnInfo(const PgOptions& o) {
  std::string info = absl::StrCat(
      "host=", Quote(o.host), " port=", o.port, " dbname=", Quote(o.database),
      " user=", Quote(o.user), " sslmode=", Quote(o.sslmode),
      // libpq's connect_timeout is whole seconds, at least 2 (1 is raised to 2).
      " connect_timeout=", std::max<int64_t>(2, absl::ToInt64Seconds(o.connect_timeout)),
      " application_name=", Quote(o.application_name), " keepalives=1 keepalives_idle=",
      std::max<int64_t>(1, absl::ToInt64Seconds(o.tcp_timeout) / 2),
      " keepalives_interval=1 keepalives_count=",
      std::max<int64_t>(1, absl::ToInt64Seconds(o.tcp_timeout) / 2),
      " tcp_user_timeout=", absl::ToInt64Milliseconds(o.tcp_timeout));
  if (!o.password.empty()) absl::StrAppend(&info, " password=", Quote(o.password.value()));
  if (o.statement_timeout > absl::ZeroDuration()) {
    absl::StrAppend(&info, " options=",
                    Quote(absl::StrCat("-c statement_timeout=",
                                       absl::ToInt64Milliseconds(o.statement_timeout))));
  }
  return info;
}

}  // namespace granary::pg
