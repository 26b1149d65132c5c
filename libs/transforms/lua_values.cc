#include "libs/transforms/lua_values.h"

#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"

#include "libs/base/status_macros.h"
#include "libs/transforms/lua.h"
#include "libs/transforms/value_conversion.h"

namespace granary::transforms {
namespace {

using types::v1::Value;
using types::v1::ValueType;

template <typename List>
void PushList(lua_State* L, const List& list) {
  lua_createtable(L, list.val_size(), 0);
  for (int i = 0; i < list.val_size(); ++i) {
    using T = std::decay_t<decltype(list.val(i))>;
    if constexpr (std::is_same_v<T, std::string>) {
      lua_pushlstring(L, list.val(i).data(), list.val(i).size());
    } else if constexpr (std::is_same_v<T, bool>) {
      lua_pushboolean(L, list.val(i));
    } else if constexpr (std::is_integral_v<T>) {
      lua_pushinteger(L, list.val(i));
    } else {
      lua_pushnumber(L, list.val(i));
    }
    lua_rawseti(L, -2, i + 1);
  }
}

std::string Described(lua_State* L, int index) {
  if (lua_type(L, index) == LUA_TNUMBER) {
    return lua_isinteger(L, index) ? "an integer" : "a float";
  }
  return absl::StrCat("a ", lua_typename(L, lua_type(L, index)));
}

absl::Status OutOfFloatRange(double v) {
  return absl::InvalidArgumentError(absl::StrCat("returned ", v, ", out of FLOAT's range"));
}

absl::Status WrongType(lua_State* L, int index, absl::string_view want) {
  return absl::InvalidArgumentError(
      absl::StrCat("returned ", Described(L, index), ", want ", want));
}

absl::StatusOr<int64_t> Integer(lua_State* L, int index, absl::string_view want) {
  if (lua_type(L, index) != LUA_TNUMBER) return WrongType(L, index, want);
  int is_integer = 0;
  lua_Integer v = lua_tointegerx(L, index, &is_integer);
  if (!is_integer) {
    return absl::InvalidArgumentError(
        absl::StrCat("returned ", lua_tonumber(L, index), ", not an integer, want ", want));
  }
  return v;
}

absl::StatusOr<int32_t> Int32(lua_State* L, int index) {
  ASSIGN_OR_RETURN(int64_t v, Integer(L, index, "INT32"));
  if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
    return absl::InvalidArgumentError(absl::StrCat("returned ", v, ", out of range for INT32"));
  }
  return static_cast<int32_t>(v);
}

absl::StatusOr<double> Number(lua_State* L, int index, absl::string_view want) {
  if (lua_type(L, index) != LUA_TNUMBER) return WrongType(L, index, want);
  return static_cast<double>(lua_tonumber(L, index));
}

absl::StatusOr<std::string> String(lua_State* L, int index, absl::string_view want) {
  if (lua_type(L, index) != LUA_TSTRING) return WrongType(L, index, want);
  size_t size = 0;
  const char* s = lua_tolstring(L, index, &size);
  return std::string(s, size);
}

absl::StatusOr<bool> Bool(lua_State* L, int index) {
  if (lua_type(L, index) != LUA_TBOOLEAN) return WrongType(L, index, "BOOL");
  return lua_toboolean(L, index) != 0;
}

// The elements of the sequence at `index`, each read by `read` into `add`.
template <typename Read, typename Add>
absl::Status ReadList(lua_State* L, int index, absl::string_view want, Read read, Add add) {
  if (lua_type(L, index) != LUA_TTABLE) return WrongType(L, index, want);
  const int table = lua_absindex(L, index);
  const lua_Unsigned n = lua_rawlen(L, table);
  for (lua_Unsigned i = 1; i <= n; ++i) {
    lua_rawgeti(L, table, static_cast<lua_Integer>(i));
    auto element = read(L, -1);
    lua_pop(L, 1);
    if (!element.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("element ", i, " of the list: ", element.status().message()));
    }
    add(*std::move(element));
  }
  return absl::OkStatus();
}

}  // namespace

void PushValue(lua_State* L, const Value& value) {
  switch (value.val_case()) {
    case Value::kBytesVal:
      lua_pushlstring(L, value.bytes_val().data(), value.bytes_val().size());
      return;
    case Value::kStringVal:
      lua_pushlstring(L, value.string_val().data(), value.string_val().size());
      return;
    case Value::kInt32Val:
      lua_pushinteger(L, value.int32_val());
      return;
    case Value::kInt64Val:
      lua_pushinteger(L, value.int64_val());
      return;
    case Value::kUnixTimestampVal:
      lua_pushinteger(L, value.unix_timestamp_val());
      return;
    case Value::kDoubleVal:
      lua_pushnumber(L, value.double_val());
      return;
    case Value::kFloatVal:
      lua_pushnumber(L, value.float_val());
      return;
    case Value::kBoolVal:
      lua_pushboolean(L, value.bool_val());
      return;
    case Value::kBytesListVal:
      return PushList(L, value.bytes_list_val());
    case Value::kStringListVal:
      return PushList(L, value.string_list_val());
    case Value::kInt32ListVal:
      return PushList(L, value.int32_list_val());
    case Value::kInt64ListVal:
      return PushList(L, value.int64_list_val());
    case Value::kDoubleListVal:
      return PushList(L, value.double_list_val());
    case Value::kFloatListVal:
      return PushList(L, value.float_list_val());
    case Value::kBoolListVal:
      return PushList(L, value.bool_list_val());
    case Value::kUnixTimestampListVal:
      return PushList(L, value.unix_timestamp_list_val());
    case Value::kNullVal:
    case Value::VAL_NOT_SET:
      lua_pushnil(L);
      return;
  }
  lua_pushnil(L);
}

