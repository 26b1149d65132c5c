#include "libs/transforms/value_conversion.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

namespace granary::transforms {
namespace {

using types::v1::Value;
using types::v1::ValueType;

bool IsInteger(ValueType::Enum t) { return t == ValueType::INT32 || t == ValueType::INT64; }
bool IsFloat(ValueType::Enum t) { return t == ValueType::FLOAT || t == ValueType::DOUBLE; }

absl::Status Unwanted(const Value& value, ValueType::Enum to) {
  const auto* field = Value::descriptor()->FindFieldByNumber(static_cast<int>(value.val_case()));
  return absl::InvalidArgumentError(absl::StrCat("a ", field == nullptr ? "?" : field->name(),
                                                 " value, want ", ValueType::Enum_Name(to)));
}

}  // namespace

bool FitsFloat(double v) {
  return !std::isfinite(v) || std::fabs(v) <= std::numeric_limits<float>::max();
}

bool Convertible(ValueType::Enum from, ValueType::Enum to) {
  if (from == to) return true;
  if (IsInteger(from)) return IsInteger(to) || IsFloat(to);
  return IsFloat(from) && IsFloat(to);
}

absl::StatusOr<Value> ConvertValue(const Value& value, ValueType::Enum to) {
  if (value.val_case() == Value::VAL_NOT_SET || value.has_null_val()) return value;
  // The oneof's field numbers are the ValueType numbers.
  const auto from = static_cast<ValueType::Enum>(value.val_case());
  if (from == to) return value;
  if (!Convertible(from, to)) return Unwanted(value, to);
  Value out;
  if (IsInteger(from)) {
    const int64_t v = from == ValueType::INT32 ? value.int32_val() : value.int64_val();
    switch (to) {
      case ValueType::INT32:
        if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
          return absl::InvalidArgumentError(absl::StrCat(v, " is out of INT32's range"));
        }
        out.set_int32_val(static_cast<int32_t>(v));
        break;
      case ValueType::INT64:
        out.set_int64_val(v);
        break;
      case ValueType::FLOAT:
        out.set_float_val(static_cast<float>(v));
        break;
      default:
        out.set_double_val(static_cast<double>(v));
        break;
    }
    return out;
  }
  // FLOAT and DOUBLE.
  if (to == ValueType::FLOAT) {
    const double v = value.double_val();
    if (!FitsFloat(v)) {
      return absl::InvalidArgumentError(absl::StrCat(v, " is out of FLOAT's range"));
    }
    out.set_float_val(static_cast<float>(v));
  } else {
    out.set_double_val(value.float_val());
  }
  return out;
}

}  // namespace granary::transforms
