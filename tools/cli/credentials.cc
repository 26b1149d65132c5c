#include "tools/cli/credentials.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

#include "libs/base/status_macros.h"

namespace granary::cli {
namespace {

namespace fs = std::filesystem;

constexpr char kStateDir[] = ".granary";
constexpr char kTokenFile[] = "token";
constexpr char kTokenEnv[] = "GRANARY_TOKEN";

// A header value carries visible ASCII only; a token with anything else (a pasted line break,
// say) would make every call fail far from its cause.
absl::Status CheckToken(const std::string& token, const std::string& source) {
  for (char c : token) {
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the token from ", source, " holds characters an authorization header cannot carry"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<BearerToken> FromFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string value, ReadCredentialFile(path, "token file"));
  if (value.empty())
    return absl::InvalidArgumentError(absl::StrCat("token file ", path, " is empty"));
  RETURN_IF_ERROR(CheckToken(value, path));
  return BearerToken{.value = std::move(value), .source = path};
}

}  // namespace

std::string FindStateFile(const std::string& name, const std::vector<std::string>& dirs) {
  if (const char* home = std::getenv("GRANARY_HOME"); home != nullptr && *home != '\0') {
    fs::path p = fs::path(home) / name;
    return fs::exists(p) ? p.string() : "";
  }
  std::error_code ec;
  for (const std::string& dir : dirs) {
    fs::path at = fs::absolute(dir.empty() ? "." : dir, ec).lexically_normal();
    if (ec) continue;
    if (!at.has_filename()) at = at.parent_path();  // "/a/b/" -> "/a/b"
    while (true) {
      fs::path candidate = at / kStateDir / name;
      if (fs::is_regular_file(candidate, ec)) return candidate.string();
      if (!at.has_relative_path()) break;  // the root
      at = at.parent_path();
    }
  }
  return "";
}

absl::StatusOr<std::string> ReadCredentialFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!fs::exists(path)) return absl::NotFoundError(absl::StrCat("no ", what, " at ", path));
    return absl::PermissionDeniedError(absl::StrCat("cannot read ", what, " ", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  return std::string(absl::StripAsciiWhitespace(text.str()));
}

absl::StatusOr<BearerToken> ResolveToken(const std::string& flag, const RepoConfig& repo) {
  if (!flag.empty()) {
    RETURN_IF_ERROR(CheckToken(flag, "--token"));
    return BearerToken{.value = flag, .source = "--token"};
  }
  if (const char* env = std::getenv(kTokenEnv); env != nullptr && *env != '\0') {
    std::string value(absl::StripAsciiWhitespace(env));
    std::string source = absl::StrCat("$", kTokenEnv);
    RETURN_IF_ERROR(CheckToken(value, source));
    return BearerToken{.value = std::move(value), .source = std::move(source)};
  }
  if (repo.auth_type == "none") return BearerToken{};
  if (!repo.token_file.empty()) return FromFile(repo.token_file);
  std::string local = FindStateFile(kTokenFile, {repo.dir, "."});
  if (!local.empty()) return FromFile(local);
  return BearerToken{};
}

}  // namespace granary::cli
