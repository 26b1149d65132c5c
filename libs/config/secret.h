// A secret (password, token, key) read from a file or an environment variable. It prints as
// "<redacted>" and has no logging overload, so it cannot leak into logs or error messages.
//
//   ASSIGN_OR_RETURN(Secret password, Secret::FromFile("/run/secrets/redis"));
//   redis.Auth(user, password.value());
#ifndef GRANARY_LIBS_CONFIG_SECRET_H_
#define GRANARY_LIBS_CONFIG_SECRET_H_

#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace granary::config {

class Secret {
 public:
  Secret() = default;

  // The file's contents without trailing newlines. NOT_FOUND / PERMISSION_DENIED when unreadable.
  static absl::StatusOr<Secret> FromFile(const std::string& path);
  // The variable's value. NOT_FOUND when unset.
  static absl::StatusOr<Secret> FromEnv(const std::string& name);
  // For tests and for values that arrive already secret (e.g. generated at start-up).
  static Secret FromValue(std::string value, std::string source = "value");

  const std::string& value() const { return value_; }
  bool empty() const { return value_.empty(); }
  // Where it came from ("file:/run/secrets/x", "env:REDIS_PASSWORD"): safe to print.
  const std::string& source() const { return source_; }

  friend std::ostream& operator<<(std::ostream& os, const Secret&) { return os << "<redacted>"; }

 private:
  Secret(std::string value, std::string source)
      : value_(std::move(value)), source_(std::move(source)) {}

  std::string value_;
  std::string source_;
};

}  // namespace granary::config

#endif  // GRANARY_LIBS_CONFIG_SECRET_H_
