#include "libs/base/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace granary::base {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
// Replaced, never freed: a reader may still hold the previous name (a few per process).
std::atomic<const std::string*> g_service{new std::string()};
std::function<void(absl::string_view)>* g_sink = nullptr;

bool NeedsQuotes(absl::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c == ' ' || c == '=' || c == '"' || static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

void AppendValue(std::string* out, absl::string_view v) {
  if (!NeedsQuotes(v)) {
    out->append(v.data(), v.size());
    return;
  }
  out->push_back('"');
  for (char c : v) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppend(out, "\\x", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

}  // namespace

absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view name) {
  std::string n = absl::AsciiStrToLower(name);
  if (n == "debug") return LogLevel::kDebug;
  if (n == "info") return LogLevel::kInfo;
  if (n == "warning" || n == "warn") return LogLevel::kWarning;
  if (n == "error") return LogLevel::kError;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown log level \"", name, "\" (want debug, info, warning or error)"));
}

absl::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }

void SetLogService(absl::string_view service) {
  g_service.store(new std::string(service), std::memory_order_release);
}

void SetLogSinkForTesting(std::function<void(absl::string_view)> sink) {
  delete g_sink;
  g_sink = sink ? new std::function<void(absl::string_view)>(std::move(sink)) : nullptr;
}

LogLine::LogLine(LogLevel level, absl::string_view msg)
    : enabled_(static_cast<int>(level) >= g_level.load(std::memory_order_relaxed)), level_(level) {
  if (!enabled_) return;
  line_.reserve(160);
  absl::StrAppend(&line_,
                  "ts=", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()),
                  " level=", LogLevelName(level_));
  const std::string& service = *g_service.load(std::memory_order_acquire);
  if (!service.empty()) absl::StrAppend(&line_, " service=", service);
  line_.append(" msg=");
  AppendValue(&line_, msg);
}

LogLine::~LogLine() {
  if (!enabled_) return;
  line_.push_back('\n');
  if (g_sink != nullptr) {
    (*g_sink)(line_);
    return;
  }
  // One write(2) per line: lines from concurrent threads stay whole.
  ssize_t ignored = ::write(STDERR_FILENO, line_.data(), line_.size());
  (void)ignored;
}

LogLine& LogLine::WithRaw(absl::string_view key, absl::string_view value) {
  if (!enabled_) return *this;
  line_.push_back(' ');
  line_.append(key.data(), key.size());
  line_.push_back('=');
  AppendValue(&line_, value);
  return *this;
}

LogLine& LogLine::With(absl::string_view key, absl::string_view value) {
  return WithRaw(key, value);
}

LogLine& LogLine::With(absl::string_view key, bool value) {
  return WithRaw(key, value ? "true" : "false");
}

LogLine& LogLine::With(absl::string_view key, double value) {
  return enabled_ ? WithRaw(key, absl::StrCat(value)) : *this;
}

LogLine& LogLine::With(absl::string_view key, absl::Duration value) {
  return enabled_ ? WithRaw(key, absl::FormatDuration(value)) : *this;
}

LogLine& LogLine::With(absl::string_view key, const absl::Status& status) {
  return enabled_ ? WithRaw(key, status.ToString()) : *this;
}

}  // namespace granary::base
