#include "libs/keys/entity_key.h"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "absl/strings/str_cat.h"

#include "libs/base/status_macros.h"

namespace granary::keys {
namespace {

using types::v1::Value;
using types::v1::ValueType;

void AppendU32(uint32_t v, std::string* out) {
  char b[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
               static_cast<char>(v >> 24)};
  out->append(b, 4);
}

void AppendU64(uint64_t v, std::string* out) {
  AppendU32(static_cast<uint32_t>(v), out);
  AppendU32(static_cast<uint32_t>(v >> 32), out);
}

}  // namespace

bool IsKeyType(ValueType::Enum type) {
  return type == ValueType::STRING || type == ValueType::BYTES || type == ValueType::INT32 ||
         type == ValueType::INT64 || type == ValueType::UNIX_TIMESTAMP;
}

ValueType::Enum TypeOf(const Value& value) {
  switch (value.val_case()) {
    case Value::kBytesVal:
      return ValueType::BYTES;
    case Value::kStringVal:
      return ValueType::STRING;
    case Value::kInt32Val:
      return ValueType::INT32;
    case Value::kInt64Val:
      return ValueType::INT64;
    case Value::kDoubleVal:
      return ValueType::DOUBLE;
    case Value::kFloatVal:
      return ValueType::FLOAT;
    case Value::kBoolVal:
      return ValueType::BOOL;
    case Value::kUnixTimestampVal:
      return ValueType::UNIX_TIMESTAMP;
    case Value::kBytesListVal:
      return ValueType::BYTES_LIST;
    case Value::kStringListVal:
      return ValueType::STRING_LIST;
    case Value::kInt32ListVal:
      return ValueType::INT32_LIST;
    case Value::kInt64ListVal:
      return ValueType::INT64_LIST;
    case Value::kDoubleListVal:
      return ValueType::DOUBLE_LIST;
    case Value::kFloatListVal:
      return ValueType::FLOAT_LIST;
    case Value::kBoolListVal:
      return ValueType::BOOL_LIST;
    case Value::kUnixTimestampListVal:
      return ValueType::UNIX_TIMESTAMP_LIST;
    case Value::kNullVal:
      return ValueType::NULL_;
    case Value::VAL_NOT_SET:
      break;
  }
  return ValueType::INVALID;
}

const Value* CoerceKeyValue(const Value& in, ValueType::Enum type, Value* scratch) {
  if (TypeOf(in) == type) return &in;
  switch (type) {
    case ValueType::INT64:
      if (in.val_case() != Value::kInt32Val) return nullptr;
      scratch->set_int64_val(in.int32_val());
      return scratch;
    case ValueType::INT32:
      if (in.val_case() != Value::kInt64Val ||
          in.int64_val() < std::numeric_limits<int32_t>::min() ||
          in.int64_val() > std::numeric_limits<int32_t>::max()) {
        return nullptr;
      }
      scratch->set_int32_val(static_cast<int32_t>(in.int64_val()));
      return scratch;
    case ValueType::UNIX_TIMESTAMP:
      if (in.val_case() != Value::kInt64Val) return nullptr;
      scratch->set_unix_timestamp_val(in.int64_val());
      return scratch;
    default:
      return nullptr;
  }
}

absl::Status AppendKeyValue(const Value& value, std::string* out) {
  switch (value.val_case()) {
    case Value::kStringVal:
      AppendU32(ValueType::STRING, out);
      AppendU32(static_cast<uint32_t>(value.string_val().size()), out);
      out->append(value.string_val());
      return absl::OkStatus();
    case Value::kBytesVal:
      AppendU32(ValueType::BYTES, out);
      AppendU32(static_cast<uint32_t>(value.bytes_val().size()), out);
      out->append(value.bytes_val());
      return absl::OkStatus();
    case Value::kInt32Val:
      AppendU32(ValueType::INT32, out);
      AppendU32(4, out);
      AppendU32(static_cast<uint32_t>(value.int32_val()), out);
      return absl::OkStatus();
    case Value::kInt64Val:
      AppendU32(ValueType::INT64, out);
      AppendU32(8, out);
      AppendU64(static_cast<uint64_t>(value.int64_val()), out);
      return absl::OkStatus();
    case Value::kUnixTimestampVal:
      AppendU32(ValueType::UNIX_TIMESTAMP, out);
      AppendU32(8, out);
      AppendU64(static_cast<uint64_t>(value.unix_timestamp_val()), out);
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("a ", ValueType::Enum_Name(TypeOf(value)),
                       " value cannot be part of an entity key (STRING, BYTES, INT32, INT64 or "
                       "UNIX_TIMESTAMP)"));
  }
}

std::string JoinKeysPrefix(absl::Span<const std::string> sorted_join_keys) {
  std::string out;
  AppendU32(static_cast<uint32_t>(sorted_join_keys.size()), &out);
  for (const std::string& name : sorted_join_keys) {
    AppendU32(ValueType::STRING, &out);
    AppendU32(static_cast<uint32_t>(name.size()), &out);
    out.append(name);
  }
  return out;
}

absl::StatusOr<std::string> SerializeEntityKey(
    std::vector<std::pair<std::string, Value>> join_keys) {
  std::sort(join_keys.begin(), join_keys.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> names;
  names.reserve(join_keys.size());
  for (const auto& [name, value] : join_keys) names.push_back(name);
  std::string out = JoinKeysPrefix(names);
  for (const auto& [name, value] : join_keys) RETURN_IF_ERROR(AppendKeyValue(value, &out));
  return out;
}

absl::StatusOr<std::string> RedisKey(std::vector<std::pair<std::string, Value>> join_keys,
                                     absl::string_view project) {
  ASSIGN_OR_RETURN(std::string key, SerializeEntityKey(std::move(join_keys)));
  key.append(project.data(), project.size());
  return key;
}

absl::StatusOr<absl::string_view> ProjectOfKey(absl::string_view key) {
  auto u32 = [&key](uint32_t* v) {
    if (key.size() < 4) return false;
    *v = static_cast<uint32_t>(static_cast<unsigned char>(key[0])) |
         static_cast<uint32_t>(static_cast<unsigned char>(key[1])) << 8 |
         static_cast<uint32_t>(static_cast<unsigned char>(key[2])) << 16 |
         static_cast<uint32_t>(static_cast<unsigned char>(key[3])) << 24;
    key.remove_prefix(4);
    return true;
  };
  // (type, length, bytes) items: the join key names, then as many values.
  auto skip_item = [&](bool name) {
    uint32_t type, length;
    if (!u32(&type) || !u32(&length) || length > key.size()) return false;
    if (name ? type != ValueType::STRING : !IsKeyType(static_cast<ValueType::Enum>(type))) {
      return false;
    }
    key.remove_prefix(length);
    return true;
  };
  const absl::Status malformed = absl::InvalidArgumentError("not a serialized entity key");
  uint32_t count;
  // A key has at least one join key (the dummy one for views without entities); more than a
  // few dozen is no key of ours.
  if (!u32(&count) || count == 0 || count > 64) return malformed;
  for (uint32_t i = 0; i < 2 * count; ++i) {
    if (!skip_item(/*name=*/i < count)) return malformed;
  }
  return key;
}

}  // namespace granary::keys
