#include "libs/feast_json/push_json.h"

#include <cmath>
#include <limits>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

#include "libs/feast_json/json_kind.h"
#include "libs/feast_json/value_json.h"

namespace granary::feast_json {
namespace {

using types::v1::Value;
using types::v1::ValueType;
using json = nlohmann::json;

absl::Status Expected(absl::string_view what, const json& found) {
  return absl::InvalidArgumentError(absl::StrCat("expected ", what, ", found ", Describe(found)));
}

absl::StatusOr<int64_t> Integer(const json& v) {
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return Expected("an integer in the int64 range", v);
    }
    return v.get<int64_t>();
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    // 3.0 is an integer written by a serializer that knows only doubles (pandas does this).
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.2e18) {
      return static_cast<int64_t>(d);
    }
  }
  return Expected("an integer", v);
}

absl::StatusOr<double> Number(const json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (s == "Infinity") return std::numeric_limits<double>::infinity();
    if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
  }
  return Expected("a number", v);
}

// Seconds since the epoch: an integer, or an RFC 3339 string.
absl::StatusOr<int64_t> Timestamp(const json& v) {
  if (v.is_string()) {
    std::optional<absl::Time> t = ParseFeastTime(v.get_ref<const std::string&>());
    if (!t.has_value()) return Expected("an RFC 3339 time", v);
    return absl::ToUnixSeconds(*t);
  }
  return Integer(v);
}

absl::Status Scalar(const json& v, ValueType::Enum dtype, Value* out) {
  switch (dtype) {
    case ValueType::STRING:
      if (!v.is_string()) return Expected("a string", v);
      out->set_string_val(v.get<std::string>());
      return absl::OkStatus();
    case ValueType::BYTES: {
      std::string bytes;
      if (!v.is_string() || !absl::Base64Unescape(v.get<std::string>(), &bytes)) {
        return Expected("a base64 string", v);
      }
      out->set_bytes_val(bytes);
      return absl::OkStatus();
    }
    case ValueType::BOOL:
      if (!v.is_boolean()) return Expected("true or false", v);
      out->set_bool_val(v.get<bool>());
      return absl::OkStatus();
    case ValueType::INT32: {
      auto i = Integer(v);
      if (!i.ok()) return i.status();
      if (*i < INT32_MIN || *i > INT32_MAX) return Expected("an integer in the int32 range", v);
      out->set_int32_val(static_cast<int32_t>(*i));
      return absl::OkStatus();
    }
    case ValueType::INT64: {
      auto i = Integer(v);
      if (!i.ok()) return i.status();
      out->set_int64_val(*i);
      return absl::OkStatus();
    }
    case ValueType::UNIX_TIMESTAMP: {
      auto t = Timestamp(v);
      if (!t.ok()) return t.status();
      out->set_unix_timestamp_val(*t);
      return absl::OkStatus();
    }
    case ValueType::DOUBLE: {
      auto d = Number(v);
      if (!d.ok()) return d.status();
      out->set_double_val(*d);
      return absl::OkStatus();
    }
    case ValueType::FLOAT: {
      auto d = Number(v);
      if (!d.ok()) return d.status();
      out->set_float_val(static_cast<float>(*d));
      return absl::OkStatus();
    }
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "the column's type ", ValueType::Enum_Name(dtype), " cannot come from JSON"));
  }
}

// The scalar type of a list type.
ValueType::Enum ElementOf(ValueType::Enum list) {
  return static_cast<ValueType::Enum>(static_cast<int>(list) - 10);
}

template <typename List, typename Get>
absl::Status ListOf(const json& v, ValueType::Enum element, List* list, Get get) {
  for (size_t i = 0; i < v.size(); ++i) {
    Value item;
    absl::Status status = Scalar(v[i], element, &item);
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("[", i, "]: ", status.message()));
    }
    list->add_val(get(item));
  }
  return absl::OkStatus();
}

absl::Status List(const json& v, ValueType::Enum dtype, Value* out) {
  if (!v.is_array()) return Expected("a list", v);
  ValueType::Enum element = ElementOf(dtype);
  switch (dtype) {
    case ValueType::BYTES_LIST:
      return ListOf(v, element, out->mutable_bytes_list_val(),
                    [](const Value& x) { return x.bytes_val(); });
    case ValueType::STRING_LIST:
      return ListOf(v, element, out->mutable_string_list_val(),
                    [](const Value& x) { return x.string_val(); });
    case ValueType::INT32_LIST:
      return ListOf(v, element, out->mutable_int32_list_val(),
                    [](const Value& x) { return x.int32_val(); });
    case ValueType::INT64_LIST:
      return ListOf(v, element, out->mutable_int64_list_val(),
                    [](const Value& x) { return x.int64_val(); });
    case ValueType::DOUBLE_LIST:
      return ListOf(v, element, out->mutable_double_list_val(),
                    [](const Value& x) { return x.double_val(); });
    case ValueType::FLOAT_LIST:
      return ListOf(v, element, out->mutable_float_list_val(),
                    [](const Value& x) { return x.float_val(); });
    case ValueType::BOOL_LIST:
      return ListOf(v, element, out->mutable_bool_list_val(),
                    [](const Value& x) { return x.bool_val(); });
    case ValueType::UNIX_TIMESTAMP_LIST:
      return ListOf(v, element, out->mutable_unix_timestamp_list_val(),
                    [](const Value& x) { return x.unix_timestamp_val(); });
    default:
      return Scalar(v, dtype, out);
  }
}

