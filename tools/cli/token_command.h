// `granary token`: a development bearer token (HS256) signed with the local stack's secret, for
// the gateway that `tools/dev up` runs (auth type jwt, issuer granary-dev, audience granary).
// Production tokens come from an identity provider, not from here.
//
//   granary token --user ana --roles reader            # prints the token
//   export GRANARY_TOKEN=$(granary token --user ci --roles writer --ttl 1h)
#ifndef GRANARY_TOOLS_CLI_TOKEN_COMMAND_H_
#define GRANARY_TOOLS_CLI_TOKEN_COMMAND_H_

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/time/time.h"

#include "tools/cli/command.h"

namespace granary::cli {

// What the local gateway checks (tools/dev writes the same into its config).
inline constexpr char kDevTokenIssuer[] = "granary-dev";
inline constexpr char kDevTokenAudience[] = "granary";

struct TokenOptions {
  std::string user;
  // Comma-separated entries are split.
  std::vector<std::string> roles;
  std::vector<std::string> groups;
  absl::Duration ttl = absl::Hours(1);
  // The HS256 secret's file; empty: $GRANARY_JWT_SECRET_FILE, else .granary/jwt.secret.
  std::string secret_file;
  // The token's iat / nbf; exp is now + ttl.
  absl::Time now;
};

// Prints the token (one line) on io.out. Returns 0, 1 when the secret cannot be read or is
// refused (too short), 2 for bad usage (no user, an empty role). Messages name the secret's
// file, never its contents.
int RunToken(const TokenOptions& options, CommandIo io);

// Registers token on `app`; when it runs it sets *exit_code.
void AddTokenCommand(CLI::App& app, int* exit_code);

}  // namespace granary::cli

#endif  // GRANARY_TOOLS_CLI_TOKEN_COMMAND_H_
