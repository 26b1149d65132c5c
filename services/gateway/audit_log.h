// One JSON line per decision the gateway makes: who, what, on which objects, allowed or not,
// how the call ended and how long it took. Never a token or a secret: only what
// authentication established (user, roles) is written.
//
//   {"time":"2026-12-06T21:00:00.123Z","user":"ana","roles":["reader"],
//    "method":"/granary.serving.v1.ServingService/GetOnlineFeatures",
//    "resources":["READ_ONLINE feature view 'driver_hourly_stats' in project 'driver_stats'"],
//    "decision":"allow","status":"OK","latency_ms":0.41,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736",
//    "request_id":"job-7"}
//
// trace_id is the OpenTelemetry trace the call belongs to (the caller's traceparent, or the
// trace the gateway started for it), the same id as in the services' spans and log lines;
// request_id is the caller's x-request-id, when it sent one.
#ifndef GRANARY_SERVICES_GATEWAY_AUDIT_LOG_H_
#define GRANARY_SERVICES_GATEWAY_AUDIT_LOG_H_

#include <cstdio>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

#include "libs/auth/identity.h"

namespace granary::gateway {

struct AuditEntry {
  absl::Time time;
  auth::Identity who;  // user empty: not authenticated
  std::string method;  // a gRPC path or "POST /push"
  std::vector<std::string> resources;
  // "allow", "deny" (authorization refused), "unauthenticated", "rate_limited", "invalid".
  std::string decision;
  std::string status;  // a gRPC code name or an HTTP status
  absl::Duration latency;
  std::string trace_id;
  std::string request_id;  // x-request-id, cut to 128 characters; not written when empty
};

std::string AuditLine(const AuditEntry& entry);

class AuditLog {
 public:
  // "stdout", "" (off) or a file path (appended to, created 0600).
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(const std::string& target);
  ~AuditLog();

  void Write(const AuditEntry& entry);

 private:
  explicit AuditLog(FILE* file, bool owned) : file_(file), owned_(owned) {}

  absl::Mutex mu_;
  FILE* file_ ABSL_GUARDED_BY(mu_);
  bool owned_;
};

}  // namespace granary::gateway

#endif  // GRANARY_SERVICES_GATEWAY_AUDIT_LOG_H_