absl::StatusOr<Value> ToValue(lua_State* L, int index, ValueType::Enum type) {
  Value out;
  if (lua_isnil(L, index)) return out;
  auto integer = [](absl::string_view want) {
    return [want](lua_State* L, int i) { return Integer(L, i, want); };
  };
  auto number = [](lua_State* L, int i) { return Number(L, i, "a number"); };
  auto string = [](lua_State* L, int i) { return String(L, i, "a string"); };
  switch (type) {
    case ValueType::BYTES: {
      ASSIGN_OR_RETURN(*out.mutable_bytes_val(), String(L, index, "BYTES (a string)"));
      return out;
    }
    case ValueType::STRING: {
      ASSIGN_OR_RETURN(*out.mutable_string_val(), String(L, index, "STRING"));
      return out;
    }
    case ValueType::INT32: {
      ASSIGN_OR_RETURN(int32_t v, Int32(L, index));
      out.set_int32_val(v);
      return out;
    }
    case ValueType::INT64: {
      ASSIGN_OR_RETURN(int64_t v, Integer(L, index, "INT64"));
      out.set_int64_val(v);
      return out;
    }
    case ValueType::UNIX_TIMESTAMP: {
      ASSIGN_OR_RETURN(int64_t v, Integer(L, index, "UNIX_TIMESTAMP (integer seconds)"));
      out.set_unix_timestamp_val(v);
      return out;
    }
    case ValueType::DOUBLE: {
      ASSIGN_OR_RETURN(double v, Number(L, index, "DOUBLE"));
      out.set_double_val(v);
      return out;
    }
    case ValueType::FLOAT: {
      ASSIGN_OR_RETURN(double v, Number(L, index, "FLOAT"));
      if (!FitsFloat(v)) return OutOfFloatRange(v);
      out.set_float_val(static_cast<float>(v));
      return out;
    }
    case ValueType::BOOL: {
      ASSIGN_OR_RETURN(bool v, Bool(L, index));
      out.set_bool_val(v);
      return out;
    }
    case ValueType::BYTES_LIST: {
      auto* list = out.mutable_bytes_list_val();
      RETURN_IF_ERROR(ReadList(L, index, "BYTES_LIST (a sequence)", string,
                               [&](std::string v) { list->add_val(std::move(v)); }));
      return out;
    }
    case ValueType::STRING_LIST: {
      auto* list = out.mutable_string_list_val();
      RETURN_IF_ERROR(ReadList(L, index, "STRING_LIST (a sequence)", string,
                               [&](std::string v) { list->add_val(std::move(v)); }));
      return out;
    }
    case ValueType::INT32_LIST: {
      auto* list = out.mutable_int32_list_val();
      RETURN_IF_ERROR(ReadList(L, index, "INT32_LIST (a sequence)", Int32,
                               [&](int32_t v) { list->add_val(v); }));
      return out;
    }
    case ValueType::INT64_LIST: {
      auto* list = out.mutable_int64_list_val();
      RETURN_IF_ERROR(ReadList(L, index, "INT64_LIST (a sequence)", integer("an integer"),
                               [&](int64_t v) { list->add_val(v); }));
      return out;
    }
    case ValueType::UNIX_TIMESTAMP_LIST: {
      auto* list = out.mutable_unix_timestamp_list_val();
      RETURN_IF_ERROR(ReadList(L, index, "UNIX_TIMESTAMP_LIST (a sequence)", integer("an integer"),
                               [&](int64_t v) { list->add_val(v); }));
      return out;
    }
    case ValueType::DOUBLE_LIST: {
      auto* list = out.mutable_double_list_val();
      RETURN_IF_ERROR(ReadList(L, index, "DOUBLE_LIST (a sequence)", number,
                               [&](double v) { list->add_val(v); }));
      return out;
    }
    case ValueType::FLOAT_LIST: {
      auto* list = out.mutable_float_list_val();
      std::optional<double> too_big;
      RETURN_IF_ERROR(ReadList(L, index, "FLOAT_LIST (a sequence)", number, [&](double v) {
        if (!FitsFloat(v)) too_big = v;
        list->add_val(FitsFloat(v) ? static_cast<float>(v) : 0.0f);
      }));
      if (too_big.has_value()) return OutOfFloatRange(*too_big);
      return out;
    }
    case ValueType::BOOL_LIST: {
      auto* list = out.mutable_bool_list_val();
      RETURN_IF_ERROR(
          ReadList(L, index, "BOOL_LIST (a sequence)", Bool, [&](bool v) { list->add_val(v); }));
      return out;
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("output type ", ValueType::Enum_Name(type), " cannot be computed"));
  }
}

}  // namespace granary::transforms
