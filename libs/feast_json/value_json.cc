#include "libs/feast_json/value_json.h"

#include <cstdint>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

#include "libs/feast_json/json_kind.h"
#include "libs/feast_json/json_writer.h"

namespace granary::feast_json {
namespace {

using nlohmann::json;
using types::v1::Value;

void AppendBytes(const std::string& bytes, std::string* out) {
  AppendJsonString(absl::Base64Escape(bytes), out);
}

void AppendBool(bool v, std::string* out) { *out += v ? "true" : "false"; }

}  // namespace

void AppendValueJson(const Value& value, std::string* out) {
  switch (value.val_case()) {
    case Value::kBytesVal:
      return AppendBytes(value.bytes_val(), out);
    case Value::kStringVal:
      return AppendJsonString(value.string_val(), out);
    case Value::kInt32Val:
      return AppendJsonInt(value.int32_val(), out);
    case Value::kInt64Val:
      return AppendJsonInt(value.int64_val(), out);
    case Value::kDoubleVal:
      return AppendJsonDouble(value.double_val(), out);
    case Value::kFloatVal:
      return AppendJsonFloat(value.float_val(), out);
    case Value::kBoolVal:
      return AppendBool(value.bool_val(), out);
    case Value::kUnixTimestampVal:
      return AppendJsonInt(value.unix_timestamp_val(), out);
    case Value::kBytesListVal:
      return AppendJsonArray(value.bytes_list_val().val(), AppendBytes, out);
    case Value::kStringListVal:
      return AppendJsonArray(value.string_list_val().val(), AppendJsonString, out);
    case Value::kInt32ListVal:
      return AppendJsonArray(value.int32_list_val().val(), AppendJsonInt, out);
    case Value::kInt64ListVal:
      return AppendJsonArray(value.int64_list_val().val(), AppendJsonInt, out);
    case Value::kDoubleListVal:
      return AppendJsonArray(value.double_list_val().val(), AppendJsonDouble, out);
    case Value::kFloatListVal:
      return AppendJsonArray(value.float_list_val().val(), AppendJsonFloat, out);
    case Value::kBoolListVal:
      return AppendJsonArray(value.bool_list_val().val(), AppendBool, out);
    case Value::kUnixTimestampListVal:
      return AppendJsonArray(value.unix_timestamp_list_val().val(), AppendJsonInt, out);
    case Value::kNullVal:
    case Value::VAL_NOT_SET:
      break;
  }
  *out += "null";
}

std::string ValueJson(const Value& value) {
  std::string text;
  AppendValueJson(value, &text);
  return text;
}

absl::StatusOr<Value> ValueFromJson(const json& input) {
  Value value;
  switch (input.type()) {
    case json::value_t::null:
      value.set_null_val(types::v1::NULL_);
      return value;
    case json::value_t::boolean:
      value.set_bool_val(input.get<bool>());
      return value;
    case json::value_t::string:
      value.set_string_val(input.get_ref<const std::string&>());
      return value;
    case json::value_t::number_integer:
      value.set_int64_val(input.get<int64_t>());
      return value;
    case json::value_t::number_unsigned: {
      // The parser gives every non-negative integer this type; most fit in an int64.
      const uint64_t u = input.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return absl::InvalidArgumentError(
            absl::StrCat("integer ", u, " is outside the int64 range"));
      }
      value.set_int64_val(static_cast<int64_t>(u));
      return value;
    }
    case json::value_t::number_float:
      value.set_double_val(input.get<double>());
      return value;
    case json::value_t::array:
    case json::value_t::object:
    case json::value_t::binary:
    case json::value_t::discarded:
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "expected a single value (number, string, bool or null), found ", Describe(input)));
}

}  // namespace granary::feast_json
