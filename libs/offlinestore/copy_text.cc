#include "libs/offlinestore/copy_text.h"

#include <cmath>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace granary::offlinestore {
namespace {

using types::v1::Value;

std::string Float(double v, int digits) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return absl::StrFormat("%.*g", digits, v);
}

// An array element: quoted, with quotes and backslashes escaped.
std::string Quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

template <typename List, typename F>
std::string Array(const List& list, F element) {
  std::vector<std::string> parts;
  parts.reserve(list.val_size());
  for (const auto& v : list.val()) parts.push_back(element(v));
  return absl::StrCat("{", absl::StrJoin(parts, ","), "}");
}

std::string Bytea(const std::string& b) { return absl::StrCat("\\x", absl::BytesToHexString(b)); }

}  // namespace

std::string PgTimestamp(absl::Time t) {
  // Four digits always: PostgreSQL reads a year of one or two digits as one near 2000.
  return absl::FormatTime("%E4Y-%m-%d %H:%M:%E6S+00", t, absl::UTCTimeZone());
}

std::optional<std::string> PgText(const Value& v) {
  auto num = [](auto x) { return absl::StrCat(x); };
  switch (v.val_case()) {
    case Value::VAL_NOT_SET:
    case Value::kNullVal:
      return std::nullopt;
    case Value::kBytesVal:
      return Bytea(v.bytes_val());
    case Value::kStringVal:
      return v.string_val();
    case Value::kInt32Val:
      return absl::StrCat(v.int32_val());
    case Value::kInt64Val:
      return absl::StrCat(v.int64_val());
    case Value::kDoubleVal:
      return Float(v.double_val(), 17);
    case Value::kFloatVal:
      return Float(v.float_val(), 9);
    case Value::kBoolVal:
      return v.bool_val() ? "t" : "f";
    case Value::kUnixTimestampVal:
      return PgTimestamp(absl::FromUnixSeconds(v.unix_timestamp_val()));
    case Value::kBytesListVal:
      return Array(v.bytes_list_val(), [](const std::string& b) { return Quoted(Bytea(b)); });
    case Value::kStringListVal:
      return Array(v.string_list_val(), Quoted);
    case Value::kInt32ListVal:
      return Array(v.int32_list_val(), num);
    case Value::kInt64ListVal:
      return Array(v.int64_list_val(), num);
    case Value::kDoubleListVal:
      return Array(v.double_list_val(), [](double d) { return Float(d, 17); });
    case Value::kFloatListVal:
      return Array(v.float_list_val(), [](float f) { return Float(f, 9); });
    case Value::kBoolListVal:
      return Array(v.bool_list_val(), [](bool b) { return std::string(b ? "t" : "f"); });
    case Value::kUnixTimestampListVal:
      return Array(v.unix_timestamp_list_val(),
                   [](int64_t s) { return Quoted(PgTimestamp(absl::FromUnixSeconds(s))); });
  }
  return std::nullopt;
}

void AppendCopyField(const std::optional<std::string>& text, std::string* line) {
  if (!text.has_value()) {
    *line += "\\N";
    return;
  }
  for (char c : *text) {
    switch (c) {
      case '\\':
        *line += "\\\\";
        break;
      case '\t':
        *line += "\\t";
        break;
      case '\n':
        *line += "\\n";
        break;
      case '\r':
        *line += "\\r";
        break;
      default:
        *line += c;
    }
  }
}

}  // namespace granary::offlinestore
