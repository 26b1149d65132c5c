#include "tools/online_loader/value_text.h"

#include <cstdint>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace granary::online_loader {
namespace {

using types::v1::Value;
using types::v1::ValueType;

// Each list type's number is its element type's plus 10 (Feast's numbering).
constexpr int kListOffset = ValueType::BYTES_LIST - ValueType::BYTES;

// What a value of the type looks like, for messages: "an INT64 (a whole number)".
std::string Expected(ValueType::Enum type) {
  const std::string& name = ValueType::Enum_Name(type);
  switch (type) {
    case ValueType::INT32:
      return absl::StrCat("an ", name, " (a whole number between ",
                          std::numeric_limits<int32_t>::min(), " and ",
                          std::numeric_limits<int32_t>::max(), ")");
    case ValueType::INT64:
      return absl::StrCat("an ", name, " (a whole number)");
    case ValueType::FLOAT:
    case ValueType::DOUBLE:
      return absl::StrCat("a ", name, " (a number)");
    case ValueType::BOOL:
      return absl::StrCat("a ", name, " (true or false)");
    case ValueType::UNIX_TIMESTAMP:
      return absl::StrCat("a ", name,
                          " (seconds since 1970, or an RFC 3339 time such as "
                          "2024-05-01T12:00:00Z)");
    default:
      return absl::StrCat("a ", name);
  }
}

absl::Status Mismatch(ValueType::Enum type, absl::string_view text) {
  return absl::InvalidArgumentError(
      absl::StrCat("expected ", Expected(type), ", got \"", absl::CEscape(text), "\""));
}

bool ParseUnixSeconds(absl::string_view text, int64_t* seconds) {
  if (absl::SimpleAtoi(text, seconds)) return true;
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, std::string(text), &t, &error)) return false;
  *seconds = absl::ToUnixSeconds(t);
  return true;
}

// Appends a scalar Value of the list's element type to the list.
void Append(const Value& item, Value* list) {
  switch (item.val_case()) {
    case Value::kBytesVal:
      list->mutable_bytes_list_val()->add_val(item.bytes_val());
      break;
    case Value::kStringVal:
      list->mutable_string_list_val()->add_val(item.string_val());
      break;
    case Value::kInt32Val:
      list->mutable_int32_list_val()->add_val(item.int32_val());
      break;
    case Value::kInt64Val:
      list->mutable_int64_list_val()->add_val(item.int64_val());
      break;
    case Value::kDoubleVal:
      list->mutable_double_list_val()->add_val(item.double_val());
      break;
    case Value::kFloatVal:
      list->mutable_float_list_val()->add_val(item.float_val());
      break;
    case Value::kBoolVal:
      list->mutable_bool_list_val()->add_val(item.bool_val());
      break;
    case Value::kUnixTimestampVal:
      list->mutable_unix_timestamp_list_val()->add_val(item.unix_timestamp_val());
      break;
    default:
      break;
  }
}

// An empty list of the type (set, so that it is not read as a missing value).
void SetEmptyList(ValueType::Enum type, Value* list) {
  switch (type) {
    case ValueType::BYTES_LIST:
      list->mutable_bytes_list_val();
      break;
    case ValueType::STRING_LIST:
      list->mutable_string_list_val();
      break;
    case ValueType::INT32_LIST:
      list->mutable_int32_list_val();
      break;
    case ValueType::INT64_LIST:
      list->mutable_int64_list_val();
      break;
    case ValueType::DOUBLE_LIST:
      list->mutable_double_list_val();
      break;
    case ValueType::FLOAT_LIST:
      list->mutable_float_list_val();
      break;
    case ValueType::BOOL_LIST:
      list->mutable_bool_list_val();
      break;
    case ValueType::UNIX_TIMESTAMP_LIST:
      list->mutable_unix_timestamp_list_val();
      break;
    default:
      break;
  }
}

}  // namespace

bool IsListType(ValueType::Enum type) {
  return type >= ValueType::BYTES_LIST && type <= ValueType::UNIX_TIMESTAMP_LIST;
}

absl::StatusOr<Value> ParseValue(ValueType::Enum type, absl::string_view text) {
  Value v;
  switch (type) {
    case ValueType::BYTES:
      v.set_bytes_val(std::string(text));
      return v;
    case ValueType::STRING:
      v.set_string_val(std::string(text));
      return v;
    case ValueType::INT32: {
      int32_t i;
      if (!absl::SimpleAtoi(text, &i)) return Mismatch(type, text);
      v.set_int32_val(i);
      return v;
    }
    case ValueType::INT64: {
      int64_t i;
      if (!absl::SimpleAtoi(text, &i)) return Mismatch(type, text);
      v.set_int64_val(i);
      return v;
    }
    case ValueType::FLOAT: {
      float f;
      if (!absl::SimpleAtof(text, &f)) return Mismatch(type, text);
      v.set_float_val(f);
      return v;
    }
    case ValueType::DOUBLE: {
      double d;
      if (!absl::SimpleAtod(text, &d)) return Mismatch(type, text);
      v.set_double_val(d);
      return v;
    }
    case ValueType::BOOL: {
      // YAML's true/false only: "yes", "1" or "t" for a BOOL is more likely a mistake.
      std::string lower = absl::AsciiStrToLower(text);
      if (lower != "true" && lower != "false") return Mismatch(type, text);
      v.set_bool_val(lower == "true");
      return v;
    }
    case ValueType::UNIX_TIMESTAMP: {
      int64_t seconds;
      if (!ParseUnixSeconds(text, &seconds)) return Mismatch(type, text);
      v.set_unix_timestamp_val(seconds);
      return v;
    }
    default:
      break;
  }
  if (IsListType(type)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected ", Expected(type), ": a list such as [a, b], got \"", absl::CEscape(text), "\""));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("values of type ", ValueType::Enum_Name(type), " cannot be written"));
}

absl::StatusOr<Value> ParseListValue(ValueType::Enum type, const std::vector<std::string>& items) {
  if (!IsListType(type)) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected ", Expected(type), ", a single value, got a list"));
  }
  auto element = static_cast<ValueType::Enum>(type - kListOffset);
  Value list;
  SetEmptyList(type, &list);
  for (size_t i = 0; i < items.size(); ++i) {
    absl::StatusOr<Value> item = ParseValue(element, items[i]);
    if (!item.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("item ", i, ": ", item.status().message()));
    }
    Append(*item, &list);
  }
  return list;
}

}  // namespace granary::online_loader
