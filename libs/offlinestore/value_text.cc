#include "libs/offlinestore/value_text.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#include "libs/base/status_macros.h"

namespace granary::offlinestore {
namespace {

using types::v1::Value;
using types::v1::ValueType;

absl::Status Bad(ValueType::Enum type, absl::string_view text, absl::string_view why = "") {
  return absl::InvalidArgumentError(absl::StrCat(
      "not a ", ValueType::Enum_Name(type), ": \"", absl::CHexEscape(text.substr(0, 64)), "\"",
      why.empty() ? "" : " (", why, why.empty() ? "" : ")"));
}

// The elements of a one-dimensional array literal ({a,"b c",NULL}); NULL elements refused.
absl::StatusOr<std::vector<std::string>> ArrayElements(absl::string_view text,
                                                       ValueType::Enum type) {
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') return Bad(type, text);
  text = text.substr(1, text.size() - 2);
  std::vector<std::string> out;
  if (text.empty()) return out;
  size_t i = 0;
  while (true) {
    std::string element;
    if (i < text.size() && text[i] == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        element += text[i];
      }
      if (i >= text.size()) return Bad(type, text, "unterminated quote");
      ++i;  // the closing quote
    } else {
      const size_t end = std::min(text.find(',', i), text.size());
      element = std::string(text.substr(i, end - i));
      if (element == "NULL") return Bad(type, text, "a list cannot hold a NULL element");
      if (element.find('{') != std::string::npos) return Bad(type, text, "not one-dimensional");
      i = end;
    }
    out.push_back(std::move(element));
    if (i == text.size()) return out;
    if (text[i] != ',') return Bad(type, text);
    ++i;
  }
}

absl::StatusOr<bool> Bool(absl::string_view s, ValueType::Enum type) {
  if (s == "t") return true;
  if (s == "f") return false;
  return Bad(type, s);
}

absl::StatusOr<int64_t> Int(absl::string_view s, ValueType::Enum type) {
  int64_t v = 0;
  if (!absl::SimpleAtoi(s, &v)) return Bad(type, s);
  return v;
}

absl::StatusOr<int32_t> Int32(absl::string_view s, ValueType::Enum type) {
  int32_t v = 0;
  if (!absl::SimpleAtoi(s, &v)) return Bad(type, s);
  return v;
}

absl::StatusOr<double> Double(absl::string_view s, ValueType::Enum type) {
  // Locale-free; reads PostgreSQL's NaN, Infinity and -Infinity too.
  double v = 0;
  if (s.empty() || absl::ascii_isspace(static_cast<unsigned char>(s.front())) ||
      !absl::SimpleAtod(s, &v)) {
    return Bad(type, s);
  }
  return v;
}

absl::StatusOr<std::string> Bytes(absl::string_view s, ValueType::Enum type) {
  if (s.size() < 2 || s.substr(0, 2) != "\\x" || s.size() % 2 != 0) return Bad(type, s);
  for (char c : s.substr(2)) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return Bad(type, s);
  }
  return absl::HexStringToBytes(s.substr(2));
}

