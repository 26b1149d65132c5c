#include "libs/feast_json/json_writer.h"

#include <charconv>
#include <cmath>
#include <cstddef>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"

#include "libs/feast_json/utf8.h"

namespace granary::feast_json {
namespace {

// Characters a JSON string can hold as they are: printable ASCII but the quote and backslash.
bool Plain(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

void AppendEscaped(unsigned char c, std::string* out) {
  switch (c) {
    case '"':
      *out += "\\\"";
      return;
    case '\\':
      *out += "\\\\";
      return;
    case '\b':
      *out += "\\b";
      return;
    case '\f':
      *out += "\\f";
      return;
    case '\n':
      *out += "\\n";
      return;
    case '\r':
      *out += "\\r";
      return;
    case '\t':
      *out += "\\t";
      return;
    default: {
      constexpr char kHex[] = "0123456789abcdef";
      const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out->append(escaped, sizeof(escaped));
    }
  }
}

// The shortest digits that read back as `value`, laid out as Python's repr lays out a float
// (Feast's feature server is Python): fixed notation for decimal exponents from -4 to 15
// ("100000.0", "0.0001", always with a fraction), scientific beyond ("1e+16", "1.5e-05").
template <typename T>
void AppendShortest(T value, std::string* out) {
  char buffer[48];
  const std::to_chars_result written =
      std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::scientific);
  const absl::string_view text(buffer, written.ptr - buffer);  // [-]d[.ddd]e(+|-)dd[d]
  const size_t e = text.find('e');
  int exponent = 0;
  for (size_t i = e + 2; i < text.size(); ++i) exponent = exponent * 10 + (text[i] - '0');
  if (text[e + 1] == '-') exponent = -exponent;
  if (exponent < -4 || exponent >= 16) {
    out->append(text.data(), text.size());
    return;
  }
  // At most 17 significant digits: on the stack, not in a string that would allocate.
  char digit_buffer[24];
  size_t count = 0;
  for (char c : text.substr(0, e)) {
    if (c == '-') {
      *out += '-';
    } else if (c != '.') {
      digit_buffer[count++] = c;
    }
  }
  const absl::string_view digits(digit_buffer, count);
  if (exponent < 0) {
    *out += "0.";
    out->append(static_cast<size_t>(-exponent - 1), '0');
    out->append(digits.data(), digits.size());
    return;
  }
  const size_t whole = static_cast<size_t>(exponent) + 1;
  if (digits.size() <= whole) {
    out->append(digits.data(), digits.size());
    out->append(whole - digits.size(), '0');
    *out += ".0";
  } else {
    out->append(digits.data(), whole);
    *out += '.';
    out->append(digits.data() + whole, digits.size() - whole);
  }
}

bool AppendNonFinite(double value, std::string* out) {
  if (std::isnan(value)) {
    *out += "\"NaN\"";
  } else if (std::isinf(value)) {
    *out += value > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else {
    return false;
  }
  return true;
}

// `value` as `width` digits, zero-padded; 0 <= value < 10^width.
void AppendDigits(int64_t value, int width, std::string* out) {
  char digits[20];
  for (int i = width - 1; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out->append(digits, width);
}

}  // namespace

void AppendJsonString(absl::string_view text, std::string* out) {
  *out += '"';
  size_t i = 0;
  while (i < text.size()) {
    size_t run = i;
    while (run < text.size() && Plain(static_cast<unsigned char>(text[run]))) ++run;
    out->append(text.data() + i, run - i);
    i = run;
    if (i == text.size()) break;
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      AppendEscaped(c, out);
      ++i;
      continue;
    }
    const size_t length = Utf8SequenceLength(text, i);
    if (length == 0) {
      *out += kUtf8Replacement;
      ++i;
    } else {
      out->append(text.data() + i, length);
      i += length;
    }
  }
  *out += '"';
}

void AppendJsonInt(int64_t value, std::string* out) { absl::StrAppend(out, value); }

void AppendJsonDouble(double value, std::string* out) {
  if (AppendNonFinite(value, out)) return;
  AppendShortest(value, out);
}

void AppendJsonFloat(float value, std::string* out) {
  if (AppendNonFinite(value, out)) return;
  AppendShortest(value, out);
}

void AppendJsonTime(absl::Time time, std::string* out) {
  const absl::CivilSecond civil = absl::ToCivilSecond(time, absl::UTCTimeZone());
  if (civil.year() < 0 || civil.year() > 9999) {
    // Past what four digits hold (and the infinite times): absl's own words for them.
    absl::StrAppend(out, "\"",
                    absl::FormatTime("%E4Y-%m-%dT%H:%M:%E*SZ", time, absl::UTCTimeZone()), "\"");
    return;
  }
  *out += '"';
  AppendDigits(civil.year(), 4, out);
  *out += '-';
  AppendDigits(civil.month(), 2, out);
  *out += '-';
  AppendDigits(civil.day(), 2, out);
  *out += 'T';
  AppendDigits(civil.hour(), 2, out);
  *out += ':';
  AppendDigits(civil.minute(), 2, out);
  *out += ':';
  AppendDigits(civil.second(), 2, out);
  int64_t nanos = absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(absl::ToUnixSeconds(time)));
  if (nanos > 0) {
    int width = 9;
    while (nanos % 10 == 0) {
      nanos /= 10;
      --width;
    }
    *out += '.';
    AppendDigits(nanos, width, out);
  }
  *out += "Z\"";
}

}  // namespace granary::feast_json
