// Who is calling: what authentication established and authorization decides on.
#ifndef GRANARY_LIBS_AUTH_IDENTITY_H_
#define GRANARY_LIBS_AUTH_IDENTITY_H_

#include <string>
#include <vector>

namespace granary::auth {

struct Identity {
  // The user (a token's `preferred_username` or `sub`, a service account's
  // "system:serviceaccount:<namespace>:<name>"), for audit lines and backends.
  std::string user;
  // What permissions' policies match on.
  std::vector<std::string> roles;
  std::vector<std::string> groups;
};

}  // namespace granary::auth

#endif  // GRANARY_LIBS_AUTH_IDENTITY_H_