template <typename List, typename Parse>
absl::Status FillList(absl::string_view text, ValueType::Enum type, List* list, Parse parse) {
  ASSIGN_OR_RETURN(std::vector<std::string> elements, ArrayElements(text, type));
  for (const std::string& e : elements) {
    ASSIGN_OR_RETURN(auto v, parse(e, type));
    list->add_val(v);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> FeatureExpression(absl::string_view column, ValueType::Enum type) {
  switch (type) {
    case ValueType::UNIX_TIMESTAMP:
      return absl::StrCat("floor(extract(epoch FROM ", column, "))::bigint");
    case ValueType::UNIX_TIMESTAMP_LIST:
      // In order; a NULL list stays NULL (ARRAY() of nothing would be empty).
      return absl::StrCat("CASE WHEN ", column,
                          " IS NULL THEN NULL ELSE ARRAY(SELECT "
                          "floor(extract(epoch FROM u.e))::bigint FROM unnest(",
                          column, ") WITH ORDINALITY u(e, n) ORDER BY u.n) END");
    case ValueType::BYTES:
    case ValueType::BYTES_LIST:
      // Hex whatever the session's bytea_output says.
      if (type == ValueType::BYTES) {
        return absl::StrCat("'\\x' || encode(", column, ", 'hex')");
      }
      return absl::StrCat("CASE WHEN ", column,
                          " IS NULL THEN NULL ELSE ARRAY(SELECT "
                          "'\\x' || encode(u.e, 'hex') FROM unnest(",
                          column, ") WITH ORDINALITY u(e, n) ORDER BY u.n) END");
    case ValueType::INVALID:
    case ValueType::NULL_:
      return absl::InvalidArgumentError(
          absl::StrCat("no offline column holds values of type ", ValueType::Enum_Name(type)));
    default:
      return std::string(column);
  }
}

absl::StatusOr<Value> ParseFeatureText(const std::optional<std::string>& text,
                                       ValueType::Enum type) {
  Value v;
  if (!text.has_value()) {
    v.set_null_val(types::v1::NULL_);
    return v;
  }
  const std::string& s = *text;
  switch (type) {
    case ValueType::BYTES: {
      ASSIGN_OR_RETURN(*v.mutable_bytes_val(), Bytes(s, type));
      return v;
    }
    case ValueType::STRING:
      v.set_string_val(s);
      return v;
    case ValueType::INT32: {
      ASSIGN_OR_RETURN(int32_t i, Int32(s, type));
      v.set_int32_val(i);
      return v;
    }
    case ValueType::INT64: {
      ASSIGN_OR_RETURN(int64_t i, Int(s, type));
      v.set_int64_val(i);
      return v;
    }
    case ValueType::UNIX_TIMESTAMP: {
      ASSIGN_OR_RETURN(int64_t i, Int(s, type));
      v.set_unix_timestamp_val(i);
      return v;
    }
    case ValueType::DOUBLE: {
      ASSIGN_OR_RETURN(double d, Double(s, type));
      v.set_double_val(d);
      return v;
    }
    case ValueType::FLOAT: {
      ASSIGN_OR_RETURN(double d, Double(s, type));
      v.set_float_val(static_cast<float>(d));
      return v;
    }
    case ValueType::BOOL: {
      ASSIGN_OR_RETURN(bool b, Bool(s, type));
      v.set_bool_val(b);
      return v;
    }
    case ValueType::BYTES_LIST:
      RETURN_IF_ERROR(FillList(s, type, v.mutable_bytes_list_val(), Bytes));
      return v;
    case ValueType::STRING_LIST:
      RETURN_IF_ERROR(FillList(
          s, type, v.mutable_string_list_val(),
          [](const std::string& e, ValueType::Enum) { return absl::StatusOr<std::string>(e); }));
      return v;
    case ValueType::INT32_LIST:
      RETURN_IF_ERROR(FillList(s, type, v.mutable_int32_list_val(), Int32));
      return v;
    case ValueType::INT64_LIST:
      RETURN_IF_ERROR(FillList(s, type, v.mutable_int64_list_val(), Int));
      return v;
    case ValueType::UNIX_TIMESTAMP_LIST:
      RETURN_IF_ERROR(FillList(s, type, v.mutable_unix_timestamp_list_val(), Int));
      return v;
    case ValueType::DOUBLE_LIST:
      RETURN_IF_ERROR(FillList(s, type, v.mutable_double_list_val(), Double));
      return v;
    case ValueType::FLOAT_LIST:
      RETURN_IF_ERROR(
          FillList(s, type, v.mutable_float_list_val(),
                   [](const std::string& e, ValueType::Enum t) -> absl::StatusOr<float> {
                     ASSIGN_OR_RETURN(double d, Double(e, t));
                     return static_cast<float>(d);
                   }));
      return v;
    case ValueType::BOOL_LIST:
      RETURN_IF_ERROR(FillList(s, type, v.mutable_bool_list_val(), Bool));
      return v;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("no offline column holds values of type ", ValueType::Enum_Name(type)));
  }
}

}  // namespace granary::offlinestore
