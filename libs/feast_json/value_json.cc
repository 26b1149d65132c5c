#include "libs/feast_json/value_json.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

#include "libs/feast_json/json_kind.h"
#include "libs/feast_json/utf8.h"

namespace granary::feast_json {
namespace {

using nlohmann::json;
using types::v1::Value;

json DoubleToJson(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  return d;
}

// The double nearest the float's shortest round-trip decimal, so that 0.1f prints as 0.1.
// Widening directly would print every binary digit of the float (0.10000000149011612).
json FloatToJson(float f) {
  if (!std::isfinite(f)) return DoubleToJson(f);
  char buffer[32];
  const std::to_chars_result written = std::to_chars(buffer, buffer + sizeof(buffer), f);
  double d = f;
  if (written.ec == std::errc()) std::from_chars(buffer, written.ptr, d);
  return d;
}

json StringToJson(const std::string& s) { return ToValidUtf8(s); }

json BytesToJson(const std::string& b) { return absl::Base64Escape(b); }

template <typename List, typename Convert>
json ListToJson(const List& list, Convert convert) {
  json out = json::array();
  for (const auto& element : list.val()) out.push_back(convert(element));
  return out;
}

json Identity(int64_t v) { return v; }
json Bool(bool v) { return v; }

}  // namespace

json ValueToJson(const Value& value) {
  switch (value.val_case()) {
    case Value::kBytesVal:
      return BytesToJson(value.bytes_val());
    case Value::kStringVal:
      return StringToJson(value.string_val());
    case Value::kInt32Val:
      return value.int32_val();
    case Value::kInt64Val:
      return value.int64_val();
    case Value::kDoubleVal:
      return DoubleToJson(value.double_val());
    case Value::kFloatVal:
      return FloatToJson(value.float_val());
    case Value::kBoolVal:
      return value.bool_val();
    case Value::kUnixTimestampVal:
      return value.unix_timestamp_val();
    case Value::kBytesListVal:
      return ListToJson(value.bytes_list_val(), BytesToJson);
    case Value::kStringListVal:
      return ListToJson(value.string_list_val(), StringToJson);
    case Value::kInt32ListVal:
      return ListToJson(value.int32_list_val(), Identity);
    case Value::kInt64ListVal:
      return ListToJson(value.int64_list_val(), Identity);
    case Value::kDoubleListVal:
      return ListToJson(value.double_list_val(), DoubleToJson);
    case Value::kFloatListVal:
      return ListToJson(value.float_list_val(), FloatToJson);
    case Value::kBoolListVal:
      return ListToJson(value.bool_list_val(), Bool);
    case Value::kUnixTimestampListVal:
      return ListToJson(value.unix_timestamp_list_val(), Identity);
    case Value::kNullVal:
    case Value::VAL_NOT_SET:
      break;
  }
  return nullptr;
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
