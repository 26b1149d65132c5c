// How to reach NATS, and the `nats:` config section that fills it.
//
//   nats:
//     url: nats://127.0.0.1:4222     # or several, comma-separated, for a cluster
//     user: ingestion
//     password: {file: /run/secrets/nats}
//     connect_timeout: 2s
#ifndef GRANARY_LIBS_BUS_OPTIONS_H_
#define GRANARY_LIBS_BUS_OPTIONS_H_

#include <string>

#include "absl/time/time.h"

#include "libs/config/reader.h"
#include "libs/config/secret.h"

namespace granary::bus {

struct NatsOptions {
  // One URL or a comma-separated list of a cluster's URLs.
  std::string url = "nats://127.0.0.1:4222";
  // User and password, or a token; empty means no authentication.
  std::string user;
  config::Secret password;
  config::Secret token;
  absl::Duration connect_timeout = absl::Seconds(2);
  // Delay between reconnect attempts; reconnects never stop.
  absl::Duration reconnect_wait = absl::Milliseconds(250);
  // Shown in the server's connection list.
  std::string name = "granary";
};

// Reads the section; problems are recorded in the reader.
NatsOptions ReadNatsOptions(config::Reader section);

// The prefix of a user's reply inboxes: _INBOX_<user> (e.g. _INBOX_granary-ingestion).
std::string InboxPrefix(const std::string& user);

}  // namespace granary::bus

#endif  // GRANARY_LIBS_BUS_OPTIONS_H_
