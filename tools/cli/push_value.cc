#include "tools/cli/push_value.h"

#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#include "tools/cli/time_text.h"

namespace granary::cli {
namespace {

using types::v1::Value;
using types::v1::ValueType;

constexpr int kListOffset = ValueType::BYTES_LIST - ValueType::BYTES;  // FLOAT_LIST = FLOAT + 10

bool IsList(ValueType::Enum type) {
  return type >= ValueType::BYTES_LIST && type <= ValueType::UNIX_TIMESTAMP_LIST;
}

// What a type takes, for "expected ..., found ..." messages.
std::string Expected(ValueType::Enum type) {
  switch (type) {
    case ValueType::INT32:
    case ValueType::INT64:
      return absl::StrCat("an ", ValueType::Enum_Name(type), " integer");
    case ValueType::FLOAT:
    case ValueType::DOUBLE:
      return absl::StrCat("a ", ValueType::Enum_Name(type), " number");
    case ValueType::BOOL:
      return "a BOOL (true or false)";
    case ValueType::UNIX_TIMESTAMP:
      return absl::StrCat("a timestamp (", kTimeForms, ")");
    default:
      return IsList(type) ? absl::StrCat("a list (", ValueType::Enum_Name(type), ")") : "a string";
  }
}

std::string Shown(absl::string_view text) {
  constexpr size_t kMax = 40;
  if (text.size() <= kMax) return absl::StrCat("\"", text, "\"");
  return absl::StrCat("\"", text.substr(0, kMax), "...\"");
}

absl::Status Mismatch(ValueType::Enum type, const std::string& found) {
  return absl::InvalidArgumentError(absl::StrCat("expected ", Expected(type), ", found ", found));
}

std::string DescribeJson(const nlohmann::json& j) {
  if (j.is_string()) return absl::StrCat("a string (", Shown(j.get_ref<const std::string&>()), ")");
  if (j.is_boolean()) return absl::StrCat("a bool (", j.dump(), ")");
  if (j.is_number()) return absl::StrCat("a number (", j.dump(), ")");
  if (j.is_array()) return absl::StrCat("a list of ", j.size(), " values");
  return "an object";
}

// Appends a scalar to the matching list of `list`.
void Append(const Value& scalar, Value& list) {
  switch (scalar.val_case()) {
    case Value::kBytesVal:
      list.mutable_bytes_list_val()->add_val(scalar.bytes_val());
      break;
    case Value::kStringVal:
      list.mutable_string_list_val()->add_val(scalar.string_val());
      break;
    case Value::kInt32Val:
      list.mutable_int32_list_val()->add_val(scalar.int32_val());
      break;
    case Value::kInt64Val:
      list.mutable_int64_list_val()->add_val(scalar.int64_val());
      break;
    case Value::kDoubleVal:
      list.mutable_double_list_val()->add_val(scalar.double_val());
      break;
    case Value::kFloatVal:
      list.mutable_float_list_val()->add_val(scalar.float_val());
      break;
    case Value::kBoolVal:
      list.mutable_bool_list_val()->add_val(scalar.bool_val());
      break;
    case Value::kUnixTimestampVal:
      list.mutable_unix_timestamp_list_val()->add_val(scalar.unix_timestamp_val());
      break;
    default:
      break;
  }
}

// An empty list of `type`, so that [] keeps its type.
void SetEmptyList(ValueType::Enum type, Value& list) {
  const auto* field = Value::descriptor()->FindFieldByNumber(type);
  if (field != nullptr) list.GetReflection()->MutableMessage(&list, field);
}

}  // namespace

absl::StatusOr<int64_t> ParseTimestamp(absl::string_view text, CellContext& cx) {
  bool used_now = false;
  absl::StatusOr<absl::Time> t = ParseTimeText(text, cx.now, &used_now);
  if (!t.ok()) return Mismatch(ValueType::UNIX_TIMESTAMP, Shown(text));
  cx.used_now = cx.used_now || used_now;
  return absl::ToUnixSeconds(*t);
}

absl::StatusOr<Value> TextValue(absl::string_view text, ValueType::Enum type, CellContext& cx) {
  Value v;
  bool ok = true;
  switch (type) {
    case ValueType::BYTES:
      v.set_bytes_val(std::string(text));
      break;
    case ValueType::INT32: {
      int32_t n;
      ok = absl::SimpleAtoi(text, &n);
      v.set_int32_val(n);
      break;
    }
    case ValueType::INT64: {
      int64_t n;
      ok = absl::SimpleAtoi(text, &n);
      v.set_int64_val(n);
      break;
    }
    case ValueType::FLOAT: {
      float f;
      ok = absl::SimpleAtof(text, &f);
      v.set_float_val(f);
      break;
    }
    case ValueType::DOUBLE: {
      double d;
      ok = absl::SimpleAtod(text, &d);
      v.set_double_val(d);
      break;
    }
    case ValueType::BOOL: {
      bool b;
      ok = absl::SimpleAtob(text, &b);
      v.set_bool_val(b);
      break;
    }
    case ValueType::UNIX_TIMESTAMP: {
      absl::StatusOr<int64_t> seconds = ParseTimestamp(text, cx);
      if (!seconds.ok()) return seconds.status();
      v.set_unix_timestamp_val(*seconds);
      break;
    }
    default:
      if (IsList(type)) {
        return absl::InvalidArgumentError(absl::StrCat("a ", ValueType::Enum_Name(type),
                                                       " column cannot be read from CSV text; "
                                                       "push a JSON file with lists"));
      }
      v.set_string_val(std::string(text));
  }
  if (!ok) return Mismatch(type, Shown(text));
  return v;
}

absl::StatusOr<Value> JsonValue(const nlohmann::json& cell, ValueType::Enum type, CellContext& cx) {
  Value v;
  if (cell.is_null()) {
    v.set_null_val(types::v1::NULL_);
    return v;
  }
  if (cell.is_string()) return TextValue(cell.get_ref<const std::string&>(), type, cx);
  if (IsList(type)) {
    if (!cell.is_array()) return Mismatch(type, DescribeJson(cell));
    auto scalar = static_cast<ValueType::Enum>(type - kListOffset);
    SetEmptyList(type, v);
    for (const nlohmann::json& item : cell) {
      if (item.is_null() || item.is_array()) return Mismatch(scalar, DescribeJson(item));
      absl::StatusOr<Value> element = JsonValue(item, scalar, cx);
      if (!element.ok()) return element.status();
      Append(*element, v);
    }
    return v;
  }
  if (cell.is_boolean() && type == ValueType::BOOL) {
    v.set_bool_val(cell.get<bool>());
    return v;
  }
  if (cell.is_number_integer() &&
      !(cell.is_number_unsigned() && cell.get<uint64_t>() > std::numeric_limits<int64_t>::max())) {
    const int64_t n = cell.get<int64_t>();
    switch (type) {
      case ValueType::INT32:
        if (n < std::numeric_limits<int32_t>::min() || n > std::numeric_limits<int32_t>::max()) {
          return Mismatch(type, DescribeJson(cell));
        }
        v.set_int32_val(static_cast<int32_t>(n));
        return v;
      case ValueType::INT64:
        v.set_int64_val(n);
        return v;
      case ValueType::UNIX_TIMESTAMP:
        v.set_unix_timestamp_val(n);
        return v;
      default:
        break;
    }
  }
  if (cell.is_number() && (type == ValueType::FLOAT || type == ValueType::DOUBLE)) {
    if (type == ValueType::FLOAT) {
      v.set_float_val(cell.get<float>());
    } else {
      v.set_double_val(cell.get<double>());
    }
    return v;
  }
  return Mismatch(type, DescribeJson(cell));
}

namespace {

constexpr ValueType::Enum kGuesses[] = {ValueType::INT64, ValueType::DOUBLE, ValueType::BOOL,
                                        ValueType::UNIX_TIMESTAMP};

template <typename Cell, typename Convert>
ValueType::Enum Guess(const std::vector<Cell>& cells, Convert convert) {
  for (ValueType::Enum type : kGuesses) {
    bool fits = true;
    for (const Cell& cell : cells) {
      if (!convert(cell, type)) {
        fits = false;
        break;
      }
    }
    if (fits) return type;
  }
  return ValueType::STRING;
}

}  // namespace

ValueType::Enum GuessType(const std::vector<std::string>& cells, CellContext& cx) {
  return Guess(cells, [&cx](const std::string& cell, ValueType::Enum type) {
    return cell.empty() || TextValue(cell, type, cx).ok();
  });
}

ValueType::Enum GuessType(const std::vector<nlohmann::json>& cells, CellContext& cx) {
  return Guess(cells, [&cx](const nlohmann::json& cell, ValueType::Enum type) {
    return JsonValue(cell, type, cx).ok();
  });
}

}  // namespace granary::cli
