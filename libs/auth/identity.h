// Who is calling: what authentication established and authorization decides on.
#ifndef GRANARY_LIBS_AUTH_IDENTITY_H_
#define GRANARY_LIBS_AUTH_IDENTITY_H_

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace granary::auth {

struct Identity {
  // The user (a token's `preferred_username` or `sub`, a service account's
  // "system:serviceaccount:<namespace>:<name>"), for audit lines and backends.
  std::string user;
  // What permissions' policies match on.
  std::vector<std::string> roles;
  std::vector<std::string> groups;
  // Until when what proved it stays good (a token's exp plus the leeway): how long an
  // authenticator's answer may be reused for the same credential.
  absl::Time valid_until = absl::InfiniteFuture();
};

}  // namespace granary::auth

#endif  // GRANARY_LIBS_AUTH_IDENTITY_H_
