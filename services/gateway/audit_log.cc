#include "services/gateway/audit_log.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

#include "libs/feast_json/json_writer.h"

namespace granary::gateway {

namespace {

void AppendKey(const char* key, std::string* out) {
  if (out->size() > 1) *out += ',';
  *out += '"';
  *out += key;
  *out += "\":";
}

void AppendField(const char* key, absl::string_view value, std::string* out) {
  AppendKey(key, out);
  feast_json::AppendJsonString(value, out);
}

void AppendList(const char* key, const std::vector<std::string>& values, std::string* out) {
  AppendKey(key, out);
  feast_json::AppendJsonArray(values, feast_json::AppendJsonString, out);
}

}  // namespace

// Written as text, not built as a JSON tree: one line per call, on every call's path.
// Ill-formed UTF-8 (a user name from a token) is replaced, never a reason to drop the line.
std::string AuditLine(const AuditEntry& entry) {
  std::string out = "{";
  out.reserve(384);
  AppendField("time", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", entry.time, absl::UTCTimeZone()),
              &out);
  AppendField("user", entry.who.user, &out);
  AppendList("roles", entry.who.roles, &out);
  AppendList("groups", entry.who.groups, &out);
  AppendField("method", entry.method, &out);
  AppendList("resources", entry.resources, &out);
  AppendField("decision", entry.decision, &out);
  AppendField("status", entry.status, &out);
  AppendKey("latency_ms", &out);
  feast_json::AppendJsonDouble(absl::ToDoubleMilliseconds(entry.latency), &out);
  AppendField("trace_id", entry.trace_id, &out);
  if (!entry.request_id.empty()) AppendField("request_id", entry.request_id, &out);
  out += '}';
  return out;
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