absl::Status Field(absl::string_view name, absl::Status status) {
  if (status.ok()) return status;
  return absl::InvalidArgumentError(absl::StrCat(name, ": ", status.message()));
}

}  // namespace

std::optional<absl::Time> ParseFeastTime(absl::string_view text) {
  std::string normal(text);
  if (normal.size() > 10 && normal[10] == ' ') normal[10] = 'T';
  absl::Time t;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, normal, &t, &error)) return t;
  // No zone: UTC.
  if (absl::ParseTime("%Y-%m-%dT%H:%M:%E*S", normal, absl::UTCTimeZone(), &t, &error)) return t;
  if (absl::ParseTime("%Y-%m-%d", normal, absl::UTCTimeZone(), &t, &error)) return t;
  return std::nullopt;
}

absl::StatusOr<Value> TypedValueFromJson(const json& input, ValueType::Enum dtype) {
  Value value;
  if (input.is_null()) {
    value.set_null_val(types::v1::NULL_);
    return value;
  }
  absl::Status status = static_cast<int>(dtype) > 10 && dtype != ValueType::NULL_
                            ? List(input, dtype, &value)
                            : Scalar(input, dtype, &value);
  if (!status.ok()) return status;
  return value;
}

absl::StatusOr<PushBody> ParsePushBody(absl::string_view text, absl::string_view route) {
  json body = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return absl::InvalidArgumentError("body: not JSON");
  if (!body.is_object()) return Field("body", Expected("an object", body));
  PushBody out;
  const bool push = route == "push";
  for (const auto& [key, value] : body.items()) {
    if (value.is_null()) continue;
    if (key == "df") {
      if (!value.is_object()) return Field("df", Expected("an object of columns", value));
      out.df = value;
    } else if (key == "project" || (push && key == "push_source_name") ||
               (!push && key == "feature_view_name")) {
      if (!value.is_string()) return Field(key, Expected("a string", value));
      (key == "project" ? out.project
       : push           ? out.push_source_name
                        : out.feature_view_name) = value.get<std::string>();
    } else if (push && key == "to") {
      std::string to = value.is_string() ? value.get<std::string>() : "";
      if (to == "online") {
        out.to = ingestion::v1::ONLINE;
      } else if (to == "offline") {
        out.to = ingestion::v1::OFFLINE;
      } else if (to == "online_and_offline") {
        out.to = ingestion::v1::ONLINE_AND_OFFLINE;
      } else {
        return Field("to", Expected("\"online\", \"offline\" or \"online_and_offline\"", value));
      }
    } else if (key == "allow_registry_cache" || key == "transform_on_write") {
      // Feast's hints about its own caches: nothing to do here.
    } else {
      return absl::InvalidArgumentError(absl::StrCat("body: unknown field \"", key, "\""));
    }
  }
  if (out.df.is_null()) return absl::InvalidArgumentError("df: required");
  if (push && out.push_source_name.empty()) {
    return absl::InvalidArgumentError("push_source_name: required");
  }
  if (!push && out.feature_view_name.empty()) {
    return absl::InvalidArgumentError("feature_view_name: required");
  }
  return out;
}

absl::Status FillPushColumns(const json& df, const ColumnTypes& types,
                             ingestion::v1::PushRequest* request) {
  size_t rows = 0;
  bool first = true;
  for (const auto& [name, cells] : df.items()) {
    std::string field = absl::StrCat("df.", name);
    if (!cells.is_array()) return Field(field, Expected("a list of values", cells));
    if (!first && cells.size() != rows) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": ", cells.size(), " values where the other columns have ", rows));
    }
    first = false;
    rows = cells.size();
    std::optional<ValueType::Enum> dtype = types(name);
    auto& column = (*request->mutable_columns())[name];
    for (size_t i = 0; i < cells.size(); ++i) {
      absl::StatusOr<Value> value =
          dtype.has_value() ? TypedValueFromJson(cells[i], *dtype) : ValueFromJson(cells[i]);
      if (!value.ok()) return Field(absl::StrCat(field, "[", i, "]"), value.status());
      *column.add_val() = *std::move(value);
    }
  }
  return absl::OkStatus();
}

}  // namespace granary::feast_json
