#include "services/gateway/audit_log.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace granary::gateway {

std::string AuditLine(const AuditEntry& entry) {
  nlohmann::json line = {
      {"time", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", entry.time, absl::UTCTimeZone())},
      {"user", entry.who.user},
      {"roles", entry.who.roles},
      {"groups", entry.who.groups},
      {"method", entry.method},
      {"resources", entry.resources},
      {"decision", entry.decision},
      {"status", entry.status},
      {"latency_ms", absl::ToDoubleMilliseconds(entry.latency)},
      {"trace_id", entry.trace_id}};
  if (!entry.request_id.empty()) line["request_id"] = entry.request_id;
  // Invalid UTF-8 (a user name from a token) is replaced, never a reason to drop the line.
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& target) {
  if (target.empty()) return std::unique_ptr<AuditLog>();
  if (target == "stdout") return std::unique_ptr<AuditLog>(new AuditLog(stdout, false));
  int fd = open(target.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("audit.path: cannot open ", target, ": ", std::strerror(errno)));
  }
  FILE* file = fdopen(fd, "a");
  return std::unique_ptr<AuditLog>(new AuditLog(file, true));
}

AuditLog::~AuditLog() {
  absl::MutexLock lock(&mu_);
  if (owned_) fclose(file_);
}

void AuditLog::Write(const AuditEntry& entry) {
  std::string line = AuditLine(entry);
  line.push_back('\n');
  absl::MutexLock lock(&mu_);
  fwrite(line.data(), 1, line.size(), file_);
  // A line is whole in the file as soon as the call ends: a crash loses no decision.
  fflush(file_);
}

}  // namespace granary::gateway
