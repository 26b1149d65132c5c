#include "services/ingestion/push_values.h"

#include "absl/strings/str_cat.h"

#include "libs/keys/entity_key.h"

namespace granary::ingestion {
namespace {

using types::v1::Value;
using types::v1::ValueType;

template <typename To, typename From>
void CopyList(const From& from, To* to) {
  for (auto v : from.val()) to->add_val(v);
}

}  // namespace

bool ToFeatureType(ValueType::Enum dtype, Value* value) {
  const ValueType::Enum type = keys::TypeOf(*value);
  if (value->val_case() == Value::VAL_NOT_SET || value->val_case() == Value::kNullVal) {
    // Stored as an explicit null (an empty serialized Value would mean "not written").
    value->set_null_val(types::v1::NULL_);
    return true;
  }
  if (type == dtype) return true;
  switch (dtype) {
    case ValueType::INT64:
      if (type != ValueType::INT32) return false;
      value->set_int64_val(value->int32_val());
      return true;
    case ValueType::DOUBLE:
      if (type != ValueType::FLOAT) return false;
      value->set_double_val(value->float_val());
      return true;
    case ValueType::UNIX_TIMESTAMP:
      if (type != ValueType::INT64) return false;
      value->set_unix_timestamp_val(value->int64_val());
      return true;
    case ValueType::INT64_LIST: {
      if (type != ValueType::INT32_LIST) return false;
      types::v1::Int64List list;
      CopyList(value->int32_list_val(), &list);
      *value->mutable_int64_list_val() = std::move(list);
      return true;
    }
    case ValueType::DOUBLE_LIST: {
      if (type != ValueType::FLOAT_LIST) return false;
      types::v1::DoubleList list;
      CopyList(value->float_list_val(), &list);
      *value->mutable_double_list_val() = std::move(list);
      return true;
    }
    case ValueType::UNIX_TIMESTAMP_LIST: {
      if (type != ValueType::INT64_LIST) return false;
      types::v1::Int64List list = value->int64_list_val();
      *value->mutable_unix_timestamp_list_val() = std::move(list);
      return true;
    }
    default:
      return false;
  }
}

namespace {

absl::StatusOr<absl::Time> InRange(absl::Time t) {
  // Years 1 to 9999: what every store (and a protobuf Timestamp) can hold.
  static const absl::Time kFirst =
      absl::FromCivil(absl::CivilSecond(1, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  static const absl::Time kLast =
      absl::FromCivil(absl::CivilSecond(9999, 12, 31, 23, 59, 59), absl::UTCTimeZone());
  if (t < kFirst || t > kLast) {
    return absl::InvalidArgumentError(
        absl::StrCat(absl::FormatTime(t, absl::UTCTimeZone()), " is outside years 1 to 9999"));
  }
  return t;
}

absl::StatusOr<absl::Time> SecondsInRange(int64_t seconds) {
  return InRange(absl::FromUnixSeconds(seconds));
}

}  // namespace

absl::Status CheckTimeValue(const Value& value) {
  if (value.val_case() == Value::kUnixTimestampVal) {
    return SecondsInRange(value.unix_timestamp_val()).status();
  }
  if (value.val_case() == Value::kUnixTimestampListVal) {
    const auto& list = value.unix_timestamp_list_val().val();
    for (int i = 0; i < list.size(); ++i) {
      absl::Status s = SecondsInRange(list[i]).status();
      if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("element ", i, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::Time> CellTime(const Value& value) {
  switch (value.val_case()) {
    case Value::kUnixTimestampVal:
      return SecondsInRange(value.unix_timestamp_val());
    case Value::kInt64Val:
      return SecondsInRange(value.int64_val());
    case Value::kStringVal: {
      absl::Time t;
      std::string error;
      if (absl::ParseTime(absl::RFC3339_full, value.string_val(), &t, &error)) return InRange(t);
      return absl::InvalidArgumentError(
          absl::StrCat("\"", value.string_val(), "\" is not an RFC 3339 time (", error, ")"));
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("expected a time (UNIX_TIMESTAMP, INT64 seconds or an RFC 3339 string), "
                       "found ",
                       DescribeValue(value)));
  }
}

std::string DescribeValue(const Value& value) {
  switch (value.val_case()) {
    case Value::VAL_NOT_SET:
      return "an empty value";
    case Value::kNullVal:
      return "a null";
    default: {
      std::string name = ValueType::Enum_Name(keys::TypeOf(value));
      return absl::StrCat(name[0] == 'I' ? "an " : "a ", name, " value");
    }
  }
}

}  // namespace granary::ingestion
