// Structured one-line logs (logfmt), written to stderr with one write per line so that lines
// from many threads never interleave.
//
//   LogInfo("listening").With("grpc", "127.0.0.1:6571").With("metrics", 9571);
//   // ts=2026-11-21T11:42:00.123Z level=info service=serving msg=listening grpc=127.0.0.1:6571 ...
//
// The line is written when the temporary LogLine is destroyed, at the end of the statement.
// There is deliberately no overload for config::Secret: secrets cannot be logged by accident.
#ifndef GRANARY_LIBS_BASE_LOG_H_
#define GRANARY_LIBS_BASE_LOG_H_

#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace granary::base {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// "debug", "info", "warning" (or "warn"), "error".
absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view name);
absl::string_view LogLevelName(LogLevel level);

// Process-wide settings. Logging itself takes no lock: the level and the service name are
// read atomically (set them at start-up, as RunService does).
void SetLogLevel(LogLevel level);
void SetLogService(absl::string_view service);
// Replaces stderr as the destination of finished lines (tests), or restores stderr (nullptr).
// Not to be called while other threads log.
void SetLogSinkForTesting(std::function<void(absl::string_view line)> sink);

class LogLine {
 public:
  LogLine(LogLevel level, absl::string_view msg);
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;
  ~LogLine();

  LogLine& With(absl::string_view key, absl::string_view value);
  LogLine& With(absl::string_view key, const char* value) {
    return With(key, absl::string_view(value));
  }
  LogLine& With(absl::string_view key, const std::string& value) {
    return With(key, absl::string_view(value));
  }
  LogLine& With(absl::string_view key, bool value);
  LogLine& With(absl::string_view key, double value);
  LogLine& With(absl::string_view key, absl::Duration value);
  LogLine& With(absl::string_view key, const absl::Status& status);
  template <typename T,
            typename = std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>>
  LogLine& With(absl::string_view key, T value) {
    return WithRaw(key, std::to_string(value));
  }

 private:
  LogLine& WithRaw(absl::string_view key, absl::string_view value);

  bool enabled_;
  LogLevel level_;
  std::string line_;
};

inline LogLine LogDebug(absl::string_view msg) { return LogLine(LogLevel::kDebug, msg); }
inline LogLine LogInfo(absl::string_view msg) { return LogLine(LogLevel::kInfo, msg); }
inline LogLine LogWarning(absl::string_view msg) { return LogLine(LogLevel::kWarning, msg); }
inline LogLine LogError(absl::string_view msg) { return LogLine(LogLevel::kError, msg); }

}  // namespace granary::base

#endif  // GRANARY_LIBS_BASE_LOG_H_
