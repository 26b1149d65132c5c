#include "libs/bus/options.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace granary::bus {

NatsOptions ReadNatsOptions(config::Reader section) {
  NatsOptions o;
  o.url = section.String("url", o.url);
  for (absl::string_view u : absl::StrSplit(o.url, ',')) {
    if (!absl::StartsWith(u, "nats://") && !absl::StartsWith(u, "tls://")) {
      section.AddError("url", "expected nats://host:port (or a comma-separated list of them)");
      break;
    }
    // Credentials in a URL end up in logs and error messages.
    if (absl::StrContains(u, "@")) {
      section.AddError("url",
                       "credentials do not belong in the URL: use user and password, "
                       "or token (each from a file or the environment)");
      break;
    }
  }
  o.user = section.String("user", "");
  o.password = section.SecretValue("password");
  o.token = section.SecretValue("token");
  if (!o.token.empty() && !o.user.empty()) {
    section.AddError("token", "use either user/password or a token, not both");
  }
  o.connect_timeout = section.Duration("connect_timeout", o.connect_timeout,
                                       absl::Milliseconds(100), absl::Minutes(1));
  o.reconnect_wait = section.Duration("reconnect_wait", o.reconnect_wait, absl::Milliseconds(10),
                                      absl::Minutes(1));
  o.name = section.String("name", o.name);
  return o;
}

std::string InboxPrefix(const std::string& user) { return "_INBOX_" + user; }

}  // namespace granary::bus
