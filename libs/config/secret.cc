#include "libs/config/secret.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace granary::config {

absl::StatusOr<Secret> Secret::FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    std::string msg = absl::StrCat("cannot read secret file ", path, ": ", std::strerror(err));
    if (err == EACCES) return absl::PermissionDeniedError(msg);
    return absl::NotFoundError(msg);
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  std::string value = contents.str();
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  return Secret(std::move(value), absl::StrCat("file:", path));
}

absl::StatusOr<Secret> Secret::FromEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) {
    return absl::NotFoundError(absl::StrCat("environment variable ", name, " is not set"));
  }
  return Secret(value, absl::StrCat("env:", name));
}

Secret Secret::FromValue(std::string value, std::string source) {
  return Secret(std::move(value), std::move(source));
}

}  // namespace granary::config
