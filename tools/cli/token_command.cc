#include "tools/cli/token_command.h"

#include <cstdlib>
#include <iostream>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

#include "libs/auth/identity.h"
#include "libs/auth/jwt_authenticator.h"
#include "tools/cli/credentials.h"

namespace granary::cli {
namespace {

constexpr char kVerb[] = "token";

// "a,b" "c" -> {a, b, c}; false when an entry is empty ("a,,b").
bool SplitNames(const std::vector<std::string>& flags, std::vector<std::string>* names) {
  for (const std::string& flag : flags) {
    for (absl::string_view name : absl::StrSplit(flag, ',')) {
      name = absl::StripAsciiWhitespace(name);
      if (name.empty()) return false;
      names->emplace_back(name);
    }
  }
  return true;
}

// The secret's file: the flag, $GRANARY_JWT_SECRET_FILE, else the local stack's.
std::string SecretFile(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("GRANARY_JWT_SECRET_FILE"); env != nullptr && *env != '\0') {
    return env;
  }
  return FindStateFile("jwt.secret", {"."});
}

}  // namespace

int RunToken(const TokenOptions& options, CommandIo io) {
  auto fail = [&io](int code, absl::string_view message) {
    io.err << "granary " << kVerb << ": " << message << "\n";
    return code;
  };
  auth::Identity who{.user = std::string(absl::StripAsciiWhitespace(options.user))};
  if (who.user.empty()) return fail(kExitUsage, "--user: required, not empty");
  if (!SplitNames(options.roles, &who.roles)) return fail(kExitUsage, "--roles: an empty role");
  if (!SplitNames(options.groups, &who.groups)) {
    return fail(kExitUsage, "--groups: an empty group");
  }
  if (options.ttl <= absl::ZeroDuration()) return fail(kExitUsage, "--ttl: must be positive");
  const std::string file = SecretFile(options.secret_file);
  if (file.empty()) {
    return fail(kExitFailure,
                "no .granary/jwt.secret here or above (tools/dev up writes it); pass "
                "--secret-file or set $GRANARY_JWT_SECRET_FILE");
  }
  absl::StatusOr<std::string> secret = ReadCredentialFile(file, "secret file");
  if (!secret.ok()) return fail(kExitFailure, secret.status().message());
  absl::StatusOr<std::string> token = auth::MintHs256Token(*secret, who, options.now, options.ttl,
                                                           kDevTokenIssuer, kDevTokenAudience);
  if (!token.ok()) {
    // The message says what is wrong with the secret (its length), never what it holds.
    return fail(kExitFailure, absl::StrCat(file, ": ", token.status().message()));
  }
  io.out << *token << "\n";
  return 0;
}

void AddTokenCommand(CLI::App& app, int* exit_code) {
  struct State {
    TokenOptions options;
    std::string ttl = "1h";
  };
  auto s = std::make_shared<State>();
  CLI::App* cmd = app.add_subcommand(
      "token", "Print a development token (HS256, from the local stack's secret) for the gateway");
  cmd->add_option("--user,-u", s->options.user, "Who the token is for")->required();
  cmd->add_option("--roles", s->options.roles,
                  "Roles, comma-separated (the example's permissions: reader, writer)");
  cmd->add_option("--groups", s->options.groups, "Groups, comma-separated");
  cmd->add_option("--ttl", s->ttl, "How long it is valid (default 1h)");
  cmd->add_option("--secret-file", s->options.secret_file,
                  "The HS256 secret (default: $GRANARY_JWT_SECRET_FILE, else .granary/jwt.secret "
                  "here or above)");
  cmd->callback([s, exit_code] {
    if (!absl::ParseDuration(s->ttl, &s->options.ttl)) {
      return void(*exit_code = Usage(kVerb, "--ttl: expected a duration such as 1h or 30m"));
    }
    s->options.now = absl::Now();
    *exit_code = RunToken(s->options, {std::cout, std::cerr, false});
  });
}

}  // namespace granary::cli
