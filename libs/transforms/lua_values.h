// Values between Granary and Lua. In: integers (INT32, INT64, UNIX_TIMESTAMP seconds) as Lua
// integers, FLOAT and DOUBLE as numbers, STRING and BYTES as strings, BOOL as booleans, lists
// as sequences, null as nil. Out: a result converted to the output's declared type, strictly
// (no string-to-number coercion; a float is an integer only when it has no fraction).
//
//   PushValue(L, value);
//   ASSIGN_OR_RETURN(types::v1::Value out, ToValue(L, -1, types::v1::ValueType::DOUBLE));
#ifndef GRANARY_LIBS_TRANSFORMS_LUA_VALUES_H_
#define GRANARY_LIBS_TRANSFORMS_LUA_VALUES_H_

#include "absl/status/statusor.h"
#include "granary/types/v1/value.pb.h"

struct lua_State;

namespace granary::transforms {

void PushValue(lua_State* L, const types::v1::Value& value);

// The Lua value at `index` as a `type`; nil gives an unset Value. INVALID_ARGUMENT saying what
// was returned and what was wanted. Uses raw access only, so no Lua code runs.
absl::StatusOr<types::v1::Value> ToValue(lua_State* L, int index, types::v1::ValueType::Enum type);

}  // namespace granary::transforms

#endif  // GRANARY_LIBS_TRANSFORMS_LUA_VALUES_H_
