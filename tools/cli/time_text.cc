#include "tools/cli/time_text.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace granary::cli {
namespace {

absl::Status Bad(absl::string_view text) {
  return absl::InvalidArgumentError(
      absl::StrCat("expected a time (", kTimeForms, "), found \"", text, "\""));
}

// "1d12h", "5m", "30s": whole units, each once at most in the order d h m s.
bool ParseOffset(absl::string_view text, absl::Duration* out) {
  static constexpr struct {
    char unit;
    absl::Duration size;
  } kUnits[] = {{'d', absl::Hours(24)},
                {'h', absl::Hours(1)},
                {'m', absl::Minutes(1)},
                {'s', absl::Seconds(1)}};
  *out = absl::ZeroDuration();
  size_t next_unit = 0;
  while (!text.empty()) {
    size_t digits = 0;
    while (digits < text.size() && absl::ascii_isdigit(text[digits])) ++digits;
    int64_t n = 0;
    if (digits == 0 || digits == text.size() || !absl::SimpleAtoi(text.substr(0, digits), &n)) {
      return false;
    }
    const char unit = text[digits];
    while (next_unit < 4 && kUnits[next_unit].unit != unit) ++next_unit;
    if (next_unit == 4) return false;
    *out += n * kUnits[next_unit++].size;
    text.remove_prefix(digits + 1);
  }
  return true;
}

}  // namespace

absl::StatusOr<absl::Time> ParseTimeText(absl::string_view text, absl::Time now, bool* used_now) {
  text = absl::StripAsciiWhitespace(text);
  int64_t seconds;
  if (absl::SimpleAtoi(text, &seconds)) return absl::FromUnixSeconds(seconds);
  if (absl::StartsWith(text, "now")) {
    absl::string_view rest = text.substr(3);
    absl::Duration offset;
    if (!rest.empty()) {
      if ((rest[0] != '-' && rest[0] != '+') || rest.size() < 3 ||
          !ParseOffset(rest.substr(1), &offset)) {
        return Bad(text);
      }
      if (rest[0] == '-') offset = -offset;
    }
    if (used_now != nullptr) *used_now = true;
    return now + offset;
  }
  absl::Time t;
  if (absl::ParseTime(absl::RFC3339_full, text, &t, nullptr) ||
      absl::ParseTime("%Y-%m-%d %H:%M:%E*S", text, absl::UTCTimeZone(), &t, nullptr)) {
    return t;
  }
  return Bad(text);
}

}  // namespace granary::cli
