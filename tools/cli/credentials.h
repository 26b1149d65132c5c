// Where the CLI's credentials come from: the bearer token every call carries, and the local
// stack's files (`tools/dev up` keeps them in .granary/: token, jwt.secret).
//
//   ASSIGN_OR_RETURN(BearerToken token, ResolveToken(flags.token, repo_config));
//   Target registry{.address = address, .token = token.value, .token_source = token.source};
#ifndef GRANARY_TOOLS_CLI_CREDENTIALS_H_
#define GRANARY_TOOLS_CLI_CREDENTIALS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

#include "tools/cli/repo_loader.h"

namespace granary::cli {

// The local stack's file `name`: $GRANARY_HOME/name when GRANARY_HOME is set (tools/dev's state
// folder moved), else .granary/name in the first of `dirs`, or of their parents, that has one.
// "" when there is none.
std::string FindStateFile(const std::string& name, const std::vector<std::string>& dirs);

struct BearerToken {
  // Empty when no source gave one.
  std::string value;
  // "--token", "$GRANARY_TOKEN" or the file's path: safe to print, unlike the value.
  std::string source;
};

// The token the CLI sends, first found: `flag` (--token), $GRANARY_TOKEN, the repo's
// auth.token_file, the local stack's .granary/token (searched from the repo folder, then the
// working folder). With auth type none, only the first two. An empty value when there is none.
// NOT_FOUND or INVALID_ARGUMENT naming the file or variable, never the token, when one that is
// named cannot be read or does not hold a token.
absl::StatusOr<BearerToken> ResolveToken(const std::string& flag, const RepoConfig& repo);

// The text of a file holding a secret or a token, surrounding whitespace trimmed; `what`
// names it in errors ("token file", "secret file"), which never quote the contents.
absl::StatusOr<std::string> ReadCredentialFile(const std::string& path, const std::string& what);

}  // namespace granary::cli

#endif  // GRANARY_TOOLS_CLI_CREDENTIALS_H_
